package streams

import (
	"errors"
	"testing"
)

// TestNodeStatsCountRecordsAndErrorsWhereTheyHappen: every node counts the
// records it received; a failure counts at the node that failed, not at the
// nodes it propagates through.
func TestNodeStatsCountRecordsAndErrorsWhereTheyHappen(t *testing.T) {
	topo := NewTopology("app")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(topo.AddSource("in", []string{"a"}, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}))
	must(topo.AddProcessor("check", func() Processor {
		return ProcessorFunc(func(ctx *ProcessorContext, r Record) error {
			if r.Value == "bad" {
				return errors.New("bad value")
			}
			return ctx.Forward(r)
		})
	}, "in"))
	must(topo.AddSink("out", "out", SinkOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{},
		Partitioner: func(string, any, any, int) ([]int32, error) { return []int32{0}, nil }}, "check"))
	must(topo.Build())
	task, err := NewTask(topo, topo.SubTopologies()[0], 0, &captureCollector{})
	must(err)
	defer task.Close()
	for i, v := range []string{"ok", "bad", "ok", "ok"} {
		err := task.Process(&RawRecord{Topic: "a", Offset: int64(i), Timestamp: 1, Key: []byte("k"), Value: []byte(v)})
		if (v == "bad") != (err != nil) {
			t.Fatalf("record %d (%s): error %v", i, v, err)
		}
	}
	got := map[string][2]int64{}
	for _, n := range topo.Nodes() {
		s := n.Stats.Snapshot()
		got[n.Name] = [2]int64{s.Records, s.Errors}
	}
	want := map[string][2]int64{"in": {4, 0}, "check": {4, 1}, "out": {3, 0}}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: records, errors = %v, want %v", name, got[name], w)
		}
	}
}

// TestNodeStatsSampleLatency: one record in 64 is timed.
func TestNodeStatsSampleLatency(t *testing.T) {
	var s NodeStats
	for i := 0; i < 128; i++ {
		s.end(s.begin())
	}
	if got := s.Snapshot(); got.Records != 128 || got.Sampled != 2 {
		t.Fatalf("records %d sampled %d, want 128 and 2", got.Records, got.Sampled)
	}
}

// BenchmarkNodeStats is the bookkeeping each node adds per record: an
// atomic add, and for one record in 64 two clock reads.
func BenchmarkNodeStats(b *testing.B) {
	var s NodeStats
	for i := 0; i < b.N; i++ {
		s.end(s.begin())
	}
}
