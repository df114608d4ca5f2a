package topology

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Records of two topics read by one task arrive in fetched batches, one
// topic after the other. The task's partition group takes them in
// timestamp order, so windowed operations over the merged topics give the
// output they give when the records arrive one by one in time order. The
// old per-batch order is run too, to show the inputs would expose it.

const mergedWindowCount = `
streams:
  left:
    topic: left
    keyType: string
    valueType: long
  right:
    topic: right
    keyType: string
    valueType: long
  out:
    topic: out
    keyType: json:windowed(string)
    valueType: long
pipelines:
  main:
    from: left
    via:
      - type: merge
        stream: right
      - type: groupByKey
      - type: windowByTime
        windowType: tumbling
        duration: 10s
        grace: 0s
      - type: count
      - type: toStream
    to: out
`

type orderInput struct {
	topic string
	key   string
	ts    int64
}

// interleaved returns n records per topic, each topic in increasing time,
// the topics interleaved in time without ties.
func interleaved(n int, topics ...string) []orderInput {
	var in []orderInput
	for i := range n {
		for j, topic := range topics {
			in = append(in, orderInput{topic, fmt.Sprintf("k%d", i%3), int64(i*1000 + j*331)})
		}
	}
	return in
}

type orderCapture struct{ lines []string }

func (c *orderCapture) Send(topic string, _ int32, key, value []byte, ts int64, _ []streams.Header) error {
	if topic == "out" {
		c.lines = append(c.lines, fmt.Sprintf("%x=%x@%d", key, value, ts))
	}
	return nil
}
func (c *orderCapture) Partitions(string) (int, error) { return 1, nil }
func (c *orderCapture) Flush() error                   { return nil }

// runOrdered feeds in to a fresh task of h's topology: "one by one" in time
// order, "batches" per topic through the task's queues, or "old" per topic
// straight through Process (the engine's former per-batch order).
func runOrdered(t *testing.T, h *harness, in []orderInput, mode string, vt string) []string {
	t.Helper()
	topo := h.res.Topology
	sub, ok := topo.SubTopologyFor(in[0].topic)
	if !ok {
		t.Fatal("no sub-topology")
	}
	c := &orderCapture{}
	task, err := streams.NewTask(topo, sub, 0, c)
	if err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	raw := func(r orderInput, off int64) *streams.RawRecord {
		kb, err := h.serde("string", true).Serialize(r.topic, nil, r.key)
		if err != nil {
			t.Fatal(err)
		}
		var v any = int64(1)
		if vt == "string" {
			v = fmt.Sprintf("%s@%d", r.topic, r.ts)
		}
		vb, err := h.serde(vt, false).Serialize(r.topic, nil, v)
		if err != nil {
			t.Fatal(err)
		}
		return &streams.RawRecord{Topic: r.topic, Offset: off, Timestamp: r.ts, Key: kb, Value: vb}
	}
	topics := map[string]bool{}
	for _, r := range in {
		topics[r.topic] = true
	}
	for topic := range topics {
		task.SetFetchedLag(topic, 0)
	}
	drain := func() {
		for {
			_, ok, err := task.ProcessNext(0)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return
			}
		}
	}
	byTopic := map[string][]orderInput{}
	var names []string
	for _, r := range in {
		if byTopic[r.topic] == nil {
			names = append(names, r.topic)
		}
		byTopic[r.topic] = append(byTopic[r.topic], r)
	}
	switch mode {
	case "one by one":
		sorted := append([]orderInput(nil), in...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ts < sorted[j].ts })
		for i, r := range sorted {
			if _, err := task.AddRecord(raw(r, int64(i))); err != nil {
				t.Fatal(err)
			}
			drain()
		}
	case "batches":
		// Fetched batches of 50 records, a whole round of every topic
		// before the task runs.
		for from := 0; from < len(byTopic[names[0]]); from += 50 {
			for _, topic := range names {
				recs := byTopic[topic]
				for i := from; i < min(from+50, len(recs)); i++ {
					if _, err := task.AddRecord(raw(recs[i], int64(i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			drain()
		}
	case "old":
		for from := 0; from < len(byTopic[names[0]]); from += 50 {
			for _, topic := range names {
				recs := byTopic[topic]
				for i := from; i < min(from+50, len(recs)); i++ {
					if err := task.Process(raw(recs[i], int64(i))); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if err := task.FlushCaches(); err != nil {
		t.Fatal(err)
	}
	return c.lines
}

func TestMergedWindowedCountInTimestampOrder(t *testing.T) {
	h := yamlHarness(t, mergedWindowCount)
	in := interleaved(200, "left", "right")
	want := runOrdered(t, h, in, "one by one", "long")
	// 400 records, 20 windows per key... every record counted once: the
	// last count of each window is its number of records.
	if len(want) != 400 {
		t.Fatalf("one by one: %d outputs, want 400 (none late)", len(want))
	}
	got := runOrdered(t, h, in, "batches", "long")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("batches differ from one by one: %d vs %d outputs", len(got), len(want))
	}
	if old := runOrdered(t, h, in, "old", "long"); len(old) >= len(want) {
		t.Errorf("per-batch order dropped nothing (%d outputs): the input does not test ordering", len(old))
	}
}

func TestMergedStreamStreamJoinInTimestampOrder(t *testing.T) {
	h := yamlHarness(t, fmt.Sprintf(twoStreams, "join"))
	in := interleaved(200, "left", "right")
	want := runOrdered(t, h, in, "one by one", "string")
	got := runOrdered(t, h, in, "batches", "string")
	if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("batches differ from one by one: %d vs %d outputs", len(got), len(want))
	}
	if old := runOrdered(t, h, in, "old", "string"); len(old) >= len(want) {
		t.Errorf("per-batch order joined as much (%d outputs): the input does not test ordering", len(old))
	}
	t.Logf("join outputs: %d in time order", len(want))
}
