package runner_test

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

const pageCountDefinition = `streams:
  clicks:
    topic: clicks
    keyType: string
    valueType: json
  per_page:
    topic: clicks-per-page
    keyType: string
    valueType: long
pipelines:
  count_pages:
    from: clicks
    via:
      - type: groupBy
        mapper:
          expression: value["page"]
          resultType: string
      - type: count
      - type: toStream
    to: per_page
`

// latestCounts reads the per-page counts topic and returns the last count
// of every page.
func latestCounts(t *testing.T, bootstrap string, min int) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, r := range readAll(t, bootstrap, "clicks-per-page", min, 700*time.Millisecond) {
		if len(r.Value) != 8 {
			t.Fatalf("count of %d bytes", len(r.Value))
		}
		out[string(r.Key)] = int64(binary.BigEndian.Uint64(r.Value))
	}
	return out
}

// TestStatefulPipelineRestart runs a groupBy + count over a two-partition
// topic (a repartition topic and a changelog-backed store on Kafka), stops,
// and restarts: the counts continue from the restored store.
func TestStatefulPipelineRestart(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "clicks", 2)
	work := t.TempDir()
	writeDefinition(t, work, "pages.yaml", pageCountDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    pages: pages.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "pages", "commit.interval.ms": "100"})
	click := func(user, page string, p int32) *kgo.Record {
		return &kgo.Record{Topic: "clicks", Partition: p, Key: []byte(user), Value: []byte(`{"page":"` + page + `"}`)}
	}
	opts := runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))}
	rr := startRunner(t, opts)
	produce(t, cl, click("u1", "home", 0), click("u2", "home", 1), click("u3", "docs", 1))
	if got := latestCounts(t, b.Bootstrap, 3); got["home"] != 2 || got["docs"] != 1 {
		t.Fatalf("counts %v, want home=2 docs=1", got)
	}
	var internal []string
	for _, it := range rr.r.Topology().InternalTopics() {
		internal = append(internal, it.Name)
	}
	if s := strings.Join(internal, " "); !strings.Contains(s, "-repartition") || !strings.Contains(s, "-changelog") {
		t.Errorf("internal topics %s, want a repartition and a changelog topic", s)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}

	startRunner(t, opts)
	produce(t, cl, click("u4", "home", 0), click("u5", "docs", 0))
	if got := latestCounts(t, b.Bootstrap, 5); got["home"] != 3 || got["docs"] != 2 {
		t.Fatalf("counts after restart %v, want home=3 docs=2", got)
	}
}
