package workload

import (
	"sort"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
)

// Every workload is a valid KSML definition with one pipeline from the
// input topic to the output topic.
func TestWorkloadsAreValidDefinitions(t *testing.T) {
	for _, w := range []string{"passthrough", "python_map", "filter_map", "count", "window_count"} {
		src, err := KSML(w, "in-topic", "out-topic")
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		def, err := definition.Parse(w+".yaml", []byte(src), definition.Options{})
		if err != nil {
			t.Fatalf("%s does not parse: %v\n%s", w, err, src)
		}
		var topics []string
		for _, s := range def.Streams {
			topics = append(topics, s.Topic)
		}
		sort.Strings(topics)
		if len(def.Pipelines) != 1 || len(topics) != 2 || topics[0] != "in-topic" || topics[1] != "out-topic" {
			t.Errorf("%s: %d pipelines, stream topics %v; want 1 pipeline from in-topic to out-topic", w, len(def.Pipelines), topics)
		}
	}
	if _, err := KSML("nope", "a", "b"); err == nil || err.Error() != `unknown workload "nope"` {
		t.Errorf("unknown workload: error %v", err)
	}
}
