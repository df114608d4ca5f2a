package notation

import (
	"errors"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func obj(kv ...any) *types.Struct {
	s := types.NewStruct(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		s.Set(kv[i].(string), kv[i+1])
	}
	return s
}

func TestJSONDeserializeIsRawAndLazy(t *testing.T) {
	s := mustSerde(t, "json")
	payload := []byte(`{"sensor":"s1","temp":21.5,"n":3,"tags":["a"]}`)
	v, err := s.Deserialize("t", nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := v.(RawJSON)
	if !ok {
		t.Fatalf("Deserialize returned %T, want RawJSON", v)
	}
	if string(raw) != string(payload) {
		t.Fatalf("raw = %s", raw)
	}
	resolved, err := raw.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := obj("sensor", "s1", "temp", 21.5, "n", int64(3), "tags", []any{"a"})
	if !types.Equal(resolved, want) {
		t.Fatalf("Resolve = %s, want %s", types.Format(resolved), types.Format(want))
	}
	if keys := strings.Join(resolved.(*types.Struct).Keys(), ","); keys != "sensor,temp,n,tags" {
		t.Fatalf("field order = %s", keys)
	}
	// Each Resolve yields a fresh value the caller owns.
	resolved.(*types.Struct).Set("sensor", "changed")
	again, _ := raw.Resolve()
	if got, _ := again.(*types.Struct).Get("sensor"); got != "s1" {
		t.Fatalf("second Resolve saw a change to the first: %v", got)
	}
	// Conversion to json or struct keeps it raw.
	for _, to := range []types.DataType{types.NotationType{Notation: "json", Default: JSON{}.Info().Default}, types.StructType{}} {
		if got, err := types.Convert(v, to); err != nil || string(got.(RawJSON)) != string(payload) {
			t.Fatalf("Convert(raw, %s) = %#v, %v", to, got, err)
		}
	}
	// Serializing the raw value writes the bytes as they are.
	out, err := s.Serialize("t", nil, v)
	if err != nil || string(out) != string(payload) {
		t.Fatalf("Serialize(raw) = %s, %v", out, err)
	}
}

func TestJSONSerialize(t *testing.T) {
	cases := []struct {
		typ  string
		v    any
		want string
	}{
		{"json", obj("b", int64(1), "a", []any{1.0, "x", nil, true}), `{"b":1,"a":[1.0,"x",null,true]}`},
		{"json", []any{obj("k", "v")}, `[{"k":"v"}]`},
		{"json", obj("s", "é\"<>"), `{"s":"é\"<>"}`},
		{"json", types.Windowed{Key: "k", Start: 0, End: 1}, `{"start":0,"end":1,"startTime":"1970-01-01T00:00:00Z","endTime":"1970-01-01T00:00:00.001Z","key":"k"}`},
		{"struct", obj(), `{}`},
		{"json:struct", obj("a", obj()), `{"a":{}}`},
		{"json:[int]", []any{int64(1), int64(2)}, `[1,2]`},
		{"json:map(string)", obj("a", "b"), `{"a":"b"}`},
		{"json:(string, long)", types.Tuple{"a", int64(2)}, `["a",2]`},
		{"json", RawJSON(` {"pre":1}`), ` {"pre":1}`},
	}
	for _, c := range cases {
		b, err := mustSerde(t, c.typ).Serialize("t", nil, c.v)
		if err != nil {
			t.Errorf("%s Serialize: %v", c.typ, err)
			continue
		}
		if string(b) != c.want {
			t.Errorf("%s Serialize = %s, want %s", c.typ, b, c.want)
		}
	}
}

func TestJSONDeserializeTyped(t *testing.T) {
	cases := []struct {
		typ  string
		in   string
		want any
	}{
		{"json:[int]", `[1, 2]`, []any{int64(1), int64(2)}},
		{"json:map(string)", `{"a":"x"}`, obj("a", "x")},
		{"json:(string, long)", `["a", 2]`, types.Tuple{"a", int64(2)}},
		{"json:windowed(string)", `{"start":5,"end":9,"startTime":"x","endTime":"y","key":"k"}`, types.Windowed{Key: "k", Start: 5, End: 9}},
		{"json", `null`, nil},
		{"json", `[1,2]`, []any{int64(1), int64(2)}},
	}
	for _, c := range cases {
		got, err := mustSerde(t, c.typ).Deserialize("t", nil, []byte(c.in))
		if err != nil {
			t.Errorf("%s Deserialize(%s): %v", c.typ, c.in, err)
			continue
		}
		if !types.Equal(got, c.want) || types.TypeOf(got).String() != types.TypeOf(c.want).String() {
			t.Errorf("%s Deserialize(%s) = %#v, want %#v", c.typ, c.in, got, c.want)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	des := []struct {
		typ, in, msg string
	}{
		{"json", `{"a":1,}`, "json: invalid JSON at offset 7"},
		{"json", `{"a":1} x`, "json: invalid JSON at offset 8"},
		{"json", `42`, "json union(struct, [?]): payload holds long 42"},
		{"json", `"text"`, `payload holds string "text"`},
		{"struct", `[1]`, "json struct: payload holds [long]"},
		{"json:[int]", `["a"]`, "json [int]: payload holds [string]"},
		{"json:(string, long)", `["a"]`, "payload holds [string]"},
		{"json:windowed(int)", `{"start":5,"end":9,"key":"k"}`, "json windowed(int): payload holds struct"},
	}
	for _, c := range des {
		_, err := mustSerde(t, c.typ).Deserialize("t", nil, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s Deserialize(%s) error = %v, want %q", c.typ, c.in, err, c.msg)
		}
	}
	ser := []struct {
		typ string
		v   any
		msg string
	}{
		{"json", "text", `json union(struct, [?]): cannot serialize string "text"`},
		{"json", int64(1), "cannot serialize long 1"},
		{"json:[int]", []any{"a"}, "json [int]: cannot serialize [string]"},
		{"json", RawJSON(`"str"`), `cannot serialize string "str"`},
		{"json", failingDeferred{}, "json: resolve failed"},
	}
	for _, c := range ser {
		_, err := mustSerde(t, c.typ).Serialize("t", nil, c.v)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s Serialize(%#v) error = %v, want %q", c.typ, c.v, err, c.msg)
		}
	}
	if _, err := (JSON{}).Serde(types.String, false); err == nil || !strings.Contains(err.Error(), "json: cannot hold values of type string") {
		t.Errorf("JSON serde for string: %v", err)
	}
}

type failingDeferred struct{}

func (failingDeferred) Resolve() (any, error) { return nil, errors.New("resolve failed") }

func FuzzJSONDeserialize(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `[{"start":1,"end":2,"key":"k"}]`, `"\ud83d"`, `{`, `[1,`, `1e400`, `{"start":1,"end":2,"key":1}`} {
		f.Add([]byte(s))
	}
	var serdes []Serde
	for _, typ := range []string{"json", "struct", "json:[int]", "json:map(string)", "json:(string, long)", "json:windowed(int)", "json:union(struct, [string])"} {
		serdes = append(serdes, mustSerde(f, typ))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range serdes {
			v, err := s.Deserialize("t", nil, b)
			if err != nil {
				continue
			}
			if _, err := types.Resolve(v); err != nil {
				t.Fatalf("accepted %q but Resolve fails: %v", b, err)
			}
			if _, err := s.Serialize("t", nil, v); err != nil {
				t.Fatalf("accepted %q but cannot serialize it back: %v", b, err)
			}
		}
	})
}

// A ~200-byte event with 10 fields, as sensor pipelines produce.
var benchEvent = []byte(`{"name":"sensor3","timestamp":1700000000123,"value":"21.75","type":"TEMPERATURE","unit":"C","color":"blue","city":"Amsterdam","owner":"Alice","battery":87,"healthy":true}`)

func BenchmarkJSONRoundTripLazy(b *testing.B) {
	s := mustSerde(b, "json")
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.Deserialize("t", nil, benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Serialize("t", nil, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONRoundTripDecoded(b *testing.B) {
	s := mustSerde(b, "json")
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.Deserialize("t", nil, benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		r, err := types.Resolve(v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Serialize("t", nil, r); err != nil {
			b.Fatal(err)
		}
	}
}
