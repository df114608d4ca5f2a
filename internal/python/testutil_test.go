package python

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

// logRecord is one captured log call.
type logRecord struct {
	Level  slog.Level
	Logger string
	Msg    string
}

// captureHandler records log calls at or above its level.
type captureHandler struct {
	mu      sync.Mutex
	level   slog.Level
	records []logRecord
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "logger" {
			rec.Logger = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) take() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.records
	h.records = nil
	return r
}

// memMetrics records user metrics by "kind name tags".
type memMetrics struct {
	mu     sync.Mutex
	values map[string]float64
}

type memInstrument struct {
	m   *memMetrics
	key string
}

func (i memInstrument) Record(v float64) {
	i.m.mu.Lock()
	i.m.values[i.key] += v
	i.m.mu.Unlock()
}

func (m *memMetrics) UserMetric(kind MetricKind, name string, tags map[string]string) Instrument {
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return memInstrument{m: m, key: kind.String() + " " + name + " " + strings.Join(keys, ",")}
}

func (m *memMetrics) get(key string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[key]
}

type testEnv struct {
	in      *Interpreter
	logs    *captureHandler
	metrics *memMetrics
}

// setup initializes the interpreter for a test with opts (Logger and
// Metrics are filled in).
func setup(t testing.TB, opts Options) *testEnv {
	t.Helper()
	env := &testEnv{logs: &captureHandler{level: slog.LevelDebug - 4}, metrics: &memMetrics{values: map[string]float64{}}}
	opts.Logger = slog.New(env.logs)
	opts.Metrics = env.metrics
	in, err := Init(opts)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	env.in = in
	t.Cleanup(func() {
		// Leave permissive defaults for the next test.
		if _, err := Init(Options{}); err != nil {
			t.Errorf("Init: %v", err)
		}
	})
	return env
}

func (e *testEnv) module(t testing.TB, ns string) *Module {
	t.Helper()
	m, err := e.in.NewModule(ns, ns+".yaml", map[string]any{"service.discovery.url": "http://registry:8500", "answer": int64(42)})
	if err != nil {
		t.Fatalf("NewModule: %v", err)
	}
	return m
}

func define(t testing.TB, m *Module, spec FunctionSpec) *Function {
	t.Helper()
	f, err := m.Define(spec)
	if err != nil {
		t.Fatalf("Define(%s): %v", spec.Name, err)
	}
	return f
}

func call(t testing.TB, f *Function, ctx *CallContext, args ...any) any {
	t.Helper()
	v, err := f.Call(ctx, args...)
	if err != nil {
		t.Fatalf("Call(%s): %v", f.Name(), err)
	}
	return v
}

// show renders a data-model value for exact comparisons.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *types.Struct:
		var b strings.Builder
		b.WriteString("{")
		if x.Schema != nil {
			b.WriteString("<" + x.Schema.Name + ">")
		}
		for i, k := range x.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			val, _ := x.Get(k)
			b.WriteString(k + ": " + show(val))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = show(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case types.Tuple:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = show(it)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case string:
		return fmt.Sprintf("%q", x)
	case []byte:
		return fmt.Sprintf("b%q", x)
	case int64:
		return fmt.Sprintf("%d", x)
	case float64:
		return fmt.Sprintf("%gf", x)
	case bool:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func structOf(kv ...any) *types.Struct {
	s := types.NewStruct(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		s.Set(kv[i].(string), kv[i+1])
	}
	return s
}
