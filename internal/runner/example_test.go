package runner_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// TestSensorAlertsExample runs examples/sensor-alerts.yaml (the README's
// first `ksml run`) and checks that every reading above 25 degrees, and
// only those, became an alert.
func TestSensorAlertsExample(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	def, err := filepath.Abs("../../examples/sensor-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    example: %q\n", filepath.Dir(def), work, def),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "example", "commit.interval.ms": "100"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	waitFor(t, "six readings", 15*time.Second, func() bool { return rr.r.Counters().Get("consumed", "sensor-readings") >= 6 })
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	type reading struct {
		Room    string  `json:"room"`
		Seq     int     `json:"seq"`
		Celsius float64 `json:"celsius"`
		Alert   string  `json:"alert"`
		Reading int     `json:"reading"`
	}
	// The producer may have written a reading after the pipeline stopped:
	// only the readings the pipeline consumed can have alerts.
	consumed := int(rr.r.Counters().Get("consumed", "sensor-readings"))
	var want []string
	for _, r := range readAll(t, b.Bootstrap, "sensor-readings", 6, 500*time.Millisecond)[:consumed] {
		var v reading
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if v.Celsius > 25 {
			want = append(want, fmt.Sprintf("%s:%d:%.1f", r.Key, v.Seq, v.Celsius))
		}
	}
	var got []string
	for _, r := range readAll(t, b.Bootstrap, "sensor-alerts", len(want), 500*time.Millisecond) {
		var v reading
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if v.Alert != "too hot" || v.Room != string(r.Key) {
			t.Errorf("alert %s=%s", r.Key, r.Value)
		}
		got = append(got, fmt.Sprintf("%s:%d:%.1f", r.Key, v.Reading, v.Celsius))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts:\n got %v\nwant %v", got, want)
	}
}

// TestExampleRunnerConfigLoads checks that examples/ksml-runner.yaml loads
// and builds, as the README runs it.
func TestExampleRunnerConfigLoads(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KSML_STORAGE_DIR", t.TempDir())
	// No WorkDir: the configuration's paths are relative to its file.
	r, err := runner.New(runner.Options{ConfigFile: filepath.Join(root, "examples/ksml-runner.yaml"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ApplicationID() != "order-enrichment" || len(r.Topology().SourceTopics()) != 4 {
		t.Errorf("application %s reads %v", r.ApplicationID(), r.Topology().SourceTopics())
	}
}

// TestQuickStartExamples runs the README's quick start (and the
// order-enrichment example) from the repository alone, on the embedded
// broker: the producer's events become read models, and orders are
// enriched with their customers.
func TestQuickStartExamples(t *testing.T) {
	kafkatest.Parallel(t)
	for _, tc := range []struct {
		files  []string
		source string
		output string
		check  func(key string, value map[string]any) bool
	}{
		{[]string{"cqrs.yaml", "cqrs-producer.yaml"}, "write-events", "read-model", func(key string, v map[string]any) bool {
			return v["id"] == key && v["type"] == "USER_CREATED" && v["email"] == key+"@example.com"
		}},
		{[]string{"order-enrichment.yaml", "order-enrichment-producer.yaml"}, "orders", "enriched-orders", func(key string, v map[string]any) bool {
			return v["orderId"] == key && v["customerId"] != nil && v["processedAt"] != nil
		}},
	} {
		t.Run(tc.files[0], func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				abs, err := filepath.Abs(filepath.Join("../../examples", f))
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, abs)
			}
			rr := startRunner(t, runner.Options{Definitions: files, EmbeddedBroker: "0", Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
			waitFor(t, "two records through the pipeline", 20*time.Second, func() bool {
				return rr.r.Counters().Get("consumed", tc.output) >= 2
			})
			bootstrap := rr.r.BootstrapServers()
			recs := readAll(t, bootstrap, tc.output, 2, 200*time.Millisecond)
			if err := rr.stop(t); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs[:2] {
				var v map[string]any
				if err := json.Unmarshal(r.Value, &v); err != nil || !tc.check(string(r.Key), v) {
					t.Errorf("%s: %s=%s (%v)", tc.output, r.Key, r.Value, err)
				}
			}
		})
	}
}
