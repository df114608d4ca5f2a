package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/testgate"
)

// sharedDir is the shared material, relative to this package.
const sharedDir = "../../shared"

func needShared(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(sharedDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "acceptance/seed/definitions/cqrs.yaml")); err != nil {
		sharedtest.Missing(t, filepath.Join(abs, "acceptance/seed/definitions/cqrs.yaml"))
	}
	return abs
}

// TestSmoke runs every measurement over 200 records: each must see all
// records arrive (run fails otherwise) and the JSON line must carry every
// field. The binary measurement builds ./cmd/ksml, so -short leaves it out.
func TestSmoke(t *testing.T) {
	testgate.Long(t, "runs every measurement, building the binary")
	shared := needShared(t)
	cfg := config{records: 200, rounds: 1, shared: shared, long: 200}
	if testing.Short() {
		cfg.only = map[string]bool{mRawKafka: true, mPassthrough: true, mRawPython: true, mPythonPipeline: true, mStatefulCount: true}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := run(context.Background(), cfg, log, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{
		"raw_kafka_rps": res.RawKafkaRPS, "passthrough_rps": res.PassthroughRPS,
		"raw_python_rps": res.RawPythonRPS, "python_pipeline_rps": res.PythonPipelineRPS,
		"stateful_count_rps": res.StatefulCountRPS,
		"passthrough_ratio":  res.PassthroughRatio, "python_ratio": res.PythonRatio,
		"passthrough_cpu_ratio": res.PassthroughCPURatio, "python_cpu_ratio": res.PythonCPURatio,
	} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if !testing.Short() {
		if !(res.StartupMS > 0) || !(res.RSSMB > 0) || !(res.RSSMBBuildOutput > 0) || !(res.BinaryPythonRPS > 0) {
			t.Errorf("startup_ms=%v rss_mb=%v rss_mb_build_output=%v binary_python_rps=%v, want all > 0",
				res.StartupMS, res.RSSMB, res.RSSMBBuildOutput, res.BinaryPythonRPS)
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"raw_kafka_rps", "passthrough_rps", "raw_python_rps", "python_pipeline_rps",
		"stateful_count_rps", "passthrough_ratio", "python_ratio", "startup_ms", "rss_mb", "rss_mb_build_output"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON line has no %q: %s", k, b)
		}
	}
	var table strings.Builder
	res.writeTable(&table)
	if !strings.Contains(table.String(), "passthrough_ratio") {
		t.Errorf("table has no passthrough_ratio:\n%s", table.String())
	}
}

// TestEvents checks the input records: deterministic, ten top-level fields,
// about 200 bytes, and every event type the CQRS mapper distinguishes.
func TestEvents(t *testing.T) {
	a, b := makeEvents(500), makeEvents(500)
	types := map[string]int{}
	for i := range a {
		if string(a[i].value) != string(b[i].value) || string(a[i].key) != string(b[i].key) {
			t.Fatalf("event %d differs between two runs", i)
		}
		var v map[string]any
		if err := json.Unmarshal(a[i].value, &v); err != nil {
			t.Fatalf("event %d is not JSON: %v\n%s", i, err, a[i].value)
		}
		if len(v) != 10 {
			t.Fatalf("event %d has %d fields, want 10: %s", i, len(v), a[i].value)
		}
		if v["entityId"] != string(a[i].key) {
			t.Fatalf("event %d: key %q, entityId %v", i, a[i].key, v["entityId"])
		}
		types[v["eventType"].(string)]++
	}
	for _, typ := range []string{"USER_CREATED", "USER_UPDATED", "USER_SUSPENDED"} {
		if types[typ] == 0 {
			t.Errorf("no %s events among 500", typ)
		}
	}
	if size := meanValueSize(a); size < 180 || size > 260 {
		t.Errorf("mean value size %d bytes, want about 200", size)
	}
}

// TestCQRSMapperCode checks that the mapper is read with the YAML line its
// code starts on.
func TestCQRSMapperCode(t *testing.T) {
	shared := needShared(t)
	path := filepath.Join(shared, "acceptance/seed/definitions/cqrs.yaml")
	src, err := cqrsMapperCode(path)
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	first := strings.SplitN(src.Text, "\n", 2)[0]
	if got := strings.TrimSpace(lines[src.Line-1]); got != first {
		t.Errorf("line %d is %q, want the code's first line %q", src.Line, got, first)
	}
	if !strings.Contains(src.Text, "return read_model") {
		t.Errorf("mapper code is incomplete:\n%s", src.Text)
	}
	if _, err := cqrsMapperCode(filepath.Join(shared, "acceptance/seed/cqrs-test.yaml")); err == nil {
		t.Error("a file without pipelines[0].operations[0].mapper.code was accepted")
	}
}

func TestPeakRSS(t *testing.T) {
	kb, err := peakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if kb <= 0 {
		t.Errorf("peak RSS %d kB, want > 0", kb)
	}
	if _, err := peakRSS(-1); err == nil {
		t.Error("peakRSS of a process that does not exist succeeded")
	}
}

func TestDerive(t *testing.T) {
	r := &results{RawKafkaRPS: 1000, PassthroughRPS: 600, RawPythonRPS: 250, PythonPipelineRPS: 100,
		RawKafkaCPU: 0.8, PassthroughCPU: 1.6, RawPythonCPU: 3.2, PythonPipelineCPU: 5}
	r.derive()
	if r.PassthroughCPURatio != 0.5 || r.PythonCPURatio != 0.8 {
		t.Errorf("CPU ratios %v, %v, want 0.5, 0.8", r.PassthroughCPURatio, r.PythonCPURatio)
	}
	if r.PassthroughRatio != 0.6 {
		t.Errorf("passthrough_ratio = %v, want 0.6", r.PassthroughRatio)
	}
	// limit = 1 / (1/1000 + 1/250) = 200
	if r.PythonRatio != 0.5 {
		t.Errorf("python_ratio = %v, want 0.5", r.PythonRatio)
	}
	empty := &results{RawKafkaRPS: 1000}
	empty.derive()
	if empty.PassthroughRatio != 0 || empty.PythonRatio != 0 {
		t.Errorf("ratios of measurements not run: %v, %v", empty.PassthroughRatio, empty.PythonRatio)
	}
}

// TestMemoryAndSoak runs the opt-in measurements small: the memory run reads
// the binary's memory at 300 and 1,000 records of both pipelines, the soak
// makes calls for a second.
func TestMemoryAndSoak(t *testing.T) {
	testgate.Long(t, "builds the binary and measures it")
	shared := needShared(t)
	if testing.Short() {
		t.Skip("builds the ksml binary")
	}
	cfg := config{records: 300, rounds: 1, shared: shared, long: 1000, soak: time.Second,
		only: map[string]bool{mMemory: true, mSoak: true}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := run(context.Background(), cfg, log, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{"rss_mb": res.RSSMB, "rss_mb_long": res.RSSMBLong,
		"rss_anon_mb": res.RSSAnonMB, "rss_anon_mb_long": res.RSSAnonMBLong,
		"stateful_rss_mb": res.StatefulRSSMB, "stateful_rss_mb_long": res.StatefulRSSMBLong,
		"soak_rss_start_mb": res.SoakStartMB, "soak_rss_end_mb": res.SoakEndMB} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if res.RSSMBLong < res.RSSMB || res.StatefulRSSMBLong < res.StatefulRSSMB {
		t.Errorf("a peak went down: rss %v -> %v, stateful %v -> %v", res.RSSMB, res.RSSMBLong, res.StatefulRSSMB, res.StatefulRSSMBLong)
	}
	if res.RSSAnonMB > res.RSSMB {
		t.Errorf("anonymous memory %v MB above the whole RSS %v MB", res.RSSAnonMB, res.RSSMB)
	}
	if res.SoakCalls < 2 {
		t.Errorf("soak made %d calls", res.SoakCalls)
	}
}

// rssGateMB is the peak RSS the installed binary may reach on the seed's
// CQRS pipeline over 200,000 records (rss_mb) before TestPeakRSSGate fails:
// the goal (docs/performance.md, Memory). The binary measured 42.5-42.6 MB
// on the development machine when this gate was set, after the runner began
// releasing the pages only start-up used (internal/residency); 54-57 MB
// before that, 57.8-61.5 MB before the embedded broker stopped asking
// clients for telemetry.
const rssGateMB = 50

// rssBuildOutputGateMB is the gate for the same run on the binary as the
// build left it (rss_mb_build_output), whose code and read-only data sit in
// large page-cache blocks that are mapped whole: it grows with the binary's
// size. 55.3-56.0 MB when this gate was set, 63.5-66.1 MB before the
// release of start-up pages.
const rssBuildOutputGateMB = 64

// TestPeakRSSGate runs the binary measurement over 200,000 records and fails
// when the peak RSS of the installed binary is above rssGateMB, or that of
// the build output above rssBuildOutputGateMB. It builds ./cmd/ksml, so
// -short leaves it out.
func TestPeakRSSGate(t *testing.T) {
	testgate.Long(t, "builds and runs the ksml binary over 200,000 records")
	shared := needShared(t)
	cfg := config{records: 200_000, rounds: 1, shared: shared, long: 200_000, only: map[string]bool{mStartup: true}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := run(context.Background(), cfg, log, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS over 200,000 records: %.1f MB installed, %.1f MB as the build left it", res.RSSMB, res.RSSMBBuildOutput)
	if res.RSSMB > rssGateMB {
		t.Errorf("peak RSS of the installed binary is %.1f MB, above the gate of %d MB (goal 50 MB)", res.RSSMB, rssGateMB)
	}
	if res.RSSMBBuildOutput > rssBuildOutputGateMB {
		t.Errorf("peak RSS of the binary as the build left it is %.1f MB, above the gate of %d MB", res.RSSMBBuildOutput, rssBuildOutputGateMB)
	}
}
