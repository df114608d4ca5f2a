package observability

import (
	"strconv"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/python"
)

// The per-record and per-call costs the runtime pays.

func BenchmarkExecutionTimerObserve(b *testing.B) {
	tm := New(Options{}).ExecutionTimer(FunctionLabels{Namespace: "ns", FunctionType: "forEach", FunctionName: "f"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tm.Observe(time.Duration(i))
	}
}

func BenchmarkPipelineConsumed(b *testing.B) {
	p := New(Options{}).Pipeline("ns", "p")
	b.ReportAllocs()
	for b.Loop() {
		p.Consumed(1)
	}
}

func BenchmarkUserCounterRecord(b *testing.B) {
	c := New(Options{}).UserMetric(python.CounterMetric, "c", map[string]string{"k": "v"})
	b.ReportAllocs()
	for b.Loop() {
		c.Record(1)
	}
}

func BenchmarkUserMeterRecord(b *testing.B) {
	m := New(Options{}).UserMetric(python.MeterMetric, "m", nil)
	b.ReportAllocs()
	for b.Loop() {
		m.Record(1)
	}
}

// A scrape of 100 timers (about what a definition with 100 functions has).
func BenchmarkScrape100Timers(b *testing.B) {
	r := New(Options{})
	for i := range 100 {
		tm := r.ExecutionTimer(FunctionLabels{Namespace: "ns", FunctionType: "forEach", FunctionName: "f" + strconv.Itoa(i)})
		for j := range 2000 {
			tm.Observe(time.Duration(j))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
