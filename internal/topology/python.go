package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
)

// PythonFunctions compiles definition functions on the embedded CPython.
// Each definition gets one module (shared globals, as upstream); all of its
// top-level functions are defined when the module is created, so their
// globalCode runs and helpers are callable from other functions even when
// no operation uses them.
type PythonFunctions struct {
	interp *python.Interpreter
	// stores is the catalogue of the build this compiler serves, set by
	// the first Compile that passes one.
	stores  *StoreCatalog
	modules map[*definition.Definition]*python.Module
	defined map[*definition.FunctionDef]*pyFunction
}

// NewPythonFunctions returns a compiler for one topology build (and the
// producers beside it).
func NewPythonFunctions(in *python.Interpreter) *PythonFunctions {
	return &PythonFunctions{interp: in,
		modules: map[*definition.Definition]*python.Module{}, defined: map[*definition.FunctionDef]*pyFunction{}}
}

// CodeChecker adapts python.CheckSyntax to definition.Options.Code.
var CodeChecker = definition.CodeCheckerFunc(func(src string, kind definition.CodeKind) *definition.CodeError {
	k := python.GlobalCode
	switch kind {
	case definition.FunctionBody:
		k = python.FunctionBody
	case definition.Expression:
		k = python.Expression
	}
	if e := python.CheckSyntax(src, k); e != nil {
		return &definition.CodeError{Line: e.Line, Col: e.Col, Msg: e.Msg}
	}
	return nil
})

func (p *PythonFunctions) module(def *definition.Definition) (*python.Module, error) {
	if m, ok := p.modules[def]; ok {
		return m, nil
	}
	var props map[string]any
	if def.Configuration != nil {
		props = make(map[string]any, len(def.Configuration.Properties))
		for k, v := range def.Configuration.Properties {
			props[k] = v
		}
	}
	m, err := p.interp.NewModule(def.Namespace, def.File, props)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", def.File, err)
	}
	p.modules[def] = m
	for _, fn := range def.Functions {
		if _, err := p.define(m, fn); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func source(c *definition.Code) python.Source {
	if c == nil {
		return python.Source{}
	}
	return python.Source{Text: c.Text, File: c.Pos.File, Line: c.Pos.Line}
}

func (p *PythonFunctions) define(m *python.Module, fn *definition.FunctionDef) (*pyFunction, error) {
	if f, ok := p.defined[fn]; ok {
		return f, nil
	}
	spec := python.FunctionSpec{
		Name:       fn.Name,
		Type:       string(fn.Type),
		GlobalCode: source(fn.GlobalCode),
		Code:       source(fn.Code),
		Expression: source(fn.Expression),
		ResultType: fn.ResultType.Text,
	}
	for _, prm := range fn.Parameters {
		pp := python.Parameter{Name: prm.Name, Type: prm.Type.Text}
		if prm.DefaultValue != nil {
			pp.Default = *prm.DefaultValue
		}
		spec.Parameters = append(spec.Parameters, pp)
	}
	for _, sr := range fn.Stores {
		name := sr.Name
		if sr.Def != nil {
			name = sr.Def.Name
		}
		spec.Stores = append(spec.Stores, name)
	}
	f, err := m.Define(spec)
	if err != nil {
		return nil, &BuildError{Pos: fn.Pos, Msg: err.Error()}
	}
	pf := &pyFunction{f: f, storeNames: spec.Stores, compiler: p}
	p.defined[fn] = pf
	return pf, nil
}

// Compile implements FunctionCompiler. Functions find their stores in the
// catalogue when called; passing a different catalogue than an earlier
// Compile is an error, as one module's functions serve one build.
func (p *PythonFunctions) Compile(def *definition.Definition, fn *definition.FunctionDef, stores *StoreCatalog) (Function, error) {
	switch {
	case stores == nil || p.stores == stores:
	case p.stores == nil:
		p.stores = stores
	default:
		return nil, &BuildError{Pos: fn.Pos, Msg: fmt.Sprintf("function %q: the Python function compiler already serves another topology build", fn.Name)}
	}
	m, err := p.module(def)
	if err != nil {
		return nil, err
	}
	return p.define(m, fn)
}

// pyFunction calls a Python function with the stores it declared, as seen
// from the calling node's task. The call context is built once per node and
// task and kept on the processor context, so it goes away with the task.
type pyFunction struct {
	f          *python.Function
	storeNames []string
	compiler   *PythonFunctions // its stores are the build's catalogue
}

func (f *pyFunction) Call(pc *streams.ProcessorContext, args ...any) (any, error) {
	var cc *python.CallContext
	if len(f.storeNames) > 0 && pc != nil {
		var err error
		if cc, err = f.context(pc); err != nil {
			return nil, err
		}
	}
	return f.f.Call(cc, args...)
}

func (f *pyFunction) context(pc *streams.ProcessorContext) (*python.CallContext, error) {
	if cc, ok := pc.Attachment(f).(*python.CallContext); ok {
		return cc, nil
	}
	cc := &python.CallContext{Stores: make(map[string]python.Store, len(f.storeNames))}
	for _, name := range f.storeNames {
		st, err := pc.Store(name)
		if err != nil {
			return nil, err
		}
		b := f.compiler.stores.KeyValue(name)
		if b == nil {
			ps, err := f.compiler.stores.windowedPythonStore(name, st)
			if err != nil {
				return nil, err
			}
			cc.Stores[name] = ps
			continue
		}
		if b.Timestamped {
			ts, err := b.TypedTimestamped(st)
			if err != nil {
				return nil, err
			}
			cc.Stores[name] = pyTimestamped{ts}
			continue
		}
		typed, err := b.Typed(st)
		if err != nil {
			return nil, err
		}
		cc.Stores[name] = PythonStore(typed)
	}
	pc.SetAttachment(f, cc)
	return cc, nil
}

// PythonStore exposes a typed key/value store with upstream's Python store
// API.
func PythonStore(kv *store.KeyValue) python.KeyValueStore { return pyKeyValue{kv} }

type pyKeyValue struct{ *store.KeyValue }

func (s pyKeyValue) IsOpen() bool { return true }

func (s pyKeyValue) ApproximateNumEntries() (int64, error) {
	return s.KeyValue.ApproximateNumEntries(), nil
}

func (s pyKeyValue) All() (python.Iterator, error) {
	entries, err := s.KeyValue.All()
	if err != nil {
		return nil, err
	}
	return &entryIterator{entries: entries}, nil
}

// pyTimestamped exposes a timestamped store: get returns {value,
// timestamp} and put/putIfAbsent take an optional timestamp.
type pyTimestamped struct{ *store.Timestamped }

func (s pyTimestamped) IsOpen() bool { return true }

func (s pyTimestamped) ApproximateNumEntries() (int64, error) {
	return s.Timestamped.ApproximateNumEntries(), nil
}

func (s pyTimestamped) All() (python.Iterator, error) {
	entries, err := s.Timestamped.All()
	if err != nil {
		return nil, err
	}
	return &entryIterator{entries: entries}, nil
}

var _ python.TimestampedKeyValueStore = pyTimestamped{}

type entryIterator struct {
	entries []store.Entry
	i       int
}

func (it *entryIterator) Next() (python.KeyValue, bool) {
	if it.i >= len(it.entries) {
		return python.KeyValue{}, false
	}
	e := it.entries[it.i]
	it.i++
	return python.KeyValue{Key: e.Key, Value: e.Value}, true
}

func (it *entryIterator) Close() error { return nil }
