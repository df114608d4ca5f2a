package runner

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/topology"
)

type constFunction struct{}

func (constFunction) Call(*streams.ProcessorContext, ...any) (any, error) { return true, nil }

type constCompiler struct{}

func (constCompiler) Compile(*definition.Definition, *definition.FunctionDef, *topology.StoreCatalog) (topology.Function, error) {
	return constFunction{}, nil
}

type rawSerde struct{}

func (rawSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	b, _ := v.([]byte)
	return b, nil
}
func (rawSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) { return b, nil }

type nopCollector struct{}

func (nopCollector) Send(string, int32, []byte, []byte, int64, []streams.Header) error { return nil }
func (nopCollector) Partitions(string) (int, error)                                    { return 1, nil }
func (nopCollector) Flush() error                                                      { return nil }

// callProcessor calls fn n times for every record, from a real node of a
// real task, so timers are looked up as in a running topology.
type callProcessor struct {
	fn topology.Function
	n  int
}

func (p *callProcessor) Init(*streams.ProcessorContext) error { return nil }
func (p *callProcessor) Close() error                         { return nil }
func (p *callProcessor) Process(ctx *streams.ProcessorContext, _ streams.Record) error {
	for i := 0; i < p.n; i++ {
		if _, err := p.fn.Call(ctx); err != nil {
			return err
		}
	}
	return nil
}

// runCalls processes one record through a node named node that calls fn n
// times.
func runCalls(tb testing.TB, fn topology.Function, node string, n int) {
	tb.Helper()
	topo := streams.NewTopology("bench")
	if err := topo.AddSource("src", []string{"in"}, streams.SourceOptions{KeySerde: rawSerde{}, ValueSerde: rawSerde{}}); err != nil {
		tb.Fatal(err)
	}
	if err := topo.AddProcessor(node, func() streams.Processor { return &callProcessor{fn: fn, n: n} }, "src"); err != nil {
		tb.Fatal(err)
	}
	if err := topo.Build(); err != nil {
		tb.Fatal(err)
	}
	task, err := streams.NewTask(topo, topo.SubTopologies()[0], 0, nopCollector{})
	if err != nil {
		tb.Fatal(err)
	}
	defer task.Close()
	if err := task.Process(&streams.RawRecord{Topic: "in", Key: []byte("k"), Value: []byte("v")}); err != nil {
		tb.Fatal(err)
	}
}

func timed(tb testing.TB, reg *observability.Registry) topology.Function {
	var p atomic.Pointer[observability.Registry]
	p.Store(reg)
	tf := &timedFunctions{inner: constCompiler{}, timers: &p}
	f, err := tf.Compile(&definition.Definition{Namespace: "ns"}, &definition.FunctionDef{Name: "is_hot", Type: definition.FuncPredicate}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestExecutionTimeLabelsPerNode times calls from a pipeline node and
// from no node (a producer's generator): each gets its series with
// upstream's labels and exact counts; with metrics off nothing is recorded.
func TestExecutionTimeLabelsPerNode(t *testing.T) {
	reg := observability.New(observability.Options{})
	f := timed(t, reg)
	runCalls(t, f, "ns_pipelines_hot_via_step2_filter", 3)
	for i := 0; i < 2; i++ {
		if _, err := f.Call(nil); err != nil {
			t.Fatal(err)
		}
	}
	runCalls(t, timed(t, nil), "ns_pipelines_cold_via_step1_filter", 4) // metrics off
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fam := range fams {
		if fam.GetName() != "ksml_execution_time_count" {
			continue
		}
		for _, m := range fam.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			got = append(got, strings.Join(ls, ",")+" "+strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	want := "function_name=is_hot,function_type=predicate,namespace=ns 2\n" +
		"function_name=is_hot,function_type=predicate,namespace=ns,operation_name=ns_pipelines_hot_via_step2_filter,pipeline=hot,step=2 3"
	if s := strings.Join(got, "\n"); s != want {
		t.Errorf("series\n%s\nwant\n%s", s, want)
	}
}

// BenchmarkTimedFunctionCall measures what timing adds to one function
// call from a node: "off" is metrics disabled (one atomic load), "on" looks
// the node's timer up and records the duration; "bare" is the function
// without the wrapper.
func BenchmarkTimedFunctionCall(b *testing.B) {
	for _, c := range []struct {
		name string
		fn   func() topology.Function
	}{
		{"bare", func() topology.Function { return constFunction{} }},
		{"off", func() topology.Function { return timed(b, nil) }},
		{"on", func() topology.Function { return timed(b, observability.New(observability.Options{})) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			fn := c.fn()
			b.ReportAllocs()
			b.ResetTimer()
			runCalls(b, fn, "ns_pipelines_p_via_step1_filter", b.N)
		})
	}
}
