package types

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func st(kv ...any) *Struct {
	s := NewStruct(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		s.Set(kv[i].(string), kv[i+1])
	}
	return s
}

func TestIsAssignableFrom(t *testing.T) {
	cases := []struct {
		to, from string
		want     bool
	}{
		{"?", "string", true},
		{"?", "(string, avro:X)", true},
		{"string", "string", true},
		{"int", "int", true},
		{"int", "long", false}, // no implicit widening, as upstream
		{"long", "int", false},
		{"double", "float", false},
		{"string", "?", false},
		{"string", "enum(A, B)", true},
		{"enum(A, B)", "string", true},
		{"struct", "struct", true},
		{"struct", "avro:SensorData", true},
		{"struct", "null", true},
		{"avro:SensorData", "struct", false},
		{"avro:SensorData", "avro:SensorData", true},
		{"avro:SensorData", "avro:Other", false},
		{"struct", "map(string)", false},
		{"map(?)", "struct", true},
		{"map(string)", "struct", false},
		{"map(?)", "map(int)", true},
		{"map(int)", "map(long)", false},
		{"[string]", "[string]", true},
		{"[?]", "[int]", true},
		{"[int]", "[string]", false},
		{"[string]", "string", false},
		{"(string, int)", "(string, int)", true},
		{"(string, int)", "(string, long)", false},
		{"(string, int)", "(string, int, int)", false},
		{"(string, ?)", "(string, json)", true},
		{"union(string, int)", "int", true},
		{"union(string, int)", "long", false},
		{"union(string, int, long)", "union(int, string)", true},
		{"union(string, int)", "union(int, long)", false},
		{"json", "struct", true},
		{"json", "[int]", true},
		{"json", "string", false},
		{"json", "json", true},
		{"struct", "json", false},
		{"windowed(string)", "windowed(string)", true},
		{"windowed(string)", "windowed(int)", false},
		{"windowed(string)", "string", false},
		{"avro", "avro:SensorData", true},
		{"binary", "string", true},
	}
	for _, c := range cases {
		to, from := MustParseDataType(c.to), MustParseDataType(c.from)
		if got := to.IsAssignableFrom(from); got != c.want {
			t.Errorf("%s.IsAssignableFrom(%s) = %v, want %v", c.to, c.from, got, c.want)
		}
	}
}

func TestConvert(t *testing.T) {
	cases := []struct {
		v    any
		to   string
		want any
	}{
		{"123", "int", int64(123)},
		{"+7", "long", int64(7)},
		{"-5", "short", int64(-5)},
		{"2.5", "double", 2.5},
		{" 2.5 ", "double", 2.5},
		{"0.1", "float", 0.1},
		{0.1, "float", 0.1},
		{0.123456789, "float", 0.12345679},
		{int64(16777217), "float", 16777216.0},
		{"TRUE", "boolean", true},
		{"false", "boolean", false},
		{int64(456), "string", "456"},
		{2.0, "string", "2.0"},
		{1e20, "string", "1.0E20"},
		{true, "string", "true"},
		{nil, "string", nil},
		{nil, "avro:X", nil},
		{st("sensor", "s1", "temp", int64(20), "ok", true), "string", `{"ok": true, "sensor": "s1", "temp": 20}`},
		{[]any{int64(1), "a", nil}, "string", `[1, "a", null]`},
		{Tuple{"k", 1.5}, "string", `("k", 1.5)`},
		{int64(5), "double", 5.0},
		{int64(5), "float", 5.0},
		{int64(127), "byte", int64(127)},
		{int64(32767), "short", int64(32767)},
		{int64(math.MaxInt32), "int", int64(math.MaxInt32)},
		{3.9, "int", int64(3)},
		{-3.9, "long", int64(-3)},
		{5, "long", int64(5)}, // Go int normalized
		{float32(1.5), "double", 1.5},
		{"[1, 2, 3]", "[int]", []any{int64(1), int64(2), int64(3)}},
		{"[\"a\"]", "list(string)", []any{"a"}},
		{[]any{"1", "2"}, "[int]", []any{int64(1), int64(2)}},
		{Tuple{int64(1), int64(2)}, "[long]", []any{int64(1), int64(2)}},
		{`{"a": 1, "b": "x"}`, "struct", st("a", int64(1), "b", "x")},
		{`{"a": 1, "b": 2}`, "map(string)", st("a", "1", "b", "2")},
		{st("a", int64(1)), "map(string)", st("a", "1")},
		{st("a", int64(1)), "map(?)", st("a", int64(1))},
		{st("a", "1"), "map(int)", st("a", int64(1))},
		{st("a", int64(1)), "struct", st("a", int64(1))},
		{st("a", int64(1)), "avro:SensorData", st("a", int64(1))},
		{[]any{"k", int64(1)}, "(string, long)", Tuple{"k", int64(1)}},
		{Tuple{"k", "1"}, "(string, int)", Tuple{"k", int64(1)}},
		{`("a", 1)`, "(string, int)", Tuple{"a", int64(1)}},
		{`["a", 1]`, "tuple(string, int)", Tuple{"a", int64(1)}},
		{"SHIPPED", "enum(PENDING, SHIPPED)", "SHIPPED"},
		{int64(5), "union(string, int)", int64(5)},
		{"5", "union(int, string)", "5"},       // fits a member as is
		{"5", "union(int, boolean)", int64(5)}, // first member it converts to
		{int64(5), "union(null, string)", "5"},
		{st("a", int64(1)), "json", st("a", int64(1))},
		{`{"a":1}`, "json", st("a", int64(1))},
		{`[1]`, "json", []any{int64(1)}},
		{"x", "?", "x"},
		{"anything", "null", nil},
		{Windowed{Key: "5", Start: 1, End: 2}, "windowed(int)", Windowed{Key: int64(5), Start: 1, End: 2}},
		{[]byte{1, 2}, "bytes", []byte{1, 2}},
		{Windowed{Key: "k", Start: 0, End: 1}, "json", st("start", int64(0), "end", int64(1), "startTime", "1970-01-01T00:00:00Z", "endTime", "1970-01-01T00:00:00.001Z", "key", "k")},
	}
	for _, c := range cases {
		got, err := Convert(c.v, MustParseDataType(c.to))
		if err != nil {
			t.Errorf("Convert(%#v, %s): %v", c.v, c.to, err)
			continue
		}
		if !Equal(got, c.want) || TypeOf(got).String() != TypeOf(c.want).String() {
			t.Errorf("Convert(%#v, %s) = %#v (%s), want %#v", c.v, c.to, got, Format(got), c.want)
		}
	}
}

func TestConvertSetsResolvedSchema(t *testing.T) {
	schema := &StructSchema{Notation: "avro", Name: "io.axual.SensorData"}
	got, err := Convert(st("a", int64(1)), StructType{Notation: "avro", SchemaName: "SensorData", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.(*Struct); s.Schema != schema {
		t.Fatalf("schema = %v, want %v", s.Schema, schema)
	}
	other := st("a", int64(1))
	other.Schema = &StructSchema{Notation: "avro", Name: "io.axual.Other"}
	if _, err := Convert(other, StructType{Notation: "avro", SchemaName: "SensorData", Schema: schema}); err == nil {
		t.Fatal("converted a struct of another schema")
	}
}

func TestConvertErrors(t *testing.T) {
	cases := []struct {
		v   any
		to  string
		msg string
	}{
		{int64(128), "byte", "cannot convert long 128 to byte: out of range for byte"},
		{int64(-32769), "short", "out of range for short"},
		{int64(math.MaxInt32 + 1), "int", "out of range for int"},
		{1e19, "long", "out of range for long"},
		{math.NaN(), "int", "not a finite number"},
		{1e39, "float", "out of range for float"},
		{"abc", "int", `cannot convert string "abc" to int: not a valid int`},
		{"99999999999", "int", "not a valid int"},
		{"1.5", "long", "not a valid long"},
		{"yes", "boolean", "expected true or false"},
		{int64(1), "boolean", "cannot convert long 1 to boolean"},
		{"x", "bytes", "cannot convert string"},
		{"[1,", "[int]", "invalid JSON at offset 3"},
		{`{"a":1}`, "[int]", "does not hold a JSON array"},
		{"[1]", "struct", "does not hold a JSON object"},
		{`["a"]`, "[int]", "list element 0"},
		{[]any{"a", "b", "c"}, "(string, string)", "it has 3 elements, the tuple type 2"},
		{"DONE", "enum(PENDING, SHIPPED)", `"DONE" is not one of the symbols`},
		{int64(1), "enum(A)", "cannot convert long 1 to enum(A)"},
		{"x", "union(int, boolean)", "no member of the union accepts it"},
		{st("a", "x"), "map(int)", `map entry "a"`},
		{"k", "windowed(string)", "cannot convert string"},
		{int64(1), "struct", "cannot convert long 1 to struct"},
	}
	for _, c := range cases {
		_, err := Convert(c.v, MustParseDataType(c.to))
		if err == nil {
			t.Errorf("Convert(%#v, %s) succeeded, want error %q", c.v, c.to, c.msg)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Convert(%#v, %s) error %q, want it to contain %q", c.v, c.to, err, c.msg)
		}
		var ce *ConvertError
		if !errors.As(err, &ce) {
			t.Errorf("Convert(%#v, %s) error %T is not a *ConvertError", c.v, c.to, err)
		}
	}
}

type deferredJSON string

func (d deferredJSON) Resolve() (any, error) { return DecodeJSON([]byte(d)) }

func TestConvertResolvesDeferred(t *testing.T) {
	d := deferredJSON(`{"a":"1"}`)
	got, err := Convert(d, MustParseDataType("map(int)"))
	if err != nil || !Equal(got, st("a", int64(1))) {
		t.Fatalf("Convert(deferred) = %v, %v", got, err)
	}
	if got, _ := Convert(d, Any); got != any(d) {
		t.Fatalf("Convert(deferred, any) resolved the value: %#v", got)
	}
}

func TestTypeOf(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{true, "boolean"},
		{int64(1), "long"},
		{7, "long"},
		{1.5, "double"},
		{"s", "string"},
		{[]byte{1}, "bytes"},
		{[]any{int64(1), int64(2)}, "[long]"},
		{[]any{int64(1), "a"}, "[?]"},
		{[]any{}, "[?]"},
		{st("a", int64(1)), "struct"},
		{Tuple{"a", int64(1)}, "(string, long)"},
		{Windowed{Key: "k"}, "windowed(string)"},
		{deferredJSON(`[1]`), "[long]"},
		{struct{}{}, "?"},
	}
	for _, c := range cases {
		if got := TypeOf(c.v).String(); got != c.want {
			t.Errorf("TypeOf(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	s := st("a", int64(1))
	s.Schema = &StructSchema{Notation: "avro", Name: "io.axual.SensorData"}
	if got := TypeOf(s).String(); got != "avro:io.axual.SensorData" {
		t.Errorf("TypeOf(schema struct) = %s", got)
	}
}

func TestEqual(t *testing.T) {
	eq := []struct{ a, b any }{
		{nil, nil},
		{int64(1), 1.0},
		{1, int64(1)},
		{st("a", int64(1), "b", "x"), st("b", "x", "a", int64(1))}, // field order is not significant
		{[]any{st("a", []any{int64(1)})}, []any{st("a", []any{1.0})}},
		{Tuple{"a"}, Tuple{"a"}},
		{[]byte("x"), []byte("x")},
		{deferredJSON(`{"a":1}`), st("a", int64(1))},
		{Windowed{Key: "k", Start: 1, End: 2}, Windowed{Key: "k", Start: 1, End: 2}},
	}
	for _, c := range eq {
		if !Equal(c.a, c.b) || !Equal(c.b, c.a) {
			t.Errorf("Equal(%#v, %#v) = false", c.a, c.b)
		}
	}
	ne := []struct{ a, b any }{
		{nil, int64(0)},
		{int64(1), 1.5},
		{"1", int64(1)},
		{st("a", int64(1)), st("a", int64(1), "b", nil)},
		{st("a", int64(1)), st("a", int64(2))},
		{[]any{"a"}, Tuple{"a"}},
		{[]any{"a", "b"}, []any{"b", "a"}},
		{Windowed{Key: "k", Start: 1, End: 2}, Windowed{Key: "k", Start: 1, End: 3}},
		{deferredJSON(`{`), st()},
	}
	for _, c := range ne {
		if Equal(c.a, c.b) || Equal(c.b, c.a) {
			t.Errorf("Equal(%#v, %#v) = true", c.a, c.b)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{"top", "top"},
		{[]any{"a\"b", nil, true, 1.0, 0.001, 1e7, 1.5e-5, int64(-3)}, `["a\"b", null, true, 1.0, 0.001, 1.0E7, 1.5E-5, -3]`},
		{st("k", st("n", []any{})), `{"k": {"n": []}}`},
		{st("b", int64(1), "@attr", "x", "a", int64(2), "", int64(0), "B", int64(3)), `{"": 0, "B": 3, "a": 2, "b": 1, "@attr": "x"}`},
		{Tuple{"a", int64(1)}, `("a", 1)`},
		{[]byte{0x01, 0xab}, "[01, AB]"},
		{Windowed{Key: "k", Start: 0, End: 1500}, `{"end": 1500, "endTime": "1970-01-01T00:00:01.500Z", "key": "k", "start": 0, "startTime": "1970-01-01T00:00:00Z"}`},
	}
	for _, c := range cases {
		if got := Format(c.v); got != c.want {
			t.Errorf("Format(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// shapedJSON is a deferred value that knows its shape and counts resolves.
type shapedJSON struct {
	text     string
	resolved *int
}

func (s shapedJSON) Resolve() (any, error) { *s.resolved++; return DecodeJSON([]byte(s.text)) }
func (s shapedJSON) KSMLShape() Shape {
	switch s.text[0] {
	case '{':
		return ShapeStruct
	case '[':
		return ShapeList
	}
	return ShapeOther
}

func TestConvertShapedPassesUnresolved(t *testing.T) {
	n := 0
	obj := shapedJSON{`{"a":"1"}`, &n}
	list := shapedJSON{`["x"]`, &n}
	for _, c := range []struct {
		v  shapedJSON
		to string
	}{
		{obj, "json"}, {obj, "struct"}, {obj, "map"}, {obj, "union(null, struct)"},
		{list, "json"}, {list, "[?]"}, {list, "union([?], string)"},
	} {
		got, err := Convert(c.v, MustParseDataType(c.to))
		if err != nil || got != any(c.v) {
			t.Errorf("Convert(%s, %s) = %#v, %v; want the value unchanged", c.v.text, c.to, got, err)
		}
		if !Fits(c.v, MustParseDataType(c.to)) {
			t.Errorf("Fits(%s, %s) = false", c.v.text, c.to)
		}
	}
	if n != 0 {
		t.Fatalf("resolved %d times, want 0", n)
	}
	// Types that need a look inside resolve.
	got, err := Convert(obj, MustParseDataType("map(int)"))
	if err != nil || !Equal(got, st("a", int64(1))) || n != 1 {
		t.Fatalf("Convert(map(int)) = %v, %v after %d resolves", got, err, n)
	}
	if _, err := Convert(list, MustParseDataType("struct")); err == nil {
		t.Fatal("a list converted to struct")
	}
}
