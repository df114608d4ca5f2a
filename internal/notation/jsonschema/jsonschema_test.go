package jsonschema

import (
	"strings"
	"testing"

	"ksml/internal/notation"
	"ksml/internal/schemaregistry"
	"ksml/internal/types"
)

const sensor = `{"name":"sensor1","timestamp":1700000000000,"value":"23.5","type":"TEMPERATURE","unit":"C","color":null,"city":"Utrecht"}`

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := types.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func serde(t *testing.T, n *Notation) notation.Serde {
	t.Helper()
	s, err := n.Serde(types.StructType{Notation: "jsonschema", SchemaName: "SensorData"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPlainRoundTrip(t *testing.T) {
	s := serde(t, New("jsonschema", NewLoader("testdata"), nil))
	out, err := s.Serialize(decode(t, sensor), "topic", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sensor {
		t.Fatalf("got %s", out)
	}
	v, err := s.Deserialize(out, "topic", false)
	if err != nil {
		t.Fatal(err)
	}
	st := v.(*types.Struct)
	if st.Schema == nil || st.Schema.Notation != "jsonschema" || st.Schema.Name != "SensorData" {
		t.Fatalf("schema %+v", st.Schema)
	}
	if ts, _ := st.Get("timestamp"); ts != int64(1700000000000) {
		t.Fatalf("timestamp %#v", ts)
	}
}

func TestValidation(t *testing.T) {
	s := serde(t, New("jsonschema", NewLoader("testdata"), nil))
	_, err := s.Serialize(decode(t, `{"name":"s","type":"WIND"}`), "topic", false, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "value does not match JSON schema SensorData: at '/type': ") {
		t.Fatalf("got %v", err)
	}
	_, err = s.Deserialize([]byte(`{"name":5}`), "topic", false)
	if err == nil || !strings.Contains(err.Error(), "at '/name'") {
		t.Fatalf("got %v", err)
	}
	if _, err := s.Deserialize([]byte(`{"name":`), "topic", false); err == nil {
		t.Fatal("truncated JSON accepted")
	}
	// additionalProperties is absent, so extra fields pass.
	if _, err := s.Serialize(decode(t, `{"name":"s","extra":[1,2]}`), "topic", false, nil); err != nil {
		t.Fatal(err)
	}
}

func TestApicurioFraming(t *testing.T) {
	mem := schemaregistry.NewMemory()
	s := serde(t, New("apicurio_jsonschema", NewLoader("testdata"), mem))
	out, err := s.Serialize(decode(t, sensor), "sensors", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:5]) != "\x00\x00\x00\x00\x01" || string(out[5:]) != sensor {
		t.Fatalf("got %q", out)
	}
	latest, err := mem.Latest(t.Context(), "sensors-value")
	if err != nil || latest.ID != 1 || !strings.Contains(latest.Schema, `"title": "SensorData"`) {
		t.Fatalf("registered %+v, %v", latest, err)
	}
	v, err := s.Deserialize(out, "sensors", false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := types.MarshalJSON(v)
	if string(b) != sensor {
		t.Fatalf("got %s", b)
	}
	if _, err := s.Deserialize([]byte{0, 0, 1}, "sensors", false); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Fatalf("got %v", err)
	}
	bare, _ := New("apicurio_jsonschema", NewLoader("testdata"), mem).Serde(types.NotationType{Notation: "apicurio_jsonschema"}, false)
	if _, err := bare.Serialize(decode(t, `{}`), "x", false, nil); err == nil || !strings.Contains(err.Error(), "no schema name") {
		t.Fatalf("got %v", err)
	}
}

func TestSchemaErrors(t *testing.T) {
	l := NewLoader("testdata")
	for name, want := range map[string]string{
		"Missing": `jsonschema schema "Missing" not found (tried testdata/Missing.json)`,
		"Broken":  "testdata/Broken.json: invalid JSON schema:",
		"Ref":     "testdata/Ref.json: invalid JSON schema:",
		"a/b":     `jsonschema schema name "a/b" is not valid`,
	} {
		if _, err := l.Load(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
}

func TestConvertValue(t *testing.T) {
	reg := notation.NewRegistry()
	Register(reg, "testdata")
	jt := types.UserType{Notation: "jsonschema", Type: types.StructType{Notation: "jsonschema", SchemaName: "SensorData"}}
	str := types.UserType{Notation: "default", Type: types.Primitive{Kind: types.KindString}}
	v, err := reg.Convert(sensor, str, jt)
	if err != nil {
		t.Fatal(err)
	}
	text, err := reg.Convert(v, jt, str)
	if err != nil || text != sensor {
		t.Fatalf("got %v %v", text, err)
	}
}

func FuzzDeserialize(f *testing.F) {
	for _, s := range []string{sensor, "\x00\x00\x00\x00\x01{}", "[1,2]", `{"name":`, "\x00"} {
		f.Add([]byte(s))
	}
	n := New("jsonschema", NewLoader("testdata"), nil)
	schema, err := n.loader.Load("SensorData")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []*Serde{{n: n}, {n: n, schema: schema}} {
			v, err := s.Deserialize(b, "t", false)
			if err != nil || v == nil {
				continue
			}
			if _, err := s.Serialize(v, "t", false, nil); err != nil {
				t.Fatalf("re-serializing %q: %v", b, err)
			}
		}
	})
}
