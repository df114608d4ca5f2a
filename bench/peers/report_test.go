package main

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestRatios checks the direction of every metric (above 1 means ksml is
// better), the key format, and that unmeasured values give no ratio.
func TestRatios(t *testing.T) {
	res := map[string]map[string]metrics{
		"passthrough": {
			"ksml":          {RPS: 30000, CPUus: 20, RSSMB: 40, StartupMS: 100},
			"kafka_streams": {RPS: 20000, CPUus: 50, RSSMB: 200, StartupMS: 1500},
			"raw":           {RPS: 60000, CPUus: 10, RSSMB: 20, StartupMS: 0},
		},
		"python_map": {
			"ksml":       {RPS: 9000, CPUus: 90, RSSMB: 60, StartupMS: 300},
			"python_lib": {RPS: 3000, CPUus: 270, RSSMB: 90, StartupMS: 900},
			"other":      {RPS: 1, CPUus: 1, RSSMB: 1, StartupMS: 1},
		},
		"count": {"kafka_streams": {RPS: 1}},
	}
	want := map[string]float64{
		"passthrough/kafka_streams/rps":        1.5,
		"passthrough/kafka_streams/cpu_us":     2.5,
		"passthrough/kafka_streams/rss_mb":     5,
		"passthrough/kafka_streams/startup_ms": 15,
		"passthrough/raw/rps":                  0.5,
		"passthrough/raw/cpu_us":               0.5,
		"passthrough/raw/rss_mb":               0.5,
		"python_map/python_lib/rps":            3,
		"python_map/python_lib/cpu_us":         3,
		"python_map/python_lib/rss_mb":         1.5,
		"python_map/python_lib/startup_ms":     3,
	}
	if got := ratios(res); !reflect.DeepEqual(got, want) {
		t.Errorf("ratios =\n%v\nwant\n%v", got, want)
	}
}

func TestSummarizeAndJSON(t *testing.T) {
	rounds := map[string]map[string][]metrics{
		"count": {
			"ksml": {{RPS: 10, CPUus: 3, RSSMB: 30, StartupMS: 200}, {RPS: 30, CPUus: 1, RSSMB: 50, StartupMS: 100}},
			"raw":  {{RPS: 40, CPUus: 1, RSSMB: 10, StartupMS: 50}},
			"none": {},
		},
	}
	res := summarize(rounds)
	var buf bytes.Buffer
	if err := writeJSON(&buf, report{Records: 100, Rounds: 2, Results: res, Ratios: ratios(res)}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "records": 100,
  "rounds": 2,
  "results": {
    "count": {
      "ksml": {
        "rps": 20,
        "cpu_us": 2,
        "rss_mb": 40,
        "startup_ms": 150
      },
      "raw": {
        "rps": 40,
        "cpu_us": 1,
        "rss_mb": 10,
        "startup_ms": 50
      }
    }
  },
  "ratios": {
    "count/raw/cpu_us": 0.5,
    "count/raw/rps": 0.5,
    "count/raw/rss_mb": 0.25,
    "count/raw/startup_ms": 0.333
  }
}
`
	if buf.String() != want {
		t.Errorf("JSON =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestCountValue(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want int64
	}{{[]byte{0, 0, 0, 0, 0, 0, 1, 2}, 258}, {[]byte("42"), 42}, {[]byte(" 7\n"), 7}} {
		got, err := countValue(c.in)
		if err != nil || got != c.want {
			t.Errorf("countValue(%q) = %d, %v, want %d", c.in, got, err, c.want)
		}
	}
	if _, err := countValue([]byte("x")); err == nil {
		t.Error("countValue(x) gave no error")
	}
}

// TestRawStep checks the raw peer's work on each workload, exactly.
func TestRawStep(t *testing.T) {
	ts := time.UnixMilli(1764000061234)
	rec := func(v string) *kgo.Record { return &kgo.Record{Key: []byte("user-1"), Value: []byte(v), Timestamp: ts} }
	counts := map[string]int64{}
	for i := int64(1); i <= 2; i++ {
		k, v, ok, err := rawStep("window_count", rec(`{}`), counts)
		if err != nil || !ok || string(k) != "user-1@1764000060000" || binary.BigEndian.Uint64(v) != uint64(i) {
			t.Fatalf("window_count %d: %q %v %v %v", i, k, v, ok, err)
		}
	}
	_, _, ok, err := rawStep("filter_map", rec(`{"eventType":"USER_SUSPENDED"}`), counts)
	if ok || err != nil {
		t.Errorf("filter_map kept a suspended event (%v)", err)
	}
	_, v, ok, err := rawStep("filter_map", rec(`{"eventType":"USER_CREATED","entityId":"user-1","region":"eu-west"}`), counts)
	if want := `{"id":"user-1","region":"eu-west","type":"USER_CREATED"}`; !ok || err != nil || string(v) != want {
		t.Errorf("filter_map = %s, %v, %v, want %s", v, ok, err, want)
	}
	if _, _, _, err := rawStep("nope", rec(`{}`), counts); err == nil {
		t.Error("an unknown workload gave no error")
	}
}

// TestClock checks the timed span (assignment to the completing output
// record) and the startup (process start to the first output record).
func TestClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Assigned at 400 ms, first output at 500 ms, all 1000 records done at
	// 2400 ms; 80 ticks of 10 ms = 800 ms of CPU.
	got := clock(t0, at(400), at(500), at(2400), 20, 100, 1000)
	if want := (metrics{RPS: 500, CPUus: 800, StartupMS: 500}); got != want {
		t.Errorf("clock = %+v, want %+v", got, want)
	}
	// A record cache flushed at a 30 s commit: first output and completion
	// together, 30 s after the assignment.
	got = clock(t0, at(1000), at(31000), at(31000), 0, 300, 1000)
	if want := (metrics{RPS: 1000.0 / 30, CPUus: 3000, StartupMS: 31000}); got != want {
		t.Errorf("one burst: %+v, want %+v", got, want)
	}
	if got := clock(t0, time.Time{}, time.Time{}, time.Time{}, 0, 0, 1000); got != (metrics{}) {
		t.Errorf("nothing measured: %+v", got)
	}
}

func TestScaling(t *testing.T) {
	res := map[string]map[string]metrics{
		"count": {
			"ksml_t1": {RPS: 100}, "ksml_t2": {RPS: 180},
			"kafka_streams_tuned_t1": {RPS: 20}, "kafka_streams_tuned_t2": {RPS: 30},
		},
		"python_map": {"ksml_t1": {RPS: 50}},
	}
	want := map[string]float64{
		"count/ksml/speedup": 1.8, "count/kafka_streams_tuned/speedup": 1.5,
		"count/ksml÷kafka_streams_tuned/t1": 5, "count/ksml÷kafka_streams_tuned/t2": 6,
	}
	if got := scaling(res); !reflect.DeepEqual(got, want) {
		t.Errorf("scaling = %v, want %v", got, want)
	}
	if got := scaling(map[string]map[string]metrics{"count": {"ksml": {RPS: 1}}}); got != nil {
		t.Errorf("no thread runs: %v", got)
	}
	for in, want := range map[string]struct {
		base string
		n    int
	}{"ksml": {"ksml", 0}, "ksml_t2": {"ksml", 2}, "kafka_streams_tuned_t1": {"kafka_streams_tuned", 1}} {
		if b, n := splitThreads(in); b != want.base || n != want.n {
			t.Errorf("splitThreads(%s) = %s, %d", in, b, n)
		}
	}
}
