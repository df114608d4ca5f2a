package notation

import (
	"errors"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// fakeAvro stands for a notation registered later by another package.
type fakeAvro struct{ name string }

func (f fakeAvro) Name() string { return f.name }
func (fakeAvro) Info() types.NotationInfo {
	return types.NotationInfo{Default: types.StructType{}, Schema: types.SchemaOptional}
}
func (f fakeAvro) Serde(t types.DataType, isKey bool) (Serde, error) {
	return nil, errors.New(f.name + " serde for " + t.String())
}

func TestRegistryLookupAndAliases(t *testing.T) {
	r := NewRegistry()
	for _, name := range []string{"binary", "default", "json"} {
		if _, err := r.Lookup(name); err != nil {
			t.Errorf("Lookup(%s): %v", name, err)
		}
	}
	if n, _ := r.Lookup("default"); n.Name() != "binary" {
		t.Errorf("default is %s, want binary", n.Name())
	}
	_, err := r.Lookup("avro")
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Name != "avro" || err.Error() != `notation "avro" is not available (available: binary, default, json)` {
		t.Fatalf("Lookup(avro) error = %v", err)
	}

	r.Register("confluent_avro", fakeAvro{"confluent_avro"})
	r.Alias("avro", "confluent_avro")
	n, err := r.Lookup("avro")
	if err != nil || n.Name() != "confluent_avro" {
		t.Fatalf("Lookup(avro) = %v, %v", n, err)
	}
	// Serde requests go to the aliased notation with the type.
	ut, err := types.Parser{Notation: r.TypeInfo}.Parse("avro:SensorData")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Serde(ut, false); err == nil || err.Error() != "type avro:SensorData: confluent_avro serde for avro:SensorData" {
		t.Fatalf("Serde(avro:SensorData) error = %v", err)
	}
	// A configured notation name parses with the registry's TypeInfo.
	r.Register("my_avro", fakeAvro{"my_avro"})
	if _, err := (types.Parser{Notation: r.TypeInfo}).Parse("(string, my_avro:X)"); err != nil {
		t.Fatal(err)
	}
	// Alias cycles do not hang.
	r.Alias("a", "b")
	r.Alias("b", "a")
	if _, err := r.Lookup("a"); err == nil {
		t.Fatal("alias cycle resolved")
	}
}

func TestRegistryPrimitivesUseBinary(t *testing.T) {
	r := NewRegistry()
	// "json:windowed(string)" keeps its key a binary string; a primitive with
	// any notation serializes with Kafka's serializers.
	s, err := r.Serde(types.UserType{Notation: "json", Type: types.String}, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Serialize("t", nil, "k")
	if err != nil || string(b) != "k" {
		t.Fatalf("Serialize = %q, %v", b, err)
	}
	if _, err := r.Serde(types.UserType{Notation: "xml", Type: types.StructType{}}, false); err == nil || !strings.Contains(err.Error(), `notation "xml" is not available`) {
		t.Fatalf("xml serde error = %v", err)
	}
}

func TestRegistrySerde(t *testing.T) {
	r := NewRegistry()
	ut, _ := types.ParseUserType("long")
	s, err := r.Serde(ut, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Serialize("topic", nil, int64(7))
	if err != nil || len(b) != 8 || b[7] != 7 {
		t.Fatalf("Serialize = %x, %v", b, err)
	}
	v, err := s.Deserialize("topic", nil, b)
	if err != nil || v != any(int64(7)) {
		t.Fatalf("Deserialize = %#v, %v", v, err)
	}
	var provider interface {
		Serde(types.UserType, bool) (streams.Serde, error)
	} = r
	js, err := provider.Serde(types.UserType{Notation: "json", Type: types.NotationType{Notation: "json"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := js.Serialize("topic", nil, obj("a", int64(1))); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("json Serialize = %s, %v", b, err)
	}
}

func TestRegistryConvert(t *testing.T) {
	r := NewRegistry()
	parse := func(s string) types.UserType {
		ut, err := types.ParseUserType(s)
		if err != nil {
			t.Fatal(err)
		}
		return ut
	}
	cases := []struct {
		v        any
		from, to string
		want     any
	}{
		// json -> string writes compact JSON (the json notation's converter),
		// not the generic {"a": 1} spelling.
		{obj("a", int64(1), "b", []any{"x"}), "json", "string", `{"a":1,"b":["x"]}`},
		{RawJSON(`{"a": 1}`), "json", "string", `{"a": 1}`},
		{[]any{int64(1)}, "json", "string", `[1]`},
		// string holding JSON -> json.
		{`{"a":1}`, "string", "json", obj("a", int64(1))},
		{`[1,2]`, "string", "json", []any{int64(1), int64(2)}},
		{`{"a":"5"}`, "string", "json:map(int)", obj("a", int64(5))},
		// Generic conversions when no notation converter applies.
		{int64(5), "long", "string", "5"},
		{"12", "string", "int", int64(12)},
		{obj("a", int64(1)), "json", "avro:SensorData", obj("a", int64(1))},
		{"x", "string", "?", "x"},
	}
	for _, c := range cases {
		got, err := r.Convert(c.v, parse(c.from), parse(c.to))
		if err != nil {
			t.Errorf("Convert(%#v, %s -> %s): %v", c.v, c.from, c.to, err)
			continue
		}
		if !types.Equal(got, c.want) || types.TypeOf(got).String() != types.TypeOf(c.want).String() {
			t.Errorf("Convert(%#v, %s -> %s) = %#v, want %#v", c.v, c.from, c.to, got, c.want)
		}
	}
	if _, err := r.Convert("not json", parse("string"), parse("json")); err == nil || !strings.Contains(err.Error(), "invalid JSON at offset 0") {
		t.Errorf("Convert(bad json) error = %v", err)
	}
	if _, err := r.Convert(int64(300), parse("long"), parse("byte")); err == nil || !strings.Contains(err.Error(), "out of range for byte") {
		t.Errorf("Convert(300 -> byte) error = %v", err)
	}
}

func TestRegistryConfigure(t *testing.T) {
	RegisterFactory("test_avro", func(cfg Config) (Notation, error) {
		if cfg.Properties["fail"] == true {
			return nil, errors.New("bad config")
		}
		return fakeAvro{cfg.Type}, nil
	})
	r := NewRegistry()
	if err := r.Configure(Config{Name: "avro", Type: "test_avro"}); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Lookup("avro"); err != nil || n.Name() != "test_avro" {
		t.Fatalf("Lookup(avro) = %v, %v", n, err)
	}
	if err := r.Configure(Config{Name: "j", Type: "json"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Lookup("j"); n.Name() != "json" {
		t.Fatalf("j is %s", n.Name())
	}
	err := r.Configure(Config{Name: "x", Type: "soap"})
	if err == nil || !strings.Contains(err.Error(), `notation "x": type "soap" is not available (available: binary, json,`) {
		t.Fatalf("unknown type error = %v", err)
	}
	err = r.Configure(Config{Name: "y", Type: "test_avro", Properties: map[string]any{"fail": true}})
	if err == nil || err.Error() != `notation "y" (test_avro): bad config` {
		t.Fatalf("factory error = %v", err)
	}
}
