package notation

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func mustSerde(t testing.TB, typ string) Serde {
	t.Helper()
	ut, err := types.ParseUserType(typ)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewRegistry().Serde(ut, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBinaryPrimitives(t *testing.T) {
	cases := []struct {
		typ  string
		v    any
		wire []byte
	}{
		{"string", "héllo", []byte("héllo")},
		{"string", "", []byte{}},
		{"int", int64(1), []byte{0, 0, 0, 1}},
		{"int", int64(-2), []byte{0xff, 0xff, 0xff, 0xfe}},
		{"int", int64(math.MaxInt32), []byte{0x7f, 0xff, 0xff, 0xff}},
		{"long", int64(258), []byte{0, 0, 0, 0, 0, 0, 1, 2}},
		{"long", int64(math.MinInt64), []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"short", int64(-1), []byte{0xff, 0xff}},
		{"byte", int64(43), []byte{43}},
		{"byte", int64(-128), []byte{0x80}},
		{"float", 1.5, []byte{0x3f, 0xc0, 0, 0}},
		{"float", 0.1, []byte{0x3d, 0xcc, 0xcc, 0xcd}},
		{"double", 1.5, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{"double", math.Copysign(0, -1), []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"boolean", true, []byte{1}},
		{"boolean", false, []byte{0}},
		{"bytes", []byte{0, 1, 0xff}, []byte{0, 1, 0xff}},
		{"bytes", []byte{}, []byte{}},
		{"enum(RED, GREEN)", "GREEN", []byte("GREEN")},
		{"json:windowed(string)", types.Windowed{Key: "k", Start: 0, End: 1000}, []byte(`{"start":0,"end":1000,"startTime":"1970-01-01T00:00:00Z","endTime":"1970-01-01T00:00:01Z","key":"k"}`)},
		{"[string]", []any{"a", "b"}, []byte(`["a","b"]`)},
		{"(string, int)", types.Tuple{"a", int64(1)}, []byte(`["a",1]`)},
		{"map(long)", obj("a", int64(1)), []byte(`{"a":1}`)},
	}
	for _, c := range cases {
		s := mustSerde(t, c.typ)
		b, err := s.Serialize("topic", nil, c.v)
		if err != nil {
			t.Errorf("%s Serialize(%#v): %v", c.typ, c.v, err)
			continue
		}
		if !bytes.Equal(b, c.wire) || b == nil {
			t.Errorf("%s Serialize(%#v) = %x, want %x", c.typ, c.v, b, c.wire)
		}
		got, err := s.Deserialize("topic", nil, c.wire)
		if err != nil {
			t.Errorf("%s Deserialize(%x): %v", c.typ, c.wire, err)
			continue
		}
		if !types.Equal(got, c.v) || types.TypeOf(got).String() != types.TypeOf(c.v).String() {
			t.Errorf("%s Deserialize(%x) = %#v, want %#v", c.typ, c.wire, got, c.v)
		}
	}
}

func TestBinaryNullAndEmpty(t *testing.T) {
	for _, typ := range []string{"string", "int", "long", "short", "byte", "float", "double", "boolean", "bytes", "null", "binary", "struct", "[int]", "enum(A)"} {
		s := mustSerde(t, typ)
		b, err := s.Serialize("t", nil, nil)
		if err != nil || b != nil {
			t.Errorf("%s Serialize(nil) = %v, %v; want nil tombstone", typ, b, err)
		}
		v, err := s.Deserialize("t", nil, nil)
		if err != nil || v != nil {
			t.Errorf("%s Deserialize(nil) = %#v, %v; want nil", typ, v, err)
		}
	}
	// Empty payloads: "" for string, empty bytes for bytes, a tombstone for
	// the fixed-width types.
	for typ, want := range map[string]any{"string": "", "bytes": []byte{}, "int": nil, "long": nil, "double": nil, "boolean": nil, "null": nil, "struct": nil} {
		v, err := mustSerde(t, typ).Deserialize("t", nil, []byte{})
		if err != nil || !types.Equal(v, want) {
			t.Errorf("%s Deserialize(empty) = %#v, %v; want %#v", typ, v, err, want)
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	des := []struct {
		typ  string
		wire []byte
		msg  string
	}{
		{"long", []byte{1, 2, 3}, "binary long: expected 8 bytes, got 3"},
		{"int", []byte{1, 2, 3, 4, 5}, "binary int: expected 4 bytes, got 5"},
		{"short", []byte{1}, "binary short: expected 2 bytes, got 1"},
		{"byte", []byte{1, 2}, "binary byte: expected 1 bytes, got 2"},
		{"float", []byte{1, 2}, "binary float: expected 4 bytes, got 2"},
		{"double", []byte{1}, "binary double: expected 8 bytes, got 1"},
		{"boolean", []byte{2}, "binary boolean: unexpected byte 2"},
		{"null", []byte{0}, "binary null: expected no bytes, got 1"},
		{"enum(A, B)", []byte("C"), `"C" is not one of the symbols`},
		{"[int]", []byte(`[1,"x"]`), "json [int]: payload holds [?]"},
		{"struct", []byte(`{"a":`), "json: invalid JSON at offset 5"},
	}
	for _, c := range des {
		_, err := mustSerde(t, c.typ).Deserialize("t", nil, c.wire)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s Deserialize(%x) error = %v, want %q", c.typ, c.wire, err, c.msg)
		}
	}
	ser := []struct {
		typ string
		v   any
		msg string
	}{
		{"int", int64(math.MaxInt32 + 1), "binary int: 2147483648 is out of range"},
		{"byte", int64(200), "binary byte: 200 is out of range"},
		{"int", "12", `binary int: cannot serialize string "12"`},
		{"string", int64(1), "binary string: cannot serialize long 1"},
		{"double", int64(1), "binary double: cannot serialize long 1"},
		{"float", 1e300, "binary float: 1e+300 is out of range"},
		{"boolean", "true", "binary boolean: cannot serialize"},
		{"bytes", "x", "binary bytes: cannot serialize"},
		{"null", int64(1), "binary null: cannot serialize"},
		{"enum(A)", "B", "binary enum(A): cannot serialize string \"B\""},
		{"[int]", []any{"x"}, "json [int]: cannot serialize [string]"},
	}
	for _, c := range ser {
		_, err := mustSerde(t, c.typ).Serialize("t", nil, c.v)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s Serialize(%#v) error = %v, want %q", c.typ, c.v, err, c.msg)
		}
	}
}

func TestBinaryAny(t *testing.T) {
	s := mustSerde(t, "binary")
	for _, c := range []struct {
		v    any
		wire []byte
	}{
		{"abc", []byte("abc")},
		{int64(1), []byte{0, 0, 0, 0, 0, 0, 0, 1}},
		{true, []byte{1}},
		{obj("a", int64(1)), []byte(`{"a":1}`)},
		{RawJSON(`[1]`), []byte(`[1]`)},
	} {
		b, err := s.Serialize("t", nil, c.v)
		if err != nil || !bytes.Equal(b, c.wire) {
			t.Errorf("Serialize(%#v) = %q, %v; want %q", c.v, b, err, c.wire)
		}
	}
	v, err := s.Deserialize("t", nil, []byte{1, 2})
	if err != nil || !bytes.Equal(v.([]byte), []byte{1, 2}) {
		t.Errorf("Deserialize = %#v, %v", v, err)
	}
}

func FuzzPrimitives(f *testing.F) {
	for _, b := range [][]byte{nil, {}, {1}, {0, 0, 0, 1}, {0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, []byte("GREEN"), []byte(`["a"]`)} {
		f.Add(b)
	}
	reg := NewRegistry()
	var serdes []Serde
	for _, typ := range []string{"string", "int", "long", "short", "byte", "float", "double", "boolean", "bytes", "null", "binary", "enum(RED, GREEN)", "[string]", "(int, string)", "map(int)"} {
		ut, err := types.ParseUserType(typ)
		if err != nil {
			f.Fatal(err)
		}
		s, err := reg.Serde(ut, false)
		if err != nil {
			f.Fatal(err)
		}
		serdes = append(serdes, s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range serdes {
			v, err := s.Deserialize("t", nil, b)
			if err != nil {
				continue
			}
			// What deserializes serializes back to the same bytes, except
			// where JSON spelling is not unique.
			out, err := s.Serialize("t", nil, v)
			if err != nil {
				t.Fatalf("%T: re-serialize %#v: %v", s, v, err)
			}
			if _, isJSON := s.(jsonSerde); !isJSON && len(b) > 0 && !bytes.Equal(out, b) {
				if f, ok := v.(float64); !ok || !math.IsNaN(f) {
					t.Fatalf("%T: %x -> %#v -> %x", s, b, v, out)
				}
			}
		}
	})
}

func BenchmarkBinaryLongRoundTrip(b *testing.B) {
	s := mustSerde(b, "long")
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.Serialize("t", nil, int64(1234567))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Deserialize("t", nil, out); err != nil {
			b.Fatal(err)
		}
	}
}
