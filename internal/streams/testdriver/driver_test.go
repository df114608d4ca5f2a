package testdriver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
)

// stringSerde is a UTF-8 serde with nil for null, enough to drive the engine
// without the notation packages.
type stringSerde struct{}

func (stringSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("not a string: %T", v)
	}
	return []byte(s), nil
}

func (stringSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return string(b), nil
}

var ss = stringSerde{}

func outputs(d *testdriver.Driver, topic string) string {
	var parts []string
	for _, r := range d.ReadOutput(topic) {
		k, v := "null", "null"
		if r.Key != nil {
			k = string(r.Key)
		}
		if r.Value != nil {
			v = string(r.Value)
		}
		parts = append(parts, fmt.Sprintf("%s=%s@%d", k, v, r.Timestamp))
	}
	return strings.Join(parts, " ")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFilterUpperAndBranchDepthFirst(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("filter", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			if r.Value == nil || r.Value.(string) == "drop" {
				return nil
			}
			return ctx.Forward(r)
		})
	}, "in"))
	must(t, topo.AddProcessor("branch", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			if strings.HasPrefix(r.Value.(string), "a") {
				return ctx.ForwardTo(0, r)
			}
			return ctx.ForwardTo(1, r)
		})
	}, "filter"))
	must(t, topo.AddSink("toA", "a", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "branch"))
	must(t, topo.AddSink("toB", "b", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "branch"))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	defer d.Close()
	for i, v := range []string{"apple", "drop", "banana", "avocado"} {
		must(t, d.Pipe("input", []byte(fmt.Sprint("k", i)), []byte(v), int64(100+i), nil))
	}
	must(t, d.Pipe("input", nil, nil, 200, nil)) // tombstone with null key is filtered
	if got, want := outputs(d, "a"), "k0=apple@100 k3=avocado@103"; got != want {
		t.Errorf("a: got %q want %q", got, want)
	}
	if got, want := outputs(d, "b"), "k2=banana@102"; got != want {
		t.Errorf("b: got %q want %q", got, want)
	}
}

func TestRepartitionSplitsSubTopologiesAndFeedsBack(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("rekey", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			return ctx.Forward(r.WithKey(r.Value))
		})
	}, "in"))
	rp := streams.RepartitionTopic("app", "rekey")
	must(t, topo.AddSink("rp-sink", rp, streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "rekey"))
	must(t, topo.AddSource("rp-source", []string{rp}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddStateStore(&store.KeyValueBuilder{StoreName: "counts", KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("count", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			st, err := ctx.Store("counts")
			if err != nil {
				return err
			}
			kv := store.NewKeyValue(st.(streams.KeyValueStore), ss, ss)
			old, err := kv.Get(r.Key)
			if err != nil {
				return err
			}
			n := "1"
			if old != nil {
				n = old.(string) + "1"
			}
			if err := kv.Put(r.Key, n); err != nil {
				return err
			}
			return ctx.Forward(r.WithValue(n))
		})
	}, "rp-source"))
	must(t, topo.ConnectStore("count", "counts"))
	must(t, topo.AddSink("out", "output", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "count"))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	defer d.Close()
	if n := len(topo.SubTopologies()); n != 2 {
		t.Fatalf("sub-topologies: got %d want 2", n)
	}
	for i, v := range []string{"x", "y", "x"} {
		must(t, d.Pipe("input", []byte(fmt.Sprint(i)), []byte(v), 10, nil))
	}
	if got, want := outputs(d, "output"), "x=1@10 y=1@10 x=11@10"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	st, ok := d.Store("counts")
	if !ok {
		t.Fatal("store counts not found")
	}
	if n := st.(streams.KeyValueStore).ApproximateNumEntries(); n != 2 {
		t.Errorf("entries: got %d want 2", n)
	}
	want := `Topologies:
   Sub-topology: 0
    Source: in (topics: [input])
      --> rekey
    Processor: rekey (stores: [])
      --> rp-sink
      <-- in
    Sink: rp-sink (topic: app-rekey-repartition)
      <-- rekey

   Sub-topology: 1
    Source: rp-source (topics: [app-rekey-repartition])
      --> count
    Processor: count (stores: [counts])
      --> out
      <-- rp-source
    Sink: out (topic: output)
      <-- count

`
	if got := topo.Describe(); got != want {
		t.Errorf("describe:\n%s\nwant:\n%s", got, want)
	}
}

type punctuating struct{ fired []int64 }

func (p *punctuating) Init(ctx *streams.ProcessorContext) error {
	_, err := ctx.Schedule(10, streams.StreamTime, func(ctx *streams.ProcessorContext, ts int64) error {
		p.fired = append(p.fired, ts)
		return ctx.Forward(streams.Record{Key: "tick", Value: fmt.Sprint(ts), Timestamp: ts})
	})
	return err
}
func (p *punctuating) Process(ctx *streams.ProcessorContext, r streams.Record) error { return nil }
func (p *punctuating) Close() error                                                  { return nil }

func TestStreamTimePunctuation(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("p", func() streams.Processor { return &punctuating{} }, "in"))
	must(t, topo.AddSink("out", "ticks", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "p"))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	defer d.Close()
	for _, ts := range []int64{5, 12, 14, 8, 16, 40} {
		must(t, d.Pipe("input", []byte("k"), []byte("v"), ts, nil))
	}
	if got, want := outputs(d, "ticks"), "tick=16@16 tick=40@40"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestProcessorErrorNamesNodeAndDriverContinues(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("boom", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			if r.Value == "bad" {
				return fmt.Errorf("cannot handle %v", r.Value)
			}
			return ctx.Forward(r)
		})
	}, "in"))
	must(t, topo.AddSink("out", "output", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "boom"))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	err = d.Pipe("input", []byte("k"), []byte("bad"), 1, nil)
	if err == nil || err.Error() != "boom: cannot handle bad" {
		t.Fatalf("got error %v", err)
	}
	must(t, d.Pipe("input", []byte("k"), []byte("good"), 2, nil))
	if got, want := outputs(d, "output"), "k=good@2"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestTopologyRejectsBadGraphs(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{}))
	cases := map[string]error{
		`a node named "in" already exists in the topology`: topo.AddSource("in", []string{"other"}, streams.SourceOptions{}),
		`topic "input" is already read by source "in"`:     topo.AddSource("in2", []string{"input"}, streams.SourceOptions{}),
		`node "p": unknown parent "nope"`:                  topo.AddProcessor("p", func() streams.Processor { return nil }, "nope"),
		`sink "s" has no parent`:                           topo.AddSink("s", "t", streams.SinkOptions{}),
	}
	for want, err := range cases {
		if err == nil || err.Error() != want {
			t.Errorf("got %v want %q", err, want)
		}
	}
}

func TestLoggedStoreWritesChangelog(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("save", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			st, err := ctx.Store("kv")
			if err != nil {
				return err
			}
			kv := store.NewKeyValue(st.(streams.KeyValueStore), ss, ss)
			if r.Value == nil {
				_, err = kv.Delete(r.Key)
				return err
			}
			return kv.Put(r.Key, r.Value)
		})
	}, "in"))
	must(t, topo.AddStateStore(&store.KeyValueBuilder{StoreName: "kv", KeySerde: ss, ValueSerde: ss, LoggingOn: true}, "save"))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	defer d.Close()
	must(t, d.Pipe("input", []byte("a"), []byte("1"), 7, nil))
	must(t, d.Pipe("input", []byte("a"), nil, 8, nil))
	if got, want := outputs(d, "app-kv-changelog"), "a=1@7 a=null@8"; got != want {
		t.Errorf("changelog: got %q want %q", got, want)
	}
	if its := topo.InternalTopics(); len(its) != 1 || its[0].Name != "app-kv-changelog" || its[0].Kind != "changelog" {
		t.Errorf("internal topics: %+v", its)
	}
}

func TestStoreNotConnectedIsAnError(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("p", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			_, err := ctx.Store("other")
			return err
		})
	}, "in"))
	must(t, topo.AddStateStore(&store.KeyValueBuilder{StoreName: "other", KeySerde: ss, ValueSerde: ss}))
	d, err := testdriver.New(topo, testdriver.Options{})
	must(t, err)
	defer d.Close()
	err = d.Pipe("input", []byte("k"), []byte("v"), 1, nil)
	if err == nil || err.Error() != `p: store "other" is not connected to processor "p"` {
		t.Fatalf("got %v", err)
	}
}

type wallTicker struct{}

func (wallTicker) Init(ctx *streams.ProcessorContext) error {
	_, err := ctx.Schedule(100, streams.WallClockTime, func(ctx *streams.ProcessorContext, ts int64) error {
		return ctx.Forward(streams.Record{Key: "wall", Value: fmt.Sprint(ts), Timestamp: ts})
	})
	return err
}
func (wallTicker) Process(*streams.ProcessorContext, streams.Record) error { return nil }
func (wallTicker) Close() error                                            { return nil }

func TestWallClockPunctuation(t *testing.T) {
	topo := streams.NewTopology("app")
	must(t, topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}))
	must(t, topo.AddProcessor("p", func() streams.Processor { return wallTicker{} }, "in"))
	must(t, topo.AddSink("out", "ticks", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, "p"))
	d, err := testdriver.New(topo, testdriver.Options{WallClockStart: 1000})
	must(t, err)
	defer d.Close()
	for _, step := range []int64{0, 50, 60, 250} {
		must(t, d.AdvanceWallClock(step))
	}
	if got, want := outputs(d, "ticks"), "wall=1110@1110 wall=1360@1360"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if err := d.AdvanceWallClock(-1); err == nil {
		t.Error("moving the clock back must fail")
	}
}
