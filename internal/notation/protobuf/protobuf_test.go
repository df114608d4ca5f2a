package protobuf

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := types.MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := types.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func serde(t *testing.T, n *Notation, schema string) notation.Serde {
	t.Helper()
	s, err := n.Serde(types.StructType{Notation: "protobuf", SchemaName: schema}, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sensor = `{"name":"s1","timestamp":1700000000000,"value":"23.5","type":"TEMPERATURE","unit":"C","city":"Utrecht"}`

func TestSensorDataBareRoundTrip(t *testing.T) {
	s := serde(t, New("protobuf", NewLoader("testdata"), nil), "sensor_data")
	out, err := s.Serialize("t", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	// name=1 "s1", timestamp=2 varint, value=3, type=4 enum 5, unit=5, city=7
	if got := hex.EncodeToString(out); got != "0a0273311080d095ffbc311a0432332e3520052a01433a0755747265636874" {
		t.Fatalf("got %s", got)
	}
	v, err := s.Deserialize("t", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != sensor {
		t.Fatalf("got %s", got)
	}
	st := v.(*types.Struct)
	if st.Schema == nil || st.Schema.Name != "io.axual.ksml.example.sensor_data" || st.Schema.Namespace != "io.axual.ksml.example" {
		t.Fatalf("schema %+v", st.Schema)
	}
}

func TestApicurioFraming(t *testing.T) {
	mem := schemaregistry.NewMemory()
	n := New("apicurio_protobuf", NewLoader("testdata"), mem)
	s := serde(t, n, "sensor_data")
	out, err := s.Serialize("sensors", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	// magic, id 1, delimited Ref{name: "sensor_data"}, message
	wantPrefix := "000000000100" + "0d0a0b73656e736f725f64617461"
	if got := hex.EncodeToString(out); !strings.HasPrefix(got, wantPrefix[:10]+"0d0a0b73656e736f725f64617461") {
		t.Fatalf("got %s", got)
	}
	latest, err := mem.Latest(t.Context(), "sensors-value")
	if err != nil || latest.ID != 1 || !strings.Contains(latest.Schema, "message sensor_data") {
		t.Fatalf("registered %+v %v", latest, err)
	}
	// A bare protobuf type reads the writer schema from the registry.
	bare, err := New("apicurio_protobuf", NewLoader("testdata"), mem).Serde(types.NotationType{Notation: "apicurio_protobuf"}, false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := bare.Deserialize("sensors", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != sensor {
		t.Fatalf("got %s", got)
	}
	for _, in := range [][]byte{{0, 0, 1}, {0, 0, 0, 0, 1, 0x7f}} {
		if _, err := bare.Deserialize("sensors", nil, in); err == nil {
			t.Errorf("%x accepted", in)
		}
	}
}

// TestApicurioHeadersMode: with apicurio.registry.headers.enabled the
// content id and the message type travel in headers, the payload keeps the
// type reference and the message; a bare type reads the writer schema by
// the id in the header.
func TestApicurioHeadersMode(t *testing.T) {
	mem := schemaregistry.NewMemory()
	cfg := notation.Config{Name: "apicurio_protobuf", Type: TypeApicurio, SchemaRegistry: mem, SchemaDirs: []string{"testdata"},
		Properties: map[string]any{"apicurio.registry.headers.enabled": true}}
	n, err := Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := serde(t, n.(*Notation), "sensor_data")
	var headers []notation.Header
	out, err := s.Serialize("sensors", &headers, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(out); !strings.HasPrefix(got, "0d0a0b73656e736f725f64617461") {
		t.Fatalf("payload %s, want the delimited type reference first (no id frame)", got)
	}
	if len(headers) != 2 || headers[0].Key != "apicurio.value.contentId" || hex.EncodeToString(headers[0].Value) != "0000000000000001" ||
		headers[1].Key != "apicurio.protobuf.type" || string(headers[1].Value) != "sensor_data" {
		t.Fatalf("headers %q", headers)
	}
	bare, err := n.Serde(types.NotationType{Notation: "apicurio_protobuf"}, false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := bare.Deserialize("sensors", headers, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := js(t, v); got != sensor {
		t.Fatalf("got %s", got)
	}
	// Without headers to write to, the id is framed in the payload.
	framed, err := s.Serialize("sensors", nil, decode(t, sensor))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(framed); got != "0000000001"+hex.EncodeToString(out) {
		t.Fatalf("framed %s", got)
	}
	if v, err := bare.Deserialize("sensors", nil, framed); err != nil || js(t, v) != sensor {
		t.Fatalf("framed read back %v, %v", v, err)
	}
}

func TestShapes(t *testing.T) {
	s := serde(t, New("protobuf", NewLoader("testdata"), nil), "test.shapes.Shape")
	in := `{"id":"a","points":[{"x":1.5,"y":-2.0},{"x":0.0,"y":3.0}],"counts":{"b":2,"a":1},"size":"big","raw":"AQ==","flags":7,"ratio":0.5,"closed":true,"at":{"seconds":5,"nanos":6}}`
	v := decode(t, in)
	v.(*types.Struct).Set("raw", []byte{1})
	out, err := s.Serialize("t", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.Deserialize("t", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	// points[0].y and x of points[1] at their zero value are not set in proto3.
	want := `{"id":"a","points":[{"x":1.5,"y":-2.0},{"y":3.0}],"counts":{"a":1,"b":2},"size":"big","raw":"AQ==","flags":7,"ratio":0.5,"closed":true,"at":{"seconds":5,"nanos":6}}`
	if got := js(t, back); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	v.(*types.Struct).Set("size", int64(9))
	out, _ = s.Serialize("t", nil, v)
	back, _ = s.Deserialize("t", nil, out)
	if w, _ := back.(*types.Struct).Get("size"); w != int64(9) {
		t.Fatalf("oneof width: %#v", w)
	}
	for field, bad := range map[string]any{"id": int64(1), "points": "x", "flags": int64(-1), "size": true} {
		c := decode(t, `{"id":"a"}`).(*types.Struct)
		c.Set(field, bad)
		if _, err := s.Serialize("t", nil, c); err == nil || !strings.Contains(err.Error(), "protobuf message test.shapes.Shape: ") {
			t.Errorf("%s=%v: got %v", field, bad, err)
		}
	}
	sd := serde(t, New("protobuf", NewLoader("testdata"), nil), "sensor_data")
	if _, err := sd.Serialize("t", nil, decode(t, `{"type":"WIND"}`)); err == nil || !strings.Contains(err.Error(), "value 'WIND' not found in enum type 'SensorType'") {
		t.Errorf("got %v", err)
	}
}

func TestSchemaErrors(t *testing.T) {
	l := NewLoader("testdata")
	for name, want := range map[string]string{
		"missing": `protobuf schema "missing" not found (tried testdata/missing.proto)`,
		"broken":  "invalid protobuf schema: testdata/broken.proto:4:1: syntax error",
		"multi":   "testdata/multi.proto: no message multi (messages: A, B)",
		"../x":    `protobuf schema name "../x" is not valid`,
	} {
		if _, err := l.Load(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
	s, _ := New("protobuf", l, nil).Serde(types.StructType{}, false)
	if _, err := s.Serialize("t", nil, types.NewStruct(0)); err == nil || !strings.Contains(err.Error(), "schemaless struct") {
		t.Errorf("got %v", err)
	}
	if _, err := s.Deserialize("t", nil, []byte{8, 1}); err == nil || !strings.Contains(err.Error(), "names no schema") {
		t.Errorf("got %v", err)
	}
}

func FuzzDeserialize(f *testing.F) {
	for _, s := range []string{"0a0273311080d095ffbc311a0432332e3520052a0143", "00000000010d0a0b73656e736f725f646174610a0173", "12ffffffff0f", "00"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	l := NewLoader("testdata")
	n := New("protobuf", l, nil)
	schemas := []*Schema{}
	for _, name := range []string{"sensor_data", "test.shapes.Shape"} {
		sc, err := l.Load(name)
		if err != nil {
			f.Fatal(err)
		}
		schemas = append(schemas, sc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sc := range schemas {
			s := &Serde{n: n, schema: sc}
			v, err := s.Deserialize("t", nil, b)
			if err != nil || v == nil {
				continue
			}
			if _, err := s.Serialize("t", nil, v); err != nil {
				t.Fatalf("re-serializing %x: %v", b, err)
			}
		}
	})
}

func TestRegisterFactories(t *testing.T) {
	reg := notation.NewRegistry()
	if err := reg.Configure(notation.Config{Name: "proto", Type: TypeApicurio, Properties: map[string]any{}, SchemaDirs: []string{"testdata"}}); err != nil {
		t.Fatal(err)
	}
	n, err := reg.Lookup("proto")
	if err != nil || n.Name() != "proto" {
		t.Fatalf("got %v %v", n, err)
	}
	if _, err := n.Serde(types.StructType{Notation: "proto", SchemaName: "sensor_data"}, false); err != nil {
		t.Fatal(err)
	}
}
