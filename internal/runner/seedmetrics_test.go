package runner_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// TestSeedMetricsConfiguration runs the seed's monitoring example: its
// `configuration.metrics` block (enabled, reporter: prometheus, tags) turns
// the Prometheus endpoint on although the runner config leaves it off, and
// every series carries the seed's application and team labels. The seed's
// `configuration.properties` reach the pipeline's Python code.
func TestSeedMetricsConfiguration(t *testing.T) {
	kafkatest.Parallel(t)
	shared := needShared(t)
	def := filepath.Join(shared, "acceptance/seed/definitions/service-discovery-and-metrics.yaml")
	b := startBroker(t)
	work := t.TempDir()
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    discovery: %q
  prometheus:
    host: 127.0.0.1
    port: %d
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: %d
`, work, work, def, freePort(t), freePort(t)), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "seed-metrics"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})

	if code, _ := httpGet(t, "http://"+rr.r.AppServerAddr()+"/ready"); code != http.StatusNoContent {
		t.Errorf("/ready = %d, want 204", code)
	}
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, &kgo.Record{Topic: "service-lookups", Key: []byte("orders"), Value: []byte(`{"service":"orders"}`)})
	waitFor(t, "one resolved lookup", 10*time.Second, func() bool {
		return rr.r.Counters().Get("produced", "service-lookups-resolved") == 1
	})

	_, body := httpGet(t, "http://"+rr.r.MetricsAddr()+"/metrics")
	const labels = `application="microservices-integration"`
	const team = `team="platform-team"`
	for _, want := range []string{
		`ksml_topic_records_consumed_total{application="microservices-integration",team="platform-team",topic="service-lookups"} 1`,
		`ksml_topic_records_produced_total{application="microservices-integration",team="platform-team",topic="service-lookups-resolved"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s in:\n%s", want, grepLines(body, "ksml_"))
		}
	}
	// Every series, ksml's and the runtime's, carries the seed's tags.
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, labels) || !strings.Contains(line, team) {
			t.Errorf("series without the seed's tags: %s", line)
		}
	}

	out := readAll(t, b.Bootstrap, "service-lookups-resolved", 1, 300*time.Millisecond)
	if len(out) != 1 {
		t.Fatalf("got %d resolved lookups, want 1", len(out))
	}
	if got, want := string(out[0].Value), `{"service":"orders","registry":"http://service-registry:8500"}`; got != want {
		t.Errorf("resolved lookup = %s, want %s", got, want)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}
