package python

import (
	"testing"

	"github.com/ksml-dev/ksml/bench/workload"
	"github.com/ksml-dev/ksml/internal/types"
)

// cqrsCode is the CQRS mapper of the seed document, as the benchmarks of
// the whole pipeline run it.
const cqrsCode = workload.CQRSMapper

var cqrsInput = rawJSON(`{"eventType":"USER_CREATED","entityId":"user-42","data":{"username":"ann","email":"ann@example.com","plan":"pro"}}`)

func BenchmarkPredicate(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "pred", Type: "predicate", Expression: src(`value["amount"] > 100 and value["currency"] == "EUR"`, 1)})
	v := structOf("id", "tx-1", "amount", int64(250), "currency", "EUR")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := f.Call(nil, "k", v)
		if err != nil || r != true {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkCQRSMapValuesGo converts the result through the data model and
// writes JSON in Go, as a sink would without the C path.
func BenchmarkCQRSMapValuesGo(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "cqrs", Type: "valueTransformer", Code: src(cqrsCode, 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := f.Call(nil, "user-42", cqrsInput)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := types.MarshalJSON(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCQRSMapValuesJSON writes the result as JSON in C (CallJSON).
func BenchmarkCQRSMapValuesJSON(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "cqrs", Type: "valueTransformer", Code: src(cqrsCode, 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.CallJSON(nil, "user-42", cqrsInput); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreGetPut(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	st := newMemKV("counts")
	ctx := &CallContext{Stores: map[string]Store{"counts": st}}
	f := define(b, m, FunctionSpec{Name: "count", Type: "valueTransformer", Stores: []string{"counts"},
		Code: src("n = counts.get(key)\nn = 1 if n is None else n + 1\ncounts.put(key, n)\nreturn n", 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Call(ctx, "k", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainConverted runs two valueTransformers, converting the value
// to the data model between them and writing JSON in Go at the end.
func BenchmarkChainConverted(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "cqrs", Type: "valueTransformer", Code: src(cqrsCode, 1)})
	g := define(b, m, FunctionSpec{Name: "tag", Type: "valueTransformer", Code: src("value['source'] = 'ksml'\nreturn value", 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := f.Call(nil, "user-42", cqrsInput)
		if err != nil {
			b.Fatal(err)
		}
		v, err = g.Call(nil, "user-42", v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := types.MarshalJSON(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainDeferred runs the same chain keeping the value a live
// Python object (CallDeferred) and writing JSON in C.
func BenchmarkChainDeferred(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "cqrs", Type: "valueTransformer", Code: src(cqrsCode, 1)})
	g := define(b, m, FunctionSpec{Name: "tag", Type: "valueTransformer", Code: src("value['source'] = 'ksml'\nreturn value", 1)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := f.CallDeferred(nil, "user-42", cqrsInput)
		if err != nil {
			b.Fatal(err)
		}
		w, err := g.CallDeferred(nil, "user-42", v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.(*Object).KSMLJSON(); err != nil {
			b.Fatal(err)
		}
		w.(*Object).Release()
		v.(*Object).Release()
	}
}

// BenchmarkCallOverhead is the bridge alone: a generic function without
// arguments that returns None (cgo crossing, GIL, call, result).
func BenchmarkCallOverhead(b *testing.B) {
	env := setup(b, Options{})
	m := env.module(b, "bench")
	f := define(b, m, FunctionSpec{Name: "noop", Type: "generic"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Call(nil); err != nil {
			b.Fatal(err)
		}
	}
}
