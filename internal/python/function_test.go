package python

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

func src(text string, line int) Source { return Source{Text: text, File: "pipeline.yaml", Line: line} }

func TestFunctionTypes(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "types")
	meta := structOf("timestamp", int64(1000), "headers", []any{structOf("key", "h", "value", "v")})
	record := structOf("timestamp", int64(5), "timestampType", "CreateTime", "key", "k", "value", structOf("ts", int64(77)),
		"topic", "in", "partition", int64(0), "offset", int64(3))
	cases := []struct {
		typ    string
		spec   FunctionSpec
		args   []any
		want   string
		result string
	}{
		{typ: "valueTransformer", spec: FunctionSpec{Parameters: []Parameter{{Name: "value", Type: "object"}, {Name: "n"}, {Name: "n"}}, Code: src("global metrics\nreturn (value, n)", 3)},
			args: []any{"k", int64(1), int64(2)}, want: "(1, 2)"},
		{typ: "generic", spec: FunctionSpec{Parameters: []Parameter{{Name: "a", Type: "int"}, {Name: "b", Type: "int"}}, Expression: src("a * b", 3)},
			args: []any{int64(6), int64(7)}, want: "42"},
		{typ: "aggregator", spec: FunctionSpec{Expression: src("aggregatedValue + value", 3)}, args: []any{"k", int64(2), int64(40)}, want: "42"},
		{typ: "aggregator", spec: FunctionSpec{}, args: []any{"k", int64(2), int64(40)}, want: "40"},
		{typ: "forEach", spec: FunctionSpec{Code: src("x = key + value", 3)}, args: []any{"a", "b"}, want: "None"},
		{typ: "foreignKeyExtractor", spec: FunctionSpec{Expression: src("value['fk']", 3)}, args: []any{structOf("fk", "other")}, want: `"other"`},
		{typ: "generator", spec: FunctionSpec{Code: src("return ('k1', {'n': 1})", 3)}, want: `("k1", {n: 1})`},
		{typ: "generator", spec: FunctionSpec{Expression: src("[('a', 1), ('b', 2)]", 3)}, want: `[("a", 1), ("b", 2)]`},
		{typ: "generator", spec: FunctionSpec{Expression: src("None", 3)}, want: "None"},
		{typ: "initializer", spec: FunctionSpec{Expression: src("{'count': 0}", 3)}, want: "{count: 0}"},
		{typ: "keyTransformer", spec: FunctionSpec{Expression: src("key.upper()", 3)}, args: []any{"abc", nil}, want: `"ABC"`},
		{typ: "keyTransformer", spec: FunctionSpec{}, args: []any{"abc", nil}, want: `"abc"`},
		{typ: "keyValueMapper", spec: FunctionSpec{Expression: src("value['region']", 3)}, args: []any{"k", structOf("region", "eu")}, want: `"eu"`},
		{typ: "keyValuePrinter", spec: FunctionSpec{Expression: src("f'{key}={value}'", 3)}, args: []any{"k", int64(1)}, want: `"k=1"`},
		{typ: "keyValueToKeyValueListTransformer", spec: FunctionSpec{Expression: src("[(key, v) for v in value]", 3)}, args: []any{"k", []any{int64(1), int64(2)}}, want: `[("k", 1), ("k", 2)]`},
		{typ: "keyValueToKeyValueListTransformer", spec: FunctionSpec{}, args: []any{"k", "v"}, want: `[("k", "v")]`},
		{typ: "keyValueToValueListTransformer", spec: FunctionSpec{Expression: src("value.split(',')", 3)}, args: []any{"k", "a,b"}, want: `["a", "b"]`},
		{typ: "keyValueToValueListTransformer", spec: FunctionSpec{}, args: []any{"k", "v"}, want: `["v"]`},
		{typ: "keyValueTransformer", spec: FunctionSpec{Expression: src("(value, key)", 3)}, args: []any{"k", "v"}, want: `("v", "k")`},
		{typ: "keyValueTransformer", spec: FunctionSpec{Code: src("return [key, 1]", 3)}, args: []any{"k", "v"}, want: `("k", 1)`},
		{typ: "keyValueTransformer", spec: FunctionSpec{}, args: []any{"k", "v"}, want: `("k", "v")`},
		{typ: "merger", spec: FunctionSpec{Expression: src("value1 + value2", 3)}, args: []any{"k", int64(1), int64(2)}, want: "3"},
		{typ: "metadataTransformer", spec: FunctionSpec{Code: src("metadata['timestamp'] += 1\nreturn metadata", 3)}, args: []any{"k", "v", meta},
			want: `{timestamp: 1001, headers: [{key: "h", value: "v"}]}`},
		{typ: "metadataTransformer", spec: FunctionSpec{}, args: []any{"k", "v", meta}, want: `{timestamp: 1000, headers: [{key: "h", value: "v"}]}`},
		{typ: "predicate", spec: FunctionSpec{Expression: src("value > 10", 3)}, args: []any{"k", int64(11)}, want: "true"},
		{typ: "predicate", spec: FunctionSpec{}, args: []any{"k", int64(1)}, want: "true"},
		{typ: "reducer", spec: FunctionSpec{Expression: src("value1 + value2", 3)}, args: []any{int64(1), int64(2)}, want: "3"},
		{typ: "streamPartitioner", spec: FunctionSpec{Expression: src("hash(key) % numPartitions if topic == 'out' else 0", 3)}, args: []any{"out", "k", "v", int64(1)}, want: "0"},
		{typ: "streamPartitioner", spec: FunctionSpec{Expression: src("[0, 2]", 3)}, args: []any{"out", "k", "v", int64(3)}, want: "[0, 2]"},
		{typ: "streamPartitioner", spec: FunctionSpec{Expression: src("'x'", 3)}, args: []any{"out", "k", "v", int64(3)}, want: "None"},
		{typ: "timestampExtractor", spec: FunctionSpec{Expression: src("record['value']['ts'] if record['value'] else previousTimestamp", 3)}, args: []any{record, int64(1)}, want: "77"},
		{typ: "topicNameExtractor", spec: FunctionSpec{Expression: src("recordContext['topic'] + '-' + key", 3)}, args: []any{"k", "v", structOf("topic", "t")}, want: `"t-k"`},
		{typ: "valueJoiner", spec: FunctionSpec{Expression: src("{'l': value1, 'r': value2}", 3)}, args: []any{"k", "a", nil}, want: `{l: "a", r: None}`},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("value * 2", 3)}, args: []any{"k", int64(21)}, want: "42"},
		{typ: "valueTransformer", spec: FunctionSpec{}, args: []any{"k", int64(21)}, want: "21"},
		{typ: "valueTransformer", spec: FunctionSpec{Code: src("    x = value + 1\n    return x\n", 3)}, args: []any{"k", int64(1)}, want: "2"},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("value * 2", 3), ResultType: "string"}, args: []any{"k", int64(21)}, want: `"42"`},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("value * 2", 3), Result: types.String}, args: []any{"k", int64(21)}, want: `"42"`},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("value", 3), ResultType: "null"}, args: []any{"k", int64(21)}, want: "None"},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("value + [-1]", 3), ResultType: "bytes"}, args: []any{"k", []byte("a")}, want: `b"a\xff"`},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("bytes(value).decode()", 3)}, args: []any{"k", []byte("hé")}, want: `"hé"`},
		// A list of ints becomes bytes wherever the resultType says bytes, as
		// in upstream's examples/00-example-generate-sensordata-binary.yaml.
		{typ: "keyValueTransformer", spec: FunctionSpec{Expression: src("(key, list(b'hi'))", 3), ResultType: "(string, bytes)"}, args: []any{"k", nil}, want: `("k", b"hi")`},
		{typ: "valueTransformer", spec: FunctionSpec{Expression: src("[[1], [2, 3]]", 3), ResultType: "[bytes]"}, args: []any{"k", nil}, want: `[b"\x01", b"\x02\x03"]`},
	}
	seen := map[string]bool{}
	for i, c := range cases {
		seen[c.typ] = true
		spec := c.spec
		spec.Type = c.typ
		spec.Name = c.typ + "_" + itoa(i)
		f := define(t, m, spec)
		got := show(call(t, f, nil, c.args...))
		if got != c.want {
			t.Errorf("%s (case %d): got %s, want %s", c.typ, i, got, c.want)
		}
	}
	for _, name := range FunctionTypes() {
		if name != "foreachAction" && !seen[name] {
			t.Errorf("function type %s is not covered", name)
		}
	}
	if len(FunctionTypes()) != 22 { // 21 upstream types + the foreachAction alias
		t.Errorf("FunctionTypes() has %d entries", len(FunctionTypes()))
	}
}

func TestResultRules(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "rules")
	cases := []struct {
		typ, expr, resultType string
		args                  []any
		want                  string
	}{
		{"predicate", "'yes'", "", []any{"k", "v"}, "Error while executing function rules.f0: a predicate must return a boolean, got str"},
		{"keyValueTransformer", "key", "", []any{"k", "v"}, "Error while executing function rules.f1: a keyValueTransformer must return a (key, value) tuple, got str"},
		{"keyValueToKeyValueListTransformer", "[key]", "", []any{"k", "v"}, "Error while executing function rules.f2: a keyValueToKeyValueListTransformer must return a list of (key, value) tuples; item 0 is str"},
		{"timestampExtractor", "'soon'", "", []any{nil, int64(0)}, "Error while executing function rules.f3: a timestampExtractor must return a timestamp (int), got str"},
		{"topicNameExtractor", "1", "", []any{"k", "v", nil}, "Error while executing function rules.f4: a topicNameExtractor must return a string, got int"},
		{"valueTransformer", "lambda: 1", "", []any{"k", "v"}, "Error while executing function rules.f5: result: the code results in a function (function) instead of a value"},
		{"valueTransformer", "'abc'", "int", []any{"k", "v"}, "pipeline.yaml:1: Error while executing function rules.f6: result does not match resultType: "},
		{"valueTransformer", "2**70", "", []any{"k", "v"}, "Error while executing function rules.f7: result: integer does not fit in 64 bits"},
		{"valueTransformer", "{1: 2}", "", []any{"k", "v"}, "Error while executing function rules.f8: result: dict keys must be str, found int"},
		{"generator", "'x'", "", nil, "Error while executing function rules.f9: a generator must return a (key, value) tuple or a list of them, got str"},
		{"valueTransformer", "value", "", []any{"k"}, "Error while executing function rules.f10: expects 2 arguments, got 1"},
		{"valueTransformer", "[1, 256]", "bytes", []any{"k", "v"}, "pipeline.yaml:1: Error while executing function rules.f11: result does not match resultType: item 1 of a bytes list is 256, not a byte value"},
	}
	for i, c := range cases {
		f := define(t, m, FunctionSpec{Name: "f" + itoa(i), Type: c.typ, Expression: src(c.expr, 1), ResultType: c.resultType})
		_, err := f.Call(nil, c.args...)
		var fe *FunctionError
		if !errors.As(err, &fe) {
			t.Fatalf("case %d: got %v, want a *FunctionError", i, err)
		}
		if got := err.Error(); !strings.HasPrefix(got, c.want) {
			t.Errorf("case %d: got %q, want prefix %q", i, got, c.want)
		}
	}
}

func TestDefineErrors(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "bad")
	cases := []struct {
		spec FunctionSpec
		want string
	}{
		{FunctionSpec{Name: "x", Type: "nope"}, `function x: unknown function type "nope"`},
		{FunctionSpec{Name: "x", Type: "predicate", Parameters: []Parameter{{Name: "log"}}}, `function bad.x: parameter "log" would hide the function's logger`},
		{FunctionSpec{Name: "x", Type: "predicate", Parameters: []Parameter{{Name: "a-b"}}}, `function bad.x: parameter name "a-b" is not a Python identifier`},
		{FunctionSpec{Name: "x", Type: "valueTransformer", ResultType: "(string"}, `function bad.x: resultType: `},
		{FunctionSpec{Name: "x", Type: "valueTransformer", Code: Source{Text: "a = 1\nif a\n  b = 2\n", File: "defs.yaml", Line: 20}},
			"defs.yaml:21: Error while executing function bad.x: SyntaxError: expected ':'"},
		{FunctionSpec{Name: "x", Type: "predicate", Expression: Source{Text: "value.get(", File: "defs.yaml", Line: 9}},
			"defs.yaml:9: Error while executing function bad.x: SyntaxError: '(' was never closed"},
		{FunctionSpec{Name: "x", GlobalCode: Source{Text: "import json\n\nraise ValueError('boom')\n", File: "defs.yaml", Line: 40}},
			"defs.yaml:42: Error while executing function bad.x: ValueError: boom"},
	}
	for i, c := range cases {
		_, err := m.Define(c.spec)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("case %d: got %v, want prefix %q", i, err, c.want)
		}
	}
}

func TestRuntimeErrorNamesYAMLLine(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "errs")
	f := define(t, m, FunctionSpec{Name: "mapper", Type: "valueTransformer",
		GlobalCode: Source{Text: "def helper(v):\n  return v['missing']\n", File: "defs/app.yaml", Line: 5},
		Code:       Source{Text: "x = 1\ny = helper(value)\nreturn y\n", File: "defs/app.yaml", Line: 30}})
	_, err := f.Call(nil, "k", structOf("a", int64(1)))
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want *FunctionError", err)
	}
	if fe.File != "defs/app.yaml" || fe.Line != 6 || fe.Type != "KeyError" || fe.Message != "'missing'" || fe.Function != "errs.mapper" {
		t.Errorf("got %+v", fe)
	}
	if err.Error() != "defs/app.yaml:6: Error while executing function errs.mapper: KeyError: 'missing'" {
		t.Errorf("Error() = %q", err.Error())
	}
	for _, want := range []string{`File "defs/app.yaml", line 31, in mapper`, "    y = helper(value)", `File "defs/app.yaml", line 6, in helper`, "    return v['missing']"} {
		if !strings.Contains(fe.Traceback, want) {
			t.Errorf("traceback lacks %q:\n%s", want, fe.Traceback)
		}
	}
	// Expression lines map too.
	g := define(t, m, FunctionSpec{Name: "pred", Type: "predicate", Expression: Source{Text: "value['x'] >\n 1/0", File: "defs/app.yaml", Line: 50}})
	_, err = g.Call(nil, "k", structOf("x", int64(1)))
	if err == nil || err.Error() != "defs/app.yaml:51: Error while executing function errs.pred: ZeroDivisionError: division by zero" {
		t.Errorf("got %v", err)
	}
}

func TestSharedGlobalsAndCalls(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "shared")
	define(t, m, FunctionSpec{Name: "setup", GlobalCode: src("import json\ncounter = 0\ndef bump():\n  global counter\n  counter += 1\n  return counter\n", 1)})
	inc := define(t, m, FunctionSpec{Name: "inc", Type: "valueTransformer", Expression: src("bump()", 10)})
	peekF := define(t, m, FunctionSpec{Name: "peek", Type: "valueTransformer", Expression: src("counter", 11)})
	twice := define(t, m, FunctionSpec{Name: "twice", Type: "generic", Parameters: []Parameter{{Name: "x"}}, Expression: src("x * 2", 12)})
	useTwice := define(t, m, FunctionSpec{Name: "useTwice", Type: "valueTransformer", Expression: src("twice(value) + json.loads('1')", 13)})
	call(t, inc, nil, "k", nil)
	call(t, inc, nil, "k", nil)
	if got := show(call(t, peekF, nil, "k", nil)); got != "2" {
		t.Errorf("counter = %s, want 2", got)
	}
	if got := show(call(t, twice, nil, int64(4))); got != "8" {
		t.Errorf("twice = %s", got)
	}
	if got := show(call(t, useTwice, nil, "k", int64(5))); got != "11" {
		t.Errorf("useTwice = %s", got)
	}
	// Another module does not see these globals.
	other := env.module(t, "other")
	f := define(t, other, FunctionSpec{Name: "probe", Type: "valueTransformer", Expression: src("'counter' in globals()", 1)})
	if got := show(call(t, f, nil, "k", nil)); got != "false" {
		t.Errorf("other module sees counter: %s", got)
	}
	// A generic function may hold only globalCode.
	g := define(t, m, FunctionSpec{Name: "onlyGlobals", GlobalCode: src("ANSWER = 42\n", 20)})
	if got := show(call(t, g, nil)); got != "None" {
		t.Errorf("globalCode-only function returned %s", got)
	}
}

func TestParameterDefaults(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "params")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer",
		Parameters: []Parameter{{Name: "prefix", Type: "string", Default: "id-"}, {Name: "factor", Type: "int", Default: "3"},
			{Name: "flag", Type: "boolean", Default: true}, {Name: "extra", Type: "string"}},
		Expression: src("(prefix, factor * value, flag, extra)", 1)})
	if got := show(call(t, f, nil, "k", int64(2))); got != `("id-", 6, true, None)` {
		t.Errorf("defaults: %s", got)
	}
	if got := show(call(t, f, nil, "k", int64(2), "x-", int64(10), false, "e")); got != `("x-", 20, false, "e")` {
		t.Errorf("explicit: %s", got)
	}
}

func TestValueMapping(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "mapping")
	describe := define(t, m, FunctionSpec{Name: "describe", Type: "valueTransformer",
		Expression: src("(type(value).__name__, value)", 1)})
	schema := &types.StructSchema{Notation: "avro", Name: "io.ksml.Sensor"}
	sensor := structOf("name", "s1", "value", 1.5)
	sensor.Schema = schema
	cases := []struct {
		in   any
		want string
	}{
		{nil, `("NoneType", None)`},
		{true, `("bool", true)`},
		{int64(-7), `("int", -7)`},
		{2.5, `("float", 2.5f)`},
		{"héllo", `("str", "héllo")`},
		{[]byte{0, 255}, `("list", [0, 255])`},
		{[]byte{}, `("list", [])`},
		{[]any{int64(1), "a", nil}, `("list", [1, "a", None])`},
		{types.Tuple{"a", int64(1)}, `("tuple", ("a", 1))`},
		{structOf("b", int64(1), "a", int64(2)), `("dict", {b: 1, a: 2})`},
		{map[string]any{"z": int64(1), "y": "x"}, `("dict", {y: "x", z: 1})`},
		{types.Windowed{Key: "k", Start: 1000, End: 2500}, `("dict", {start: 1000, end: 2500, startTime: "1970-01-01T00:00:01Z", endTime: "1970-01-01T00:00:02.500Z", key: "k"})`},
		{rawJSON(`{"b": [1, 2.5, "x", null, true], "a": {"c": false}}`), `("dict", {b: [1, 2.5f, "x", None, true], a: {c: false}})`},
		{sensor, `("dict", {name: "s1", value: 1.5f})`},
	}
	for i, c := range cases {
		got := show(call(t, describe, nil, "k", c.in))
		if got != c.want {
			t.Errorf("case %d: got %s, want %s", i, got, c.want)
		}
	}
	// Schema-backed structs carry @type and @schema in Python.
	keys := define(t, m, FunctionSpec{Name: "keys", Type: "valueTransformer", Expression: src("sorted(value.keys())", 1)})
	if got := show(call(t, keys, nil, "k", sensor)); got != `["@schema", "@type", "name", "value"]` {
		t.Errorf("schema keys: %s", got)
	}
	del := define(t, m, FunctionSpec{Name: "del", Type: "valueTransformer", Code: src("del value['@type']\ndel value['@schema']\nvalue['x'] = {1, 2} and [1]\nreturn value", 1)})
	if got := show(call(t, del, nil, "k", sensor)); got != `{name: "s1", value: 1.5f, x: [1]}` {
		t.Errorf("deleting markers: %s", got)
	}
	markers := define(t, m, FunctionSpec{Name: "markers", Type: "valueTransformer", Expression: src("(value['@type'], value['@schema'])", 1)})
	if got := show(call(t, markers, nil, "k", sensor)); got != `("Sensor", "io.ksml.Sensor")` {
		t.Errorf("default markers: %s", got)
	}
	setup(t, Options{SchemaMeta: func(s *types.StructSchema) (string, *types.Struct, bool) {
		return "S", structOf("type", "struct", "name", s.Name), true
	}})
	if got := show(call(t, markers, nil, "k", sensor)); got != `("S", {type: "struct", name: "io.ksml.Sensor"})` {
		t.Errorf("SchemaMeta markers: %s", got)
	}
	// Nested schema-backed structs carry no markers.
	if got := show(call(t, keys, nil, "k", structOf("inner", sensor))); got != `["inner"]` {
		t.Errorf("outer keys: %s", got)
	}
	innerKeys := define(t, m, FunctionSpec{Name: "innerKeys", Type: "valueTransformer", Expression: src("sorted(value['inner'].keys())", 1)})
	if got := show(call(t, innerKeys, nil, "k", structOf("inner", sensor))); got != `["name", "value"]` {
		t.Errorf("nested markers: %s", got)
	}
	// Nested tuples and sets come back as tuples and lists.
	nested := define(t, m, FunctionSpec{Name: "nested", Type: "valueTransformer", Expression: src("{'t': (1, (2, 'x')), 's': sorted({3, 1}), 'b': bytearray(b'ab')}", 1)})
	if got := show(call(t, nested, nil, "k", nil)); got != `{t: (1, (2, "x")), s: [1, 3], b: b"ab"}` {
		t.Errorf("nested: %s", got)
	}
	// Invalid JSON input is an error, not a crash.
	if _, err := describe.Call(nil, "k", rawJSON(`{"a":`)); err == nil || err.Error() != "Error while executing function mapping.describe: argument: invalid JSON value" {
		t.Errorf("invalid JSON: %v", err)
	}
}

type rawJSON string

func (r rawJSON) KSMLJSON() ([]byte, error) { return []byte(r), nil }
func (r rawJSON) Resolve() (any, error)     { return types.DecodeJSON([]byte(r)) }

func TestCallJSON(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "json")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer",
		Code: src("value['n'] = value['n'] + 1\nvalue['s'] = 'a\"b\\n\u00e9'\nvalue['f'] = 1.0\nvalue['t'] = (1, None)\nreturn value", 1)})
	got, err := f.CallJSON(nil, "k", rawJSON(`{"n": 1, "@type": "X"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"n":2,"s":"a\"b\né","f":1.0,"t":[1,null]}` {
		t.Errorf("CallJSON = %s", got)
	}
}

func TestCallDeferred(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "deferred")
	build := define(t, m, FunctionSpec{Name: "build", Type: "valueTransformer", Expression: src("{'id': key, 'items': [value]}", 1)})
	enrich := define(t, m, FunctionSpec{Name: "enrich", Type: "valueTransformer", Code: src("value['n'] = len(value['items'])\nreturn value", 1)})
	scalar := define(t, m, FunctionSpec{Name: "scalar", Type: "valueTransformer", Expression: src("value * 2", 1)})
	pred := define(t, m, FunctionSpec{Name: "pred", Type: "predicate", Expression: src("'id' in value", 1)})

	v, err := build.CallDeferred(nil, "k1", int64(5))
	if err != nil {
		t.Fatal(err)
	}
	obj, ok := v.(*Object)
	if !ok {
		t.Fatalf("CallDeferred returned %T", v)
	}
	if ok, err := pred.Call(nil, "k1", obj); err != nil || ok != true {
		t.Errorf("predicate on object: %v %v", ok, err)
	}
	v2, err := enrich.CallDeferred(nil, "k1", obj)
	if err != nil {
		t.Fatal(err)
	}
	js, err := v2.(*Object).KSMLJSON()
	if err != nil || string(js) != `{"id":"k1","items":[5],"n":1}` {
		t.Errorf("KSMLJSON = %s, %v", js, err)
	}
	r, err := obj.Resolve() // the same dict, mutated by enrich
	if err != nil || show(r) != `{id: "k1", items: [5], n: 1}` {
		t.Errorf("Resolve = %s, %v", show(r), err)
	}
	if got, err := scalar.CallDeferred(nil, "k", int64(4)); err != nil || got != int64(8) {
		t.Errorf("scalar result: %v %v", got, err)
	}
	v2.(*Object).Release()
	obj.Release()
	obj.Release()
	if _, err := obj.Resolve(); err == nil {
		t.Error("Resolve after Release succeeded")
	}
	if _, err := pred.Call(nil, "k", obj); err == nil {
		t.Error("passing a released object succeeded")
	}
	// Objects dropped without Release are counted, and their references
	// dropped by the next call (not on the collector's goroutine).
	live, unreleased := refsLive(), UnreleasedObjects()
	for i := 0; i < 100; i++ {
		if _, err := build.CallDeferred(nil, "k", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if d := refsLive() - live; d != 100 {
		t.Errorf("live references with 100 dropped Objects: %d", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for UnreleasedObjects()-unreleased < 100 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if d := UnreleasedObjects() - unreleased; d != 100 {
		t.Errorf("UnreleasedObjects grew by %d, want 100", d)
	}
	if _, err := scalar.Call(nil, "k", int64(1)); err != nil {
		t.Fatal(err)
	}
	if d := refsLive() - live; d != 0 {
		t.Errorf("live references after the next call: %d, want 0", d)
	}
}

// TestCallJSONMatchesGoJSON checks that JSON written in C equals what the
// Go JSON writer of internal/types writes for the same result.
func TestCallJSONMatchesGoJSON(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "jsoneq")
	exprs := []string{
		"1.0", "-2.5", "1e20", "1.5e-5", "0.001", "0.0001", "1234567.0", "12345678.0", "9999999.999", "-0.0", "0.0",
		"123456789012345678.0", "1/3", "2.0**-1074", "1.7976931348623157e308", "float('nan')", "float('inf')", "-float('inf')",
		"'a\"\\\\b\\n\\t\\x01é😀'", "b'\\x00\\xffab'", "bytearray(b'abcd')", "b''",
		"{'b': [1, None, True, False], 'a': {'x': (1, 2)}, '@type': 'X'}", "[]", "{}", "-9223372036854775808",
	}
	for _, e := range exprs {
		f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Expression: src(e, 1)})
		c, err := f.CallJSON(nil, "k", nil)
		if err != nil {
			t.Errorf("%s: CallJSON: %v", e, err)
			continue
		}
		v, err := f.Call(nil, "k", nil)
		if err != nil {
			t.Errorf("%s: Call: %v", e, err)
			continue
		}
		g, err := types.MarshalJSON(v)
		if err != nil {
			t.Errorf("%s: MarshalJSON: %v", e, err)
			continue
		}
		if string(c) != string(g) {
			t.Errorf("%s: C wrote %s, Go writes %s", e, c, g)
		}
	}
}

// A result that does not convert to the resultType names where the
// function is written, like every other function error.
func TestResultTypeErrorsNameThePosition(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "pos")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Expression: Source{Text: "'abc'", File: "defs.yaml", Line: 12}, ResultType: "long"})
	_, err := f.Call(nil, "k", "v")
	want := `defs.yaml:12: Error while executing function pos.f: result does not match resultType: cannot convert string "abc" to long: not a valid long`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
