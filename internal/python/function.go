package python

/*
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ksml-dev/ksml/internal/types"
)

// Source is a piece of Python code from a definition file. Line is the YAML
// line of the first line of Text, so errors and tracebacks name file:LINE in
// the YAML file. An empty Text means the piece is absent.
type Source struct {
	Text string
	File string
	Line int
}

// Parameter is an extra parameter of a function, appended after the
// built-in ones; it is always optional. A parameter named like a built-in
// one (or repeated) is ignored, as upstream merges them. Default, when not nil, is applied as
// upstream does: `if p is None: p = <default>`, where a default of a string
// parameter is a string and other defaults given as text are Python
// expressions.
type Parameter struct {
	Name    string
	Type    string
	Default any
}

// FunctionSpec describes one KSML function.
type FunctionSpec struct {
	// Name is the function's name; it is also its Python name in the module
	// (characters that are not valid in identifiers become '_').
	Name string
	// Type is one of the KSML function types by upstream name (predicate,
	// valueTransformer, ...); empty means generic.
	Type string
	// LoggerKind is the middle part of the logger name
	// <namespace>.<kind>.<name>: "function" (the default), "generator" or
	// "condition", as upstream names them.
	LoggerKind string
	Parameters []Parameter
	GlobalCode Source
	Code       Source
	Expression Source
	// ResultType is the declared resultType in the KSML type grammar; empty
	// uses the function type's default (if any) and otherwise keeps the value
	// as Python returned it; "null" or "none" discards the result.
	ResultType string
	// Result, when not nil, is the already parsed resultType; it takes
	// precedence over ResultType (which then only names it in messages).
	Result types.DataType
	// Stores names the state stores the function may use; each is a local
	// variable of that name (and an entry of `stores`).
	Stores []string
}

type resultRule int

const (
	ruleAny resultRule = iota
	ruleNone
	ruleBool
	ruleKeyValue
	ruleKeyValueList
	ruleList
	rulePartitions
	ruleLong
	ruleString
	ruleToString
	ruleGenerator
	ruleStruct
)

type functionType struct {
	params      []string
	defaultExpr string
	rule        resultRule
}

var (
	kv       = []string{"key", "value"}
	kvTwo    = []string{"key", "value1", "value2"}
	twoVals  = []string{"value1", "value2"}
	kvAgg    = []string{"key", "value", "aggregatedValue"}
	kvMeta   = []string{"key", "value", "metadata"}
	kvRecCtx = []string{"key", "value", "recordContext"}
)

// functionTypes holds the built-in parameters, default expression and result
// rule of every KSML function type (upstream definition/*Definition.java).
var functionTypes = map[string]functionType{
	"generic":                           {},
	"aggregator":                        {params: kvAgg, defaultExpr: "aggregatedValue"},
	"forEach":                           {params: kv, rule: ruleNone},
	"foreachAction":                     {params: kv, rule: ruleNone},
	"foreignKeyExtractor":               {params: []string{"value"}},
	"generator":                         {rule: ruleGenerator},
	"initializer":                       {},
	"keyTransformer":                    {params: kv, defaultExpr: "key"},
	"keyValueMapper":                    {params: kv},
	"keyValuePrinter":                   {params: kv, rule: ruleToString},
	"keyValueToKeyValueListTransformer": {params: kv, defaultExpr: "[(key,value)]", rule: ruleKeyValueList},
	"keyValueToValueListTransformer":    {params: kv, defaultExpr: "[value]", rule: ruleList},
	"keyValueTransformer":               {params: kv, defaultExpr: "(key,value)", rule: ruleKeyValue},
	"merger":                            {params: kvTwo},
	"metadataTransformer":               {params: kvMeta, defaultExpr: "metadata", rule: ruleStruct},
	"predicate":                         {params: kv, defaultExpr: "True", rule: ruleBool},
	"reducer":                           {params: twoVals},
	"streamPartitioner":                 {params: []string{"topic", "key", "value", "numPartitions"}, rule: rulePartitions},
	"timestampExtractor":                {params: []string{"record", "previousTimestamp"}, rule: ruleLong},
	"topicNameExtractor":                {params: kvRecCtx, rule: ruleString},
	"valueJoiner":                       {params: kvTwo},
	"valueTransformer":                  {params: kv, defaultExpr: "value"},
}

// FunctionTypes returns the names of the function types Define accepts.
func FunctionTypes() []string {
	names := make([]string, 0, len(functionTypes))
	for n := range functionTypes {
		names = append(names, n)
	}
	return names
}

// Function is a compiled KSML function, ready to call from any goroutine.
type Function struct {
	module    *Module
	name      string // namespace.name, for messages
	typ       string
	ref       *pyRef
	nparams   int
	nrequired int
	rule      resultRule
	result    types.DataType // nil: no conversion
	discard   bool
	hasStores bool
	id        int64 // index in functionNames, for the watchdog
	// at is where the function's expression or code is written: result
	// errors point there.
	at Source
}

// functionNames names the functions by id, so the watchdog can say which
// function a stuck call runs without a Go pointer in C.
var (
	functionNamesMu sync.RWMutex
	functionNames   []string
)

func registerFunction(name string) int64 {
	functionNamesMu.Lock()
	defer functionNamesMu.Unlock()
	functionNames = append(functionNames, name)
	return int64(len(functionNames) - 1)
}

func functionName(id int64) string {
	functionNamesMu.RLock()
	defer functionNamesMu.RUnlock()
	if id < 0 || int(id) >= len(functionNames) {
		return "(definition code)"
	}
	return functionNames[id]
}

// Name returns the function's qualified name, namespace.name.
func (f *Function) Name() string { return f.name }

// FunctionError is an error raised by a function: a Python exception, a
// timeout, or a result that breaks the function type's rules. File and Line
// give the YAML position of the failing statement when known.
type FunctionError struct {
	Function  string // namespace.name
	File      string
	Line      int
	Type      string // Python exception type, e.g. "KeyError"; empty for result errors
	Message   string
	Traceback string // Python's formatted traceback, if any
	Timeout   bool
}

// Error reads "file:line: Error while executing function ns.name: Type:
// message"; the phrase is upstream's, so logs and test-runner messages read
// the same as there.
func (e *FunctionError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
		b.WriteString(itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString("Error while executing function ")
	b.WriteString(e.Function)
	b.WriteString(": ")
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

func (m *Module) functionError(name string, err error) error {
	var pe *pyError
	if errors.As(err, &pe) {
		fe := &FunctionError{Function: name, File: pe.File, Line: pe.Line, Type: pe.Type, Message: pe.Message,
			Traceback: pe.Traceback, Timeout: pe.Timeout}
		if pe.Timeout {
			fe.Type = "FunctionTimeout"
			fe.Message = "the call ran longer than ksml.pythonContext.functionTimeout (" +
				timeoutString() + ") and was interrupted"
		}
		return fe
	}
	return &FunctionError{Function: name, Message: err.Error()}
}

func timeoutString() string {
	return time.Duration(timeoutNanos.Load()).String()
}

func sourceArg(s Source, file string) any {
	if s.Text == "" {
		return nil
	}
	if s.File != "" {
		file = s.File
	}
	line := s.Line
	if line < 1 {
		line = 1
	}
	return types.Tuple{s.Text, file, int64(line)}
}

// Define compiles a function into the module. It runs the function's
// globalCode (in the module's namespace), so errors of that code surface
// here as *FunctionError.
func (m *Module) Define(spec FunctionSpec) (*Function, error) {
	typ := spec.Type
	if typ == "" {
		typ = "generic"
	}
	ft, ok := functionTypes[typ]
	if !ok {
		return nil, fmt.Errorf("function %s: unknown function type %q", spec.Name, spec.Type)
	}
	if spec.Name == "" {
		return nil, errors.New("function without a name")
	}
	qualified := m.namespace + "." + spec.Name
	fn := &Function{module: m, name: qualified, typ: typ, rule: ft.rule, nrequired: len(ft.params), at: spec.Code}
	if spec.Expression.Text != "" || spec.Code.File == "" {
		fn.at = spec.Expression
	}
	fn.at.Text = ""
	seen := map[string]bool{"log": true}
	params := make([]any, 0, len(ft.params)+len(spec.Parameters))
	for _, p := range ft.params {
		seen[p] = true
		params = append(params, p)
	}
	defaults := []any{}
	for _, p := range spec.Parameters {
		if !isIdentifier(p.Name) {
			return nil, fmt.Errorf("function %s: parameter name %q is not a Python identifier", qualified, p.Name)
		}
		if p.Name == "log" {
			return nil, fmt.Errorf("function %s: parameter %q would hide the function's logger", qualified, p.Name)
		}
		if seen[p.Name] {
			continue // as upstream: a built-in or repeated parameter is taken once
		}
		seen[p.Name] = true
		params = append(params, p.Name)
		if p.Default == nil {
			continue
		}
		mode, val := "const", p.Default
		if s, isStr := p.Default.(string); isStr && !strings.EqualFold(p.Type, "string") && !strings.EqualFold(p.Type, "str") {
			mode = "expr"
			val = s
		} else if strings.EqualFold(p.Type, "string") || strings.EqualFold(p.Type, "str") {
			val = fmt.Sprint(p.Default)
		}
		defaults = append(defaults, types.Tuple{p.Name, mode, val})
	}
	fn.nparams = len(params)
	stores := make([]any, 0, len(spec.Stores))
	for _, s := range spec.Stores {
		if !isIdentifier(s) {
			return nil, fmt.Errorf("function %s: store name %q is not a Python identifier", qualified, s)
		}
		if seen[s] {
			return nil, fmt.Errorf("function %s: store %q has the name of a parameter", qualified, s)
		}
		seen[s] = true
		stores = append(stores, s)
	}
	fn.hasStores = len(stores) > 0

	rt := strings.TrimSpace(spec.ResultType)
	defaultExpr := ft.defaultExpr
	switch {
	case ft.rule == ruleNone:
		fn.discard = true
		defaultExpr = ""
	case strings.EqualFold(rt, "null") || strings.EqualFold(rt, "none"):
		fn.discard = true
		defaultExpr = ""
	case spec.Result != nil:
		fn.result = spec.Result
	case rt != "":
		ut, err := types.ParseUserType(rt)
		if err != nil {
			return nil, fmt.Errorf("function %s: resultType: %w", qualified, err)
		}
		fn.result = ut.Type
	}
	kind := spec.LoggerKind
	if kind == "" {
		kind = "function"
	}
	var defExpr any
	if defaultExpr != "" {
		defExpr = defaultExpr
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var deadline int64
	if t := timeoutNanos.Load(); t > 0 {
		deadline = monoNanos() + t // globalCode runs under the function timeout too
	}
	res, err := helperWithDeadline("define", deadline, m.globals, m.namespace, kind, spec.Name, params, int64(fn.nrequired), defaults,
		sourceArg(spec.GlobalCode, m.file), sourceArg(spec.Code, m.file), sourceArg(spec.Expression, m.file),
		defExpr, stores)
	if err != nil {
		return nil, m.functionError(qualified, err)
	}
	ref, ok := res.(*pyRef)
	if !ok {
		releaseRefs(res)
		return nil, fmt.Errorf("function %s: the bridge returned no function", qualified)
	}
	fn.ref = ref
	fn.id = registerFunction(qualified)
	return fn, nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r > 127 || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

var encoders = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 512)} }}

// invoke runs the function and leaves the encoded result (or error) in out.
func (f *Function) invoke(ctx *CallContext, args []any, jsonOut bool, out *C.ksml_buf) (C.int, error) {
	mode := 0
	if jsonOut {
		mode = 1
	}
	return f.invokeMode(ctx, args, mode, out)
}

func (f *Function) invokeMode(ctx *CallContext, args []any, mode int, out *C.ksml_buf) (C.int, error) {
	if len(args) < f.nrequired || len(args) > f.nparams {
		if f.nrequired == f.nparams {
			return 0, &FunctionError{Function: f.name, Message: fmt.Sprintf("expects %d arguments, got %d", f.nparams, len(args))}
		}
		return 0, &FunctionError{Function: f.name, Message: fmt.Sprintf("expects %d to %d arguments, got %d", f.nrequired, f.nparams, len(args))}
	}
	enc := encoders.Get().(*encoder)
	enc.buf = enc.buf[:0]
	defer encoders.Put(enc)
	for i, a := range args {
		if err := enc.value(a); err != nil {
			return 0, &FunctionError{Function: f.name, Message: fmt.Sprintf("argument %d: %v", i+1, err)}
		}
	}
	var handle C.uintptr_t
	if f.hasStores && ctx != nil {
		h := cgo.NewHandle(ctx)
		defer h.Delete()
		handle = C.uintptr_t(h)
	}
	releaseOrphans()
	var deadline int64
	if t := timeoutNanos.Load(); t > 0 {
		deadline = monoNanos() + t
	}
	var in *C.char
	if len(enc.buf) > 0 {
		in = (*C.char)(unsafe.Pointer(&enc.buf[0]))
	}
	rc := C.ksml_call(f.ref.p, in, C.size_t(len(enc.buf)), C.int(len(args)), handle, C.int64_t(deadline), C.int64_t(f.id), C.int(mode), out)
	runtime.KeepAlive(args) // live objects among args must outlive the call
	switch rc {
	case C.KSML_OK:
		return rc, nil
	case C.KSML_PYERR:
		return rc, f.module.functionError(f.name, decodePyError(bufBytes(out)))
	case C.KSML_ARGERR:
		return rc, &FunctionError{Function: f.name, Message: "argument: " + bufString(out)}
	case C.KSML_FATAL:
		return rc, &FunctionError{Function: f.name, Message: bufString(out)}
	default:
		return rc, &FunctionError{Function: f.name, Message: "result: " + bufString(out)}
	}
}

// Call runs the function with args in the data model of internal/types (a
// value implementing types.JSONMarshaler enters Python through the C JSON
// scanner). The result follows the function type's rules and is converted to
// the declared resultType. Any failure is a *FunctionError; no Python error
// can crash the process.
func (f *Function) Call(ctx *CallContext, args ...any) (any, error) {
	out := getOut()
	defer putOut(out)
	if _, err := f.invoke(ctx, args, false, out); err != nil {
		return nil, err
	}
	if f.discard {
		return nil, nil
	}
	v, err := decodeValue(bufBytes(out), false)
	if err != nil {
		return nil, &FunctionError{Function: f.name, Message: err.Error()}
	}
	v, err = f.applyRule(v)
	if err != nil {
		return nil, &FunctionError{Function: f.name, Message: err.Error()}
	}
	if f.result != nil && v != nil {
		if _, ok := f.result.(types.WindowedType); ok {
			v = windowedOf(v)
		}
		if v, err = bytesWhereDeclared(v, f.result); err != nil {
			return nil, &FunctionError{Function: f.name, File: f.at.File, Line: f.at.Line, Message: "result does not match resultType: " + err.Error()}
		}
		c, err := types.Convert(v, f.result)
		if err != nil {
			return nil, &FunctionError{Function: f.name, File: f.at.File, Line: f.at.Line, Message: "result does not match resultType: " + err.Error()}
		}
		v = c
	}
	return v, nil
}

// CallJSON runs the function and returns its result as compact JSON text,
// written by C straight from the Python objects (dict keys in insertion
// order, "@type"/"@schema" dropped). It is for results that go to a JSON
// sink unchanged: the function type's rules and resultType are not applied.
func (f *Function) CallJSON(ctx *CallContext, args ...any) ([]byte, error) {
	out := getOut()
	defer putOut(out)
	if _, err := f.invoke(ctx, args, true, out); err != nil {
		return nil, err
	}
	return append([]byte(nil), bufBytes(out)...), nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case types.Tuple:
		return "tuple"
	case *types.Struct:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

func asPair(v any) (types.Tuple, bool) {
	switch x := v.(type) {
	case types.Tuple:
		return x, len(x) == 2
	case []any:
		return types.Tuple(x), len(x) == 2
	}
	return nil, false
}

func (f *Function) applyRule(v any) (any, error) {
	switch f.rule {
	case ruleBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("a %s must return a boolean, got %s", f.typ, typeName(v))
	case ruleKeyValue:
		if p, ok := asPair(v); ok {
			return p, nil
		}
		return nil, fmt.Errorf("a %s must return a (key, value) tuple, got %s", f.typ, typeName(v))
	case ruleKeyValueList:
		items, ok := v.([]any)
		if t, isTuple := v.(types.Tuple); isTuple {
			items, ok = []any(t), true
		}
		if v == nil {
			return []any{}, nil
		}
		if !ok {
			return nil, fmt.Errorf("a %s must return a list of (key, value) tuples, got %s", f.typ, typeName(v))
		}
		outList := make([]any, len(items))
		for i, it := range items {
			p, ok := asPair(it)
			if !ok {
				return nil, fmt.Errorf("a %s must return a list of (key, value) tuples; item %d is %s", f.typ, i, typeName(it))
			}
			outList[i] = p
		}
		return outList, nil
	case ruleList:
		switch x := v.(type) {
		case nil:
			return []any{}, nil
		case []any:
			return x, nil
		case types.Tuple:
			return []any(x), nil
		}
		return nil, fmt.Errorf("a %s must return a list, got %s", f.typ, typeName(v))
	case rulePartitions:
		// An int or a list of ints; anything else means default partitioning.
		switch x := v.(type) {
		case int64:
			return x, nil
		case []any:
			for _, it := range x {
				if _, ok := it.(int64); !ok {
					return nil, nil
				}
			}
			return x, nil
		}
		return nil, nil
	case ruleLong:
		if n, ok := v.(int64); ok {
			return n, nil
		}
		return nil, fmt.Errorf("a %s must return a timestamp (int), got %s", f.typ, typeName(v))
	case ruleString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("a %s must return a string, got %s", f.typ, typeName(v))
	case ruleToString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return types.Format(v), nil
	case ruleGenerator:
		if v == nil {
			return nil, nil
		}
		if p, ok := asPair(v); ok {
			if _, isList := v.([]any); !isList {
				return p, nil
			}
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("a generator must return a (key, value) tuple or a list of them, got %s", typeName(v))
		}
		outList := make([]any, len(items))
		for i, it := range items {
			p, ok := asPair(it)
			if !ok {
				return nil, fmt.Errorf("a generator must return a (key, value) tuple or a list of them; item %d is %s", i, typeName(it))
			}
			outList[i] = p
		}
		return outList, nil
	case ruleStruct:
		if s, ok := v.(*types.Struct); ok {
			return s, nil
		}
		return nil, fmt.Errorf("a %s must return a dict, got %s", f.typ, typeName(v))
	}
	return v, nil
}

// windowedOf turns a {start, end, key} dict (as Python sees windowed keys)
// back into a types.Windowed; other values are returned unchanged.
func windowedOf(v any) any {
	s, ok := v.(*types.Struct)
	if !ok {
		return v
	}
	start, ok1 := s.Get("start")
	end, ok2 := s.Get("end")
	key, ok3 := s.Get("key")
	st, ok4 := start.(int64)
	en, ok5 := end.(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return v
	}
	return types.Windowed{Key: key, Start: st, End: en}
}

// bytesOf turns a list of ints (how Python sees bytes, as upstream) into
// bytes; ints may be signed (-128..127) or unsigned (0..255). It returns nil
// for other values.
// bytesWhereDeclared turns Python lists of ints into bytes wherever type t
// declares bytes: the whole value, tuple members and list elements (as
// upstream converts a list to bytes when bytes are expected, at any depth).
// A fresh result is changed in place.
func bytesWhereDeclared(v any, t types.DataType) (any, error) {
	switch tt := t.(type) {
	case types.Primitive:
		if tt.Kind == types.KindBytes {
			if b, err := bytesOf(v); err != nil {
				return nil, err
			} else if b != nil {
				return b, nil
			}
		}
	case types.TupleType:
		if x, ok := v.(types.Tuple); ok {
			for i := range x {
				if i >= len(tt.Elems) {
					break
				}
				e, err := bytesWhereDeclared(x[i], tt.Elems[i])
				if err != nil {
					return nil, fmt.Errorf("tuple element %d: %w", i, err)
				}
				x[i] = e
			}
		}
	case types.ListType:
		if x, ok := v.([]any); ok {
			for i := range x {
				e, err := bytesWhereDeclared(x[i], tt.Elem)
				if err != nil {
					return nil, fmt.Errorf("list element %d: %w", i, err)
				}
				x[i] = e
			}
		}
	}
	return v, nil
}

func bytesOf(v any) ([]byte, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, nil
	}
	b := make([]byte, len(list))
	for i, it := range list {
		n, ok := it.(int64)
		if !ok || n < -128 || n > 255 {
			return nil, fmt.Errorf("item %d of a bytes list is %v, not a byte value", i, it)
		}
		b[i] = byte(n)
	}
	return b, nil
}
