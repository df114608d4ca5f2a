package runner_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"ksml/internal/runner"
)

// TestSensorAlertsExample runs examples/sensor-alerts.yaml (the README's
// first `ksml run`) and checks that every reading above 25 degrees, and
// only those, became an alert.
func TestSensorAlertsExample(t *testing.T) {
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
// and builds from the repository root, as the README runs it.
func TestExampleRunnerConfigLoads(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KSML_STORAGE_DIR", t.TempDir())
	r, err := runner.New(runner.Options{ConfigFile: filepath.Join(root, "examples/ksml-runner.yaml"), WorkDir: root, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ApplicationID() != "sensor-alerts" || len(r.Topology().SourceTopics()) != 1 {
		t.Errorf("application %s reads %v", r.ApplicationID(), r.Topology().SourceTopics())
	}
}
