package testdriver_test

import (
	"testing"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
)

// BenchmarkEngineChain measures the engine's own per-record cost: a source,
// three pass-through processors and a sink, with trivial serdes.
func BenchmarkEngineChain(b *testing.B) {
	topo := streams.NewTopology("app")
	if err := topo.AddSource("in", []string{"input"}, streams.SourceOptions{KeySerde: ss, ValueSerde: ss}); err != nil {
		b.Fatal(err)
	}
	parent := "in"
	for _, name := range []string{"p1", "p2", "p3"} {
		if err := topo.AddProcessor(name, func() streams.Processor {
			return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error { return ctx.Forward(r) })
		}, parent); err != nil {
			b.Fatal(err)
		}
		parent = name
	}
	if err := topo.AddSink("out", "output", streams.SinkOptions{KeySerde: ss, ValueSerde: ss}, parent); err != nil {
		b.Fatal(err)
	}
	d, err := testdriver.New(topo, testdriver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	key, value := []byte("key"), []byte("value")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Pipe("input", key, value, int64(i), nil); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 0 {
			d.ReadOutput("output")
		}
	}
}
