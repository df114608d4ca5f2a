package runner

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/topology"
)

// timedFunctions compiles functions with the Python compiler and times
// every call into ksml_execution_time once metrics are on. The registry is
// set after the topology is built (Run starts the metrics endpoint), so the
// functions read it at call time: with metrics off a call costs one atomic
// load more than the bare function.
type timedFunctions struct {
	inner  topology.FunctionCompiler
	timers *atomic.Pointer[observability.Registry]
}

// Compile implements topology.FunctionCompiler.
func (t *timedFunctions) Compile(def *definition.Definition, fn *definition.FunctionDef, stores *topology.StoreCatalog) (topology.Function, error) {
	f, err := t.inner.Compile(def, fn, stores)
	if err != nil {
		return nil, err
	}
	return &timedFunction{f: f, timers: t.timers, namespace: def.Namespace, name: fn.Name, typ: string(fn.Type)}, nil
}

// timedFunction is one compiled function. Its timers are labelled by the
// calling node (upstream's pipeline, operation-name and step labels), kept
// on the node's processor context; calls without a node (producers) share
// one timer.
type timedFunction struct {
	f         topology.Function
	timers    *atomic.Pointer[observability.Registry]
	namespace string
	name      string
	typ       string
	mu        sync.Mutex
	noNode    *observability.Timer
	noNodeOf  *observability.Registry
}

// Call implements topology.Function.
func (f *timedFunction) Call(pc *streams.ProcessorContext, args ...any) (any, error) {
	reg := f.timers.Load()
	if reg == nil {
		return f.f.Call(pc, args...)
	}
	tm := f.timer(reg, pc)
	start := time.Now()
	res, err := f.f.Call(pc, args...)
	tm.Since(start)
	return res, err
}

// nodeTimer is a timer cached on a processor context, with the registry it
// belongs to (a runner restarted with a new registry gets new timers).
type nodeTimer struct {
	reg *observability.Registry
	tm  *observability.Timer
}

func (f *timedFunction) timer(reg *observability.Registry, pc *streams.ProcessorContext) *observability.Timer {
	if pc == nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.noNodeOf != reg {
			f.noNode = reg.ExecutionTimer(observability.FunctionLabels{
				Namespace: f.namespace, FunctionType: f.typ, FunctionName: f.name,
			})
			f.noNodeOf = reg
		}
		return f.noNode
	}
	if nt, ok := pc.Attachment(f).(*nodeTimer); ok && nt.reg == reg {
		return nt.tm
	}
	labels := observability.FunctionLabels{Namespace: f.namespace, FunctionType: f.typ, FunctionName: f.name,
		OperationName: pc.NodeName()}
	if nn, ok := observability.ParseNodeName(pc.NodeName()); ok {
		labels.Pipeline, labels.Step = nn.Pipeline, nn.Step
	}
	nt := &nodeTimer{reg: reg, tm: reg.ExecutionTimer(labels)}
	pc.SetAttachment(f, nt)
	return nt.tm
}
