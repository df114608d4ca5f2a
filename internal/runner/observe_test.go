package runner_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/runner"
)

const visitsDefinition = `streams:
  input:
    topic: visits
    keyType: string
    valueType: string
  output:
    topic: visit-counts
    keyType: string
    valueType: long
stores:
  visit_counts:
    type: keyValue
    keyType: string
    valueType: long
    logging: true
functions:
  count_visit:
    type: valueTransformer
    stores: [visit_counts]
    code: |
      n = (visit_counts.get(key) or 0) + 1
      visit_counts.put(key, n)
      metrics.counter("visits").increment()
      return n
    resultType: long
pipelines:
  count:
    from: input
    via:
      - type: mapValues
        mapper: count_visit
    to: output
`

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestObservabilityEndpoints runs a stateful pipeline with the metrics
// endpoint and the application server on: per-topic counts and Python's
// metrics are scraped, the probes report ready, and the store is queried.
func TestObservabilityEndpoints(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "visits.yaml", visitsDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    visits: visits.yaml
  prometheus:
    enabled: true
    host: 127.0.0.1
    port: %d
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: %d
`, work, work, freePort(t), freePort(t)), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "visits"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	app := "http://" + rr.r.AppServerAddr()
	metrics := "http://" + rr.r.MetricsAddr()
	// Each endpoint's start is logged once, with its address.
	for _, line := range []string{
		`msg="Application server started" addr=` + rr.r.AppServerAddr(),
		`msg="Prometheus metrics endpoint started" addr=` + rr.r.MetricsAddr(),
	} {
		if n := strings.Count(logs.String(), line); n != 1 {
			t.Errorf("log has %q %d times, want once:\n%s", line, n, grepLines(logs.String(), "started"))
		}
	}
	if n := strings.Count(strings.ToLower(logs.String()), "server started") + strings.Count(strings.ToLower(logs.String()), "endpoint started"); n != 2 {
		t.Errorf("endpoint starts are logged %d times, want 2:\n%s", n, grepLines(logs.String(), "started"))
	}
	if code, _ := httpGet(t, app+"/ready"); code != http.StatusNoContent {
		t.Errorf("/ready = %d, want 204", code)
	}
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, &kgo.Record{Topic: "visits", Key: []byte("home"), Value: []byte("a")},
		&kgo.Record{Topic: "visits", Key: []byte("about"), Value: []byte("b")},
		&kgo.Record{Topic: "visits", Key: []byte("home"), Value: []byte("c")})
	waitFor(t, "three visits", 10*time.Second, func() bool { return rr.r.Counters().Get("produced", "visit-counts") == 3 })

	_, body := httpGet(t, metrics+"/metrics")
	for _, want := range []string{
		`ksml_topic_records_consumed_total{topic="visits"} 3`,
		`ksml_topic_records_produced_total{topic="visit-counts"} 3`,
		`custom_name="visits"`,
		`ksml_pipeline_records_consumed_total{namespace="visits",pipeline="count"} 3`,
		`ksml_pipeline_records_produced_total{namespace="visits",pipeline="count"} 3`,
		`ksml_consumer_records_lag{partition="0",topic="visits"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s in:\n%s", want, grepLines(body, "ksml_"))
		}
	}
	code, body := httpGet(t, app+"/state/keyValue/visit_counts/local/all")
	if code != http.StatusOK {
		t.Fatalf("state query = %d %s", code, body)
	}
	var entries []struct {
		Key   any `json:"key"`
		Value any `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &entries); err != nil {
		t.Fatalf("state answer %s: %v", body, err)
	}
	if got := fmt.Sprint(entries); got != "[{about 1} {home 2}]" {
		t.Errorf("store entries %s, want about=1 home=2", body)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
