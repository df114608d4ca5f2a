package types

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{` true `, true},
		{`false`, false},
		{`0`, int64(0)},
		{`-0`, int64(0)},
		{`42`, int64(42)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`1.0`, 1.0},
		{`1e2`, 100.0},
		{`-2.5E-3`, -0.0025},
		{`"a\"b\\c\/d\n\u00e9\ud83d\ude00"`, "a\"b\\c/d\né😀"},
		{`"\ud800x"`, "\ufffdx"},
		{`[]`, []any{}},
		{`[1, "a", [null]]`, []any{int64(1), "a", []any{nil}}},
		{`{}`, st()},
		{`{"z": 1, "a": {"y": [true]}}`, st("z", int64(1), "a", st("y", []any{true}))},
		{`{"a": 1, "a": 2}`, st("a", int64(2))},
	}
	for _, c := range cases {
		got, err := DecodeJSON([]byte(c.in))
		if err != nil {
			t.Errorf("DecodeJSON(%s): %v", c.in, err)
			continue
		}
		if !Equal(got, c.want) || TypeOf(got).String() != TypeOf(c.want).String() {
			t.Errorf("DecodeJSON(%s) = %#v, want %#v", c.in, got, c.want)
		}
		if _, err := ValidateJSON([]byte(c.in)); err != nil {
			t.Errorf("ValidateJSON(%s): %v", c.in, err)
		}
	}
	// Field order is the document's.
	got, _ := DecodeJSON([]byte(`{"z":1,"a":2,"m":3}`))
	if keys := strings.Join(got.(*Struct).Keys(), ","); keys != "z,a,m" {
		t.Errorf("keys = %s, want z,a,m", keys)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of input"},
		{`   `, 3, "unexpected end of input"},
		{`{`, 1, "unexpected end of input in object"},
		{`{"a" 1}`, 5, "expected ':'"},
		{`{"a":1,}`, 7, "expected '\"' to start a field name"},
		{`{a:1}`, 1, "expected '\"'"},
		{`[1 2]`, 3, "expected ',' or ']'"},
		{`[1,]`, 3, "unexpected ']'"},
		{`"abc`, 4, "unterminated string"},
		{"\"a\x01\"", 2, "control character"},
		{`"\x"`, 1, `invalid escape '\x'`},
		{`"\u12"`, 1, `invalid \u escape`},
		{`01`, 0, "leading zero"},
		{`1.`, 2, "missing digits after decimal point"},
		{`1e`, 2, "missing digits in exponent"},
		{`-`, 1, "invalid number"},
		{`tru`, 0, "expected true"},
		{`nul`, 0, "expected null"},
		{`{} x`, 3, "after the JSON value"},
		{`NaN`, 0, "unexpected 'N'"},
		{"\"\xcb\"", 1, "invalid UTF-8 in string"},
		{"\"\\n\xcb\"", 1, "invalid UTF-8 in string"},
	}
	for _, c := range cases {
		for name, fn := range map[string]func([]byte) error{
			"DecodeJSON":   func(b []byte) error { _, err := DecodeJSON(b); return err },
			"ValidateJSON": func(b []byte) error { _, err := ValidateJSON(b); return err },
		} {
			err := fn([]byte(c.in))
			var je *JSONError
			if !errors.As(err, &je) {
				t.Errorf("%s(%q) error = %v, want *JSONError", name, c.in, err)
				continue
			}
			if je.Offset != c.offset || !strings.Contains(je.Msg, c.msg) {
				t.Errorf("%s(%q) = offset %d %q, want offset %d containing %q", name, c.in, je.Offset, je.Msg, c.offset, c.msg)
			}
		}
	}
	if _, err := DecodeJSON([]byte(strings.Repeat("[", maxJSONDepth+2))); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestAppendJSON(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{true, `true`},
		{int64(-12), `-12`},
		{1.0, `1.0`},
		{0.5, `0.5`},
		{123456.789, `123456.789`},
		{1e7, `1.0E7`},
		{1.5e-7, `1.5E-7`},
		{-1e300, `-1.0E300`},
		{math.NaN(), `"NaN"`},
		{math.Inf(-1), `"-Infinity"`},
		{"é<>&/\"\\\n\t\x01", `"é<>&/\"\\\n\t\u0001"`},
		{"bad\xffutf8", `"bad` + "\ufffd" + `utf8"`},
		{[]byte{0, 1, 2}, `"AAEC"`},
		{[]any{int64(1), "a", nil, []any{}}, `[1,"a",null,[]]`},
		{Tuple{"k", int64(1)}, `["k",1]`},
		{st("z", int64(1), "a", st("b", false)), `{"z":1,"a":{"b":false}}`},
		{st(), `{}`},
		{Windowed{Key: "k", Start: 1700000000000, End: 1700000060000}, `{"start":1700000000000,"end":1700000060000,"startTime":"2023-11-14T22:13:20Z","endTime":"2023-11-14T22:14:20Z","key":"k"}`},
		{deferredJSON(`[1, 2]`), `[1,2]`},
		{rawMarshaler(`{"pre":"made"}`), `{"pre":"made"}`},
	}
	for _, c := range cases {
		got, err := MarshalJSON(c.v)
		if err != nil {
			t.Errorf("MarshalJSON(%#v): %v", c.v, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("MarshalJSON(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	if _, err := MarshalJSON(struct{}{}); err == nil || !strings.Contains(err.Error(), "cannot encode struct {} as JSON") {
		t.Errorf("unknown type error = %v", err)
	}
}

type rawMarshaler string

func (r rawMarshaler) KSMLJSON() ([]byte, error) { return []byte(r), nil }

func TestJSONRoundTrip(t *testing.T) {
	in := `{"id":"e-1","n":42,"f":1.25,"ok":true,"tags":["a","b"],"nested":{"x":null,"y":[1,2.5]},"s":"é\"\\"}`
	v, err := DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip\n got %s\nwant %s", out, in)
	}
}

func TestFormatInstant(t *testing.T) {
	for ms, want := range map[int64]string{
		0:             "1970-01-01T00:00:00Z",
		1:             "1970-01-01T00:00:00.001Z",
		1700000000100: "2023-11-14T22:13:20.100Z",
		-1000:         "1969-12-31T23:59:59Z",
	} {
		if got := FormatInstant(ms); got != want {
			t.Errorf("FormatInstant(%d) = %s, want %s", ms, got, want)
		}
	}
}

func FuzzParseUserType(f *testing.F) {
	for _, s := range []string{"string", "(string, json)", "avro:SensorData", "[(string,string)]", "list(tuple(string, avro:X))",
		"json:windowed(string)", `enum("A", 'b', C)`, "union(null, map(int))", "?", "avro:windowed(K)", "((", "enum(", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ut, err := ParseUserType(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("ParseUserType(%q) error %v has a bad offset or type", s, err)
			}
			return
		}
		again, err := ParseUserType(ut.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", ut.String(), s, err)
		}
		if again.String() != ut.String() {
			t.Fatalf("round trip of %q: %q -> %q", s, ut.String(), again.String())
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\ud83d\ude00"`, `-0.0e+1`, `[`, `{"a"`, `1e999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeJSON(b)
		_, verr := ValidateJSON(b)
		if (err == nil) != (verr == nil) {
			t.Fatalf("DecodeJSON err %v, ValidateJSON err %v", err, verr)
		}
		if err != nil {
			return
		}
		out, err := MarshalJSON(v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		v2, err := DecodeJSON(out)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", out, err)
		}
		if !Equal(v, v2) && !hasNonFinite(v) { // infinities are written as strings, like upstream

			t.Fatalf("round trip changed the value: %s", out)
		}
	})
}

func hasNonFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsInf(x, 0) || math.IsNaN(x)
	case []any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case *Struct:
		found := false
		x.Range(func(_ string, e any) bool { found = hasNonFinite(e); return !found })
		return found
	}
	return false
}
