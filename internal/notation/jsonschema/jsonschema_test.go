package jsonschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

const sensor = `{"name":"sensor1","timestamp":1700000000000,"value":"23.5","type":"TEMPERATURE","unit":"C","color":null,"city":"Utrecht"}`

// sensorWire is sensor as written: keys sorted, as upstream's structs hold
// them.
const sensorWire = `{"city":"Utrecht","color":null,"name":"sensor1","timestamp":1700000000000,"type":"TEMPERATURE","unit":"C","value":"23.5"}`

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
	out, err := s.Serialize("topic", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sensorWire {
		t.Fatalf("got %s", out)
	}
	v, err := s.Deserialize("topic", nil, out)
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
	_, err := s.Serialize("topic", nil, decode(t, `{"name":"s","type":"WIND"}`))
	if err == nil || !strings.HasPrefix(err.Error(), "value does not match JSON schema SensorData: at '/type': ") {
		t.Fatalf("got %v", err)
	}
	_, err = s.Deserialize("topic", nil, []byte(`{"name":5}`))
	if err == nil || !strings.Contains(err.Error(), "at '/name'") {
		t.Fatalf("got %v", err)
	}
	if _, err := s.Deserialize("topic", nil, []byte(`{"name":`)); err == nil {
		t.Fatal("truncated JSON accepted")
	}
	// additionalProperties is absent, so extra fields pass.
	if _, err := s.Serialize("topic", nil, decode(t, `{"name":"s","extra":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
}

func TestApicurioFraming(t *testing.T) {
	mem := schemaregistry.NewMemory()
	s := serde(t, New("apicurio_jsonschema", NewLoader("testdata"), mem))
	out, err := s.Serialize("sensors", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:5]) != "\x00\x00\x00\x00\x01" || string(out[5:]) != sensorWire {
		t.Fatalf("got %q", out)
	}
	latest, err := mem.Latest(t.Context(), "sensors-value")
	if err != nil || latest.ID != 1 || !strings.Contains(latest.Schema, `"title": "SensorData"`) {
		t.Fatalf("registered %+v, %v", latest, err)
	}
	v, err := s.Deserialize("sensors", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := types.MarshalJSON(v)
	if string(b) != sensorWire {
		t.Fatalf("got %s", b)
	}
	if _, err := s.Deserialize("sensors", nil, []byte{0, 0, 1}); err == nil || !strings.Contains(err.Error(), "payload of 3 bytes is shorter than the 5-byte schema id header") {
		t.Fatalf("got %v", err)
	}
	bare, _ := New("apicurio_jsonschema", NewLoader("testdata"), mem).Serde(types.NotationType{Notation: "apicurio_jsonschema"}, false)
	if _, err := bare.Serialize("x", nil, decode(t, `{}`)); err == nil || !strings.Contains(err.Error(), "no schema name") {
		t.Fatalf("got %v", err)
	}
}

func TestWrittenFields(t *testing.T) {
	dir := t.TempDir()
	schema := `{"type":"object","required":["id","inner"],"properties":{
		"id":{"type":"string"},"opt":{"type":"string"},
		"inner":{"$ref":"#/$defs/Inner"},"list":{"type":"array","items":{"$ref":"#/$defs/Inner"}}},
		"$defs":{"Inner":{"type":"object","required":["b"],"properties":{"a":{"type":"integer"},"b":{"type":"integer"}}}}}`
	if err := os.WriteFile(filepath.Join(dir, "Outer.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	n := New("jsonschema", NewLoader(dir), nil)
	s, err := n.Serde(types.StructType{Notation: "jsonschema", SchemaName: "Outer"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Required properties always (null when absent), optional ones when
	// present, others dropped; keys sorted at every level.
	out, err := s.Serialize("t", nil, decode(t, `{"x":1,"list":[{"z":1,"a":2}],"id":"i","inner":{"a":1}}`))
	if err == nil {
		t.Fatalf("inner.b null passed validation: %s", out)
	}
	out, err = s.Serialize("t", nil, decode(t, `{"x":1,"list":[{"z":1,"b":3,"a":2}],"id":"i","inner":{"b":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"id":"i","inner":{"b":1},"list":[{"a":2,"b":3}]}` {
		t.Fatalf("got %s", out)
	}
	bare, _ := n.Serde(types.NotationType{Notation: "jsonschema"}, false)
	out, err = bare.Serialize("t", nil, decode(t, `{"b":{"d":1,"c":2},"@m":0,"a":[{"y":1,"x":2}]}`))
	if err != nil || string(out) != `{"a":[{"x":2,"y":1}],"b":{"c":2,"d":1},"@m":0}` {
		t.Fatalf("got %s %v", out, err)
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
	reg.Register(NotationName, New(NotationName, NewLoader("testdata"), nil))
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
			v, err := s.Deserialize("t", nil, b)
			if err != nil || v == nil {
				continue
			}
			if _, err := s.Serialize("t", nil, v); err != nil {
				t.Fatalf("re-serializing %q: %v", b, err)
			}
		}
	})
}

// TestFieldsConvertToSchemaTypes checks that text in a "number" or
// "integer" property is written as the number (upstream's double and long)
// and a number in a "string" property as its text, as upstream converts a
// struct to its schema's field types before writing: the upstream
// jsonschema producer example generates the timestamp as text.
func TestFieldsConvertToSchemaTypes(t *testing.T) {
	s := serde(t, New("jsonschema", NewLoader("testdata"), nil))
	out, err := s.Serialize("topic", nil, decode(t, `{"name":"sensor1","timestamp":"1700000000000","value":23,"type":"AREA","unit":"m2"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"sensor1","timestamp":1.7E12,"type":"AREA","unit":"m2","value":"23"}`; string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	// Text that is no number stays text, and validation names it.
	_, err = s.Serialize("topic", nil, decode(t, `{"name":"s","timestamp":"soon"}`))
	if err == nil || !strings.Contains(err.Error(), "at '/timestamp': got string, want number") {
		t.Fatalf("err = %v", err)
	}
}

// TestApicurioHeadersMode: with apicurio.registry.headers.enabled the
// content id travels in the apicurio.value.contentId header and the payload
// is the JSON text alone; without headers to write to, the payload is
// framed.
func TestApicurioHeadersMode(t *testing.T) {
	mem := schemaregistry.NewMemory()
	n, err := Create(notation.Config{Name: "apicurio_jsonschema", Type: TypeApicurio, SchemaRegistry: mem,
		SchemaDirs: []string{"testdata"}, Properties: map[string]any{"apicurio.registry.headers.enabled": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.Serde(types.StructType{Notation: "apicurio_jsonschema", SchemaName: "SensorData"}, false)
	if err != nil {
		t.Fatal(err)
	}
	headers := []notation.Header{{Key: "trace", Value: []byte("t1")}}
	out, err := s.Serialize("sensors", &headers, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sensorWire {
		t.Fatalf("payload %q, want the JSON text alone", out)
	}
	if len(headers) != 2 || headers[0].Key != "trace" || headers[1].Key != "apicurio.value.contentId" || string(headers[1].Value) != "\x00\x00\x00\x00\x00\x00\x00\x01" {
		t.Fatalf("headers %q, want trace and apicurio.value.contentId = 1", headers)
	}
	v, err := s.Deserialize("sensors", headers, out)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := types.MarshalJSON(v); string(b) != sensorWire {
		t.Fatalf("read back %s", b)
	}
	framed, err := s.Serialize("sensors", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if string(framed) != "\x00\x00\x00\x00\x01"+sensorWire {
		t.Fatalf("without headers: %q, want the payload frame", framed)
	}
	if v, err := s.Deserialize("sensors", nil, framed); err != nil {
		t.Fatal(err)
	} else if b, _ := types.MarshalJSON(v); string(b) != sensorWire {
		t.Fatalf("framed read back %s", b)
	}
	if _, err := Create(notation.Config{Name: "j", Type: TypeApicurio, SchemaRegistry: mem,
		Properties: map[string]any{"apicurio.registry.headers.enabled": "yes please"}}); err == nil || !strings.Contains(err.Error(), "notation j: config apicurio.registry.headers.enabled") {
		t.Fatalf("bad setting: err = %v", err)
	}
}
