package avro

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	hamba "github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/types"
)

// sharedDir returns ../shared relative to the repository root, skipping the
// test when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	return dir
}

// writeSchemas writes name -> text as <name>.avsc into a temp dir.
func writeSchemas(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".avsc"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// st builds a schemaless struct from alternating keys and values.
func st(kv ...any) *types.Struct {
	s := types.NewStruct(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		s.Set(kv[i].(string), kv[i+1])
	}
	return s
}

// plain turns data-model values into comparable Go values: structs become
// ordered [key, value, ...] lists tagged with their schema name.
func plain(v any) any {
	switch x := v.(type) {
	case *types.Struct:
		out := []any{}
		if x.Schema != nil {
			out = append(out, "@"+x.Schema.Name)
		}
		x.Range(func(k string, e any) bool {
			out = append(out, k, plain(e))
			return true
		})
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func mustEqual(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(plain(got), plain(want)) {
		t.Fatalf("value mismatch\n got: %#v\nwant: %#v", plain(got), plain(want))
	}
}

func newNotation(t testing.TB, vendor Vendor, reg schemaregistry.Registry, dir string, props map[string]any) *Notation {
	t.Helper()
	n, err := NewNotation("avro", vendor, reg, NewLoader(dir), props)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSensorDataRoundTripMatchesReferenceEncoder(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "ksml-corpus", "ksml-test-runner", "src", "test", "resources", "schemas")
	mem := schemaregistry.NewMemory()
	n := newNotation(t, Confluent, mem, dir, nil)
	serde, err := n.SerdeFor("io.axual.ksml.example.SensorData", "ksml_sensordata_avro", false)
	if err != nil {
		t.Fatal(err)
	}
	// As the test runner hands over YAML test data: schemaless, partial.
	in := st("name", "sensor-1", "timestamp", int64(1000), "value", "25.0", "type", "TEMPERATURE", "unit", "celsius", "color", "blue")
	data, err := serde.Serialize("ksml_sensordata_avro", nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != 0 || binary.BigEndian.Uint32(data[1:5]) != 1 {
		t.Fatalf("header = % x, want 00 00000001", data[:5])
	}
	latest, err := mem.Latest(t.Context(), "ksml_sensordata_avro-value")
	if err != nil || latest.ID != 1 {
		t.Fatalf("auto-registered subject: %+v, %v", latest, err)
	}
	// The body decodes with an independent Avro implementation.
	var ref map[string]any
	if err := hamba.Unmarshal(serde.Schema().Avro, data[5:], &ref); err != nil {
		t.Fatalf("reference decoder: %v", err)
	}
	if ref["name"] != "sensor-1" || ref["timestamp"] != int64(1000) || ref["type"] != "TEMPERATURE" || ref["color"] != "blue" || ref["city"] != nil {
		t.Fatalf("reference decoder read %#v", ref)
	}
	out, err := serde.Deserialize("ksml_sensordata_avro", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := st("name", "sensor-1", "timestamp", int64(1000), "value", "25.0", "type", "TEMPERATURE", "unit", "celsius", "color", "blue", "city", nil, "owner", nil)
	want.Schema = &types.StructSchema{Name: "io.axual.ksml.example.SensorData"}
	mustEqual(t, out, want)
	got := out.(*types.Struct)
	if got.Schema.Notation != "avro" || got.Schema.Namespace != "io.axual.ksml.example" || got.Schema.Native == nil {
		t.Fatalf("struct schema = %+v", got.Schema)
	}
	// Encoding the decoded struct again yields the same bytes.
	again, err := serde.Serialize("ksml_sensordata_avro", nil, out)
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("re-serialize: % x, %v; want % x", again, err, data)
	}
	if v, err := serde.Serialize("t", nil, nil); v != nil || err != nil {
		t.Fatalf("tombstone serialize = %v, %v", v, err)
	}
	if v, err := serde.Deserialize("t", nil, nil); v != nil || err != nil {
		t.Fatalf("tombstone deserialize = %v, %v", v, err)
	}
}

const allTypesSchema = `{
  "type": "record", "name": "All", "namespace": "test.types",
  "fields": [
    {"name": "b", "type": "boolean"},
    {"name": "i", "type": "int"},
    {"name": "l", "type": "long"},
    {"name": "f", "type": "float"},
    {"name": "d", "type": "double"},
    {"name": "s", "type": "string"},
    {"name": "raw", "type": "bytes"},
    {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
    {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
    {"name": "arr", "type": {"type": "array", "items": "int"}},
    {"name": "m", "type": {"type": "map", "values": "double"}},
    {"name": "opt", "type": ["null", "string"], "default": null},
    {"name": "multi", "type": ["null", "long", "string", {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}]},
    {"name": "nested", "type": "Inner"},
    {"name": "withDefault", "type": "string", "default": "dflt"},
    {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "date", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tms", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "tus", "type": {"type": "long", "logicalType": "time-micros"}},
    {"name": "tsms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "tsus", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "ltsms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    {"name": "ltsus", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "optDec", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 3}], "default": null}
  ]
}`

func allTypesValue() *types.Struct {
	inner := st("x", int64(7))
	return st(
		"b", true, "i", int64(-42), "l", int64(1)<<40, "f", 1.5, "d", -2.25, "s", "héllo",
		"raw", []byte{0, 1, 255}, "fx", []byte("abcd"), "e", "GREEN",
		"arr", []any{int64(1), int64(2), int64(3)}, "m", st("a", 1.0, "b", 2.5),
		"opt", nil, "multi", inner, "nested", st("x", int64(-1)),
		"uuid", "123e4567-e89b-12d3-a456-426614174000", "date", int64(19675),
		"tms", int64(86_399_999), "tus", int64(86_399_999_999), "tsms", int64(1700000000123),
		"tsus", int64(1700000000123456), "ltsms", int64(1700000000999), "ltsus", int64(-5),
		"dec", "-1234567.89", "optDec", "0.050",
	)
}

func TestAllTypesAndLogicalTypesRoundTrip(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"All": allTypesSchema})
	n := newNotation(t, Confluent, schemaregistry.NewMemory(), dir, nil)
	serde, err := n.SerdeFor("test.types.All", "all", false)
	if err != nil {
		t.Fatal(err)
	}
	data, err := serde.Serialize("all", nil, allTypesValue())
	if err != nil {
		t.Fatal(err)
	}
	out, err := serde.Deserialize("all", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := allTypesValue()
	want.Schema = &types.StructSchema{Name: "test.types.All"}
	inner, _ := want.Get("multi")
	inner.(*types.Struct).Schema = &types.StructSchema{Name: "test.types.Inner"}
	nested, _ := want.Get("nested")
	nested.(*types.Struct).Schema = &types.StructSchema{Name: "test.types.Inner"}
	// The missing field took its default, in schema order.
	ordered := types.NewStruct(0)
	ordered.Schema = want.Schema
	for _, k := range []string{"b", "i", "l", "f", "d", "s", "raw", "fx", "e", "arr", "m", "opt", "multi", "nested", "withDefault", "uuid", "date", "tms", "tus", "tsms", "tsus", "ltsms", "ltsus", "dec", "optDec"} {
		v, ok := want.Get(k)
		if k == "withDefault" {
			v, ok = "dflt", true
		}
		if !ok {
			t.Fatalf("test value lacks %s", k)
		}
		ordered.Set(k, v)
	}
	mustEqual(t, out, ordered)

	// The reference implementation agrees on every logical value.
	var ref map[string]any
	if err := hamba.Unmarshal(serde.Schema().Avro, data[5:], &ref); err != nil {
		t.Fatalf("reference decoder: %v", err)
	}
	if got := ref["tsms"]; got.(interface{ UnixMilli() int64 }).UnixMilli() != 1700000000123 {
		t.Fatalf("reference timestamp-millis = %v", got)
	}
	if got := ref["dec"].(interface{ FloatString(int) string }).FloatString(2); got != "-1234567.89" {
		t.Fatalf("reference decimal = %v", got)
	}
	if got := ref["uuid"]; got != "123e4567-e89b-12d3-a456-426614174000" {
		t.Fatalf("reference uuid = %v", got)
	}
}

func TestDecimalText(t *testing.T) {
	cases := []struct {
		in    string
		scale int
		want  string
	}{
		{"123.45", 2, "123.45"}, {"0.05", 2, "0.05"}, {"-0.05", 2, "-0.05"}, {"7", 3, "7.000"},
		{"-128", 0, "-128"}, {"127", 0, "127"}, {"-129", 0, "-129"}, {"1e2", 1, "100.0"}, {"0", 4, "0.0000"},
	}
	for _, c := range cases {
		b, err := decimalBytes(c.in, 20, c.scale)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := decimalString(b, c.scale); got != c.want {
			t.Fatalf("decimal %s scale %d -> % x -> %s, want %s", c.in, c.scale, b, got, c.want)
		}
	}
	if b, _ := decimalBytes("-1", 5, 0); !bytes.Equal(b, []byte{0xff}) {
		t.Fatalf("-1 = % x, want ff", b)
	}
	if b, _ := decimalBytes("128", 5, 0); !bytes.Equal(b, []byte{0x00, 0x80}) {
		t.Fatalf("128 = % x, want 00 80", b)
	}
}

func TestWriteErrorsNameTheField(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"All": allTypesSchema})
	n := newNotation(t, Confluent, schemaregistry.NewMemory(), dir, nil)
	serde, err := n.SerdeFor("All", "all", false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field string
		value any
		want  string
	}{
		{"e", "BLUE", `topic all, field e: value "BLUE" is not a valid symbol of Avro enum test.types.Color (allowed: RED, GREEN)`},
		{"i", int64(1) << 40, "field i: value 1099511627776 is out of range for int"},
		{"i", 1.5, "field i: value 1.5 cannot be converted to int"},
		{"s", int64(3), "field s: cannot convert long to Avro string"},
		{"dec", "1.234", "field dec: decimal value \"1.234\" has more fraction digits than the schema scale of 2"},
		{"dec", "12345678.00", "field dec: decimal value \"12345678.00\" needs 10 digits of precision, but the schema allows only 9"},
		{"dec", "abc", `field dec: value "abc" is not a valid decimal`},
		{"dec", 1.5, "field dec: decimal value must be a string, but was double"},
		{"uuid", "not-a-uuid", `field uuid: value "not-a-uuid" is not a valid uuid`},
		{"tms", int64(86_400_000), "field tms: value 86400000 is out of range for time-millis"},
		{"fx", []byte("abc"), "field fx: Avro fixed test.types.Four needs 4 bytes, got 3"},
		{"arr", []any{int64(1), "x"}, "field arr[1]: cannot convert string to Avro int"},
		{"m", st("a", "x"), "field m.a: cannot convert string to Avro double"},
		{"nested", st("x", "y"), "field nested.x: cannot convert string to Avro int"},
		{"nested", st(), "field nested.x: missing value for required field of type int"},
		{"b", nil, "field b: cannot convert null to Avro boolean"},
	}
	for _, c := range cases {
		v := allTypesValue()
		v.Set(c.field, c.value)
		_, err := serde.Serialize("all", nil, v)
		var se *SerdeError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s=%v: err = %v\nwant containing %q", c.field, c.value, err, c.want)
		}
	}
	missing := allTypesValue()
	missing.Delete("s")
	if _, err := serde.Serialize("all", nil, missing); err == nil || !strings.Contains(err.Error(), "field s: missing value for required field of type string") {
		t.Fatalf("missing field err = %v", err)
	}
	if _, err := serde.Serialize("all", nil, "just a string"); err == nil || !strings.Contains(err.Error(), "cannot convert string to Avro record test.types.All") {
		t.Fatalf("wrong top-level err = %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"All": allTypesSchema})
	mem := schemaregistry.NewMemory()
	n := newNotation(t, Confluent, mem, dir, nil)
	serde, err := n.SerdeFor("All", "all", false)
	if err != nil {
		t.Fatal(err)
	}
	good, err := serde.Serialize("all", nil, allTypesValue())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"short header", []byte{0, 0, 1}, "topic all: payload of 3 bytes is shorter than the 5-byte schema id header"},
		{"bad magic", append([]byte{1}, good[1:]...), "unknown magic byte 1"},
		{"unknown id", append([]byte{0, 0, 0, 0, 9}, good[5:]...), "unknown schema id 9"},
		{"truncated body", good[:len(good)-3], "unexpected end of Avro data"},
		{"bad enum index", badEnum(good), "Avro enum index"},
	}
	for _, c := range cases {
		_, err := serde.Deserialize("all", nil, c.data)
		var se *SerdeError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: err = %v, want containing %q", c.name, err, c.want)
		}
		if se.Op != "deserialize" || se.Topic != "all" {
			t.Fatalf("%s: SerdeError = %+v", c.name, se)
		}
	}
	// The truncated body names the field that ran out.
	_, err = serde.Deserialize("all", nil, good[:len(good)-3])
	var se *SerdeError
	if errors.As(err, &se); se.Field != "optDec" {
		t.Fatalf("truncated field = %q, want optDec (err %v)", se.Field, err)
	}
	se.SetPosition(2, 41)
	if !strings.Contains(se.Error(), "topic all, partition 2, offset 41, field optDec:") {
		t.Fatalf("error text = %s", se.Error())
	}
}

// badEnum rewrites the enum index of the All record written by
// allTypesValue (field e follows b, i, l, f, d, s, raw, fx).
func badEnum(good []byte) []byte {
	b := append([]byte(nil), good...)
	var off = 5
	off++                     // b
	off += varintLen(b[off:]) // i
	off += varintLen(b[off:]) // l
	off += 4 + 8              // f, d
	off += 1 + len("héllo")   // s
	off += 1 + 3              // raw
	off += 4                  // fx
	b[off] = 0x7e             // enum index 63
	return b
}

func varintLen(b []byte) int {
	for i, c := range b {
		if c < 0x80 {
			return i + 1
		}
	}
	return len(b)
}

const (
	evoV1 = `{"type":"record","name":"Event","namespace":"evo","fields":[
	  {"name":"id","type":"string"},
	  {"name":"count","type":"int"},
	  {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
	  {"name":"legacy","type":"string"},
	  {"name":"tags","type":{"type":"array","items":"string"}}
	]}`
	// v2: count promoted to long, legacy removed, kind gains a symbol and a
	// default, new fields with defaults (one renamed through an alias).
	evoV2 = `{"type":"record","name":"Event","namespace":"evo","fields":[
	  {"name":"id","type":"string"},
	  {"name":"count","type":"long"},
	  {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"],"default":"A"}},
	  {"name":"labels","aliases":["tags"],"type":{"type":"array","items":"string"}},
	  {"name":"score","type":"double","default":0.5},
	  {"name":"note","type":["null","string"],"default":null},
	  {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
	  {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2},"default":"\u0004\u00d2"}
	]}`
)

func TestSchemaEvolution(t *testing.T) {
	dirV1 := writeSchemas(t, map[string]string{"Event": evoV1})
	dirV2 := writeSchemas(t, map[string]string{"Event": evoV2})
	mem := schemaregistry.NewMemory()
	n1 := newNotation(t, Confluent, mem, dirV1, nil)
	n2 := newNotation(t, Confluent, mem, dirV2, nil)
	s1, err := n1.SerdeFor("Event", "events", false)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := n2.SerdeFor("Event", "events", false)
	if err != nil {
		t.Fatal(err)
	}

	// Writer v1, reader v2.
	data, err := s1.Serialize("events", nil, st("id", "e1", "count", int64(3), "kind", "B", "legacy", "old", "tags", []any{"x", "y"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Deserialize("events", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := st("id", "e1", "count", int64(3), "kind", "B", "labels", []any{"x", "y"}, "score", 0.5, "note", nil, "ts", int64(0), "price", "12.34")
	want.Schema = &types.StructSchema{Name: "evo.Event"}
	mustEqual(t, got, want)

	// Writer v2, reader v1: v2's long count does not fit v1's int.
	data2, err := s2.Serialize("events", nil, st("id", "e2", "count", int64(1)<<33, "kind", "C", "labels", []any{}, "score", 1.0, "note", "n", "ts", int64(5), "price", "1.00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Deserialize("events", nil, data2); err == nil || !strings.Contains(err.Error(), "field count: reader type int cannot read writer type long") {
		t.Fatalf("v1 reading v2: err = %v", err)
	}
	// A reader with a long count still lacks the removed field, which has no
	// default, and says so.
	dirV1b := writeSchemas(t, map[string]string{"Event": strings.Replace(evoV1, `"type":"int"`, `"type":"long"`, 1)})
	n1b := newNotation(t, Confluent, mem, dirV1b, nil)
	s1b, err := n1b.SerdeFor("Event", "events", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1b.Deserialize("events", nil, data2); err == nil || !strings.Contains(err.Error(), "field legacy: reader field is missing in the writer schema and has no default") {
		t.Fatalf("v1b reading v2: err = %v", err)
	}
	data3, err := s2.Serialize("events", nil, st("id", "e3", "count", int64(9), "kind", "A", "labels", []any{"z"}, "score", 2.0, "note", nil, "ts", int64(6), "price", "0.01"))
	if err != nil {
		t.Fatal(err)
	}
	v2ReadByV1 := strings.Replace(strings.Replace(evoV1, `{"name":"legacy","type":"string"}`, `{"name":"legacy","type":"string","default":"none"}`, 1), `"type":"int"`, `"type":"long"`, 1)
	dirV1c := writeSchemas(t, map[string]string{"Event": strings.Replace(v2ReadByV1, `{"name":"tags",`, `{"name":"tags","aliases":["labels"],`, 1)})
	n1c := newNotation(t, Confluent, mem, dirV1c, nil)
	s1c, err := n1c.SerdeFor("Event", "events", false)
	if err != nil {
		t.Fatal(err)
	}
	got, err = s1c.Deserialize("events", nil, data3)
	if err != nil {
		t.Fatal(err)
	}
	want = st("id", "e3", "count", int64(9), "kind", "A", "legacy", "none", "tags", []any{"z"})
	want.Schema = &types.StructSchema{Name: "evo.Event"}
	mustEqual(t, got, want)

	// An enum symbol the reader does not know, without a reader default.
	if _, err := s1c.Deserialize("events", nil, data2); err == nil || !strings.Contains(err.Error(), "field kind: enum symbol C is not in reader enum evo.Kind") {
		t.Fatalf("unknown symbol: err = %v", err)
	}
	// Both schemas were registered under the one subject, v1 first.
	if v := mem.Versions("events-value"); len(v) != 2 {
		t.Fatalf("versions = %v, want 2", v)
	}
}

func TestLoaderNamesAndReferences(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"Address":        `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}`,
		"com.acme.Order": `{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"to","type":"Address"},{"name":"from","type":["null","com.acme.Address"],"default":null}]}`,
		"Broken":         `{"type":"record","name":"Broken","fields":[{"name":"x","type":"Nowhere"}]}`,
	})
	other := t.TempDir()
	l := NewLoader(other, dir)
	// a.b.C tries a.b.C.avsc, then b.C.avsc, then C.avsc.
	for _, name := range []string{"com.acme.Address", "acme.Address", "Address"} {
		s, err := l.Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name() != "com.acme.Address" {
			t.Fatalf("%s loaded %s", name, s.Name())
		}
	}
	order, err := l.Load("com.acme.Order")
	if err != nil {
		t.Fatal(err)
	}
	// The referenced type is inlined in the text registries get.
	if !strings.Contains(order.Text, `"city"`) {
		t.Fatalf("registered text lacks the referenced record: %s", order.Text)
	}
	if _, err := ParseSchema(order.Text, "inline"); err != nil {
		t.Fatalf("inlined text does not parse on its own: %v", err)
	}
	n := newNotation(t, Confluent, schemaregistry.NewMemory(), dir, nil)
	serde, err := n.SerdeFor("com.acme.Order", "orders", false)
	if err != nil {
		t.Fatal(err)
	}
	data, err := serde.Serialize("orders", nil, st("to", st("city", "Utrecht")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := serde.Deserialize("orders", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	addr := st("city", "Utrecht")
	addr.Schema = &types.StructSchema{Name: "com.acme.Address"}
	want := st("to", addr, "from", nil)
	want.Schema = &types.StructSchema{Name: "com.acme.Order"}
	mustEqual(t, got, want)

	if _, err := l.Load("Missing"); err == nil || !strings.Contains(err.Error(), `avro schema "Missing" not found (tried `+filepath.Join(other, "Missing.avsc")) {
		t.Fatalf("missing: err = %v", err)
	}
	if _, err := l.Load("Broken"); err == nil || !strings.Contains(err.Error(), "Broken.avsc: invalid Avro schema") || !strings.Contains(err.Error(), "Nowhere") {
		t.Fatalf("broken: err = %v", err)
	}
	if _, err := n.SerdeFor("Address", "t", false); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load("../Address"); err == nil || !strings.Contains(err.Error(), "is not a valid Avro name") {
		t.Fatalf("path name: err = %v", err)
	}
}

func TestBareTypeFromRegistry(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	mem := schemaregistry.NewMemory()
	n := newNotation(t, Confluent, mem, dir, nil)
	if _, err := n.SerdeFor("", "input_topic", false); err == nil || err.Error() != `type avro has no schema name and the schema registry has no subject "input_topic-value"; declare the type as avro:<SchemaName> or register the schema` {
		t.Fatalf("bare without subject: err = %v", err)
	}
	if id, err := n.Preregister("events", false, "Event"); err != nil || id != 1 {
		t.Fatalf("preregister = %d, %v", id, err)
	}
	bare, err := n.SerdeFor("", "events", false)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Schema().Name() != "evo.Event" || bare.StructSchema().Name != "evo.Event" {
		t.Fatalf("bare schema = %s", bare.Schema().Name())
	}
	data, err := bare.Serialize("events", nil, st("id", "a", "count", int64(1), "kind", "A", "legacy", "l", "tags", []any{}))
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(data[1:5]) != 1 {
		t.Fatalf("bare serde wrote id %d, want the registered 1", binary.BigEndian.Uint32(data[1:5]))
	}
	noReg, _ := NewNotation("confluent_avro", Confluent, nil, NewLoader(dir), nil)
	if _, err := noReg.SerdeFor("", "events", false); err == nil || !strings.Contains(err.Error(), "no schema registry is configured") {
		t.Fatalf("no registry: err = %v", err)
	}
}

// The Confluent client and both Apicurio id modes against the in-process
// REST server: a real HTTP round trip per registry call.
func TestVendorsOverHTTP(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	value := st("id", "a", "count", int64(1), "kind", "B", "legacy", "l", "tags", []any{"t"})
	want := st("id", "a", "count", int64(1), "kind", "B", "legacy", "l", "tags", []any{"t"})
	want.Schema = &types.StructSchema{Name: "evo.Event"}

	ccfg, _ := schemaregistry.ConfluentConfig(map[string]any{"schema.registry.url": srv.URL})
	conf, _ := schemaregistry.NewConfluent(ccfg)
	cn := newNotation(t, Confluent, conf, dir, nil)
	cs, _ := cn.SerdeFor("Event", "events", false)
	cdata, err := cs.Serialize("events", nil, value)
	if err != nil {
		t.Fatal(err)
	}
	// Apicurio, payload mode (upstream's pinned default): auto-register off,
	// find-latest on, so it writes the content id of the latest version.
	acfg, _ := schemaregistry.ApicurioConfig(map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3"})
	ap, _ := schemaregistry.NewApicurio(acfg)
	an := newNotation(t, Apicurio, ap, dir, nil)
	as, _ := an.SerdeFor("Event", "events", false)
	adata, err := as.Serialize("events", nil, value)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(adata, cdata) {
		t.Fatalf("apicurio payload % x differs from confluent % x", adata, cdata)
	}
	for name, s := range map[string]*Serde{"confluent": cs, "apicurio": as} {
		got, err := s.Deserialize("events", nil, cdata)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		mustEqual(t, got, want)
	}
	// Apicurio headers mode with global ids: the payload is bare Avro.
	gcfg, _ := schemaregistry.ApicurioConfig(map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3", "apicurio.registry.use-id": "globalId"})
	gap, _ := schemaregistry.NewApicurio(gcfg)
	hn := newNotation(t, Apicurio, gap, dir, map[string]any{"apicurio.registry.headers.enabled": "true", "apicurio.registry.use-id": "globalId", "apicurio.registry.auto-register": true})
	hs, _ := hn.SerdeFor("Event", "other", true)
	var headers []notation.Header
	hdata, err := hs.Serialize("other", &headers, value)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hdata, cdata[5:]) {
		t.Fatalf("headers-mode payload % x, want bare body % x", hdata, cdata[5:])
	}
	gid, _ := mem.GlobalID("other-key", 1)
	if len(headers) != 1 || headers[0].Key != "apicurio.key.globalId" || binary.BigEndian.Uint64(headers[0].Value) != uint64(gid) || gid != 2 {
		t.Fatalf("headers = %+v, want apicurio.key.globalId = 2", headers)
	}
	got, err := hs.Deserialize("other", headers, hdata)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, want)
	if _, err := hs.Deserialize("other", nil, hdata); err == nil || !strings.Contains(err.Error(), "no apicurio.key.globalId header (apicurio.registry.headers.enabled is true) and its payload has no schema id frame") {
		t.Fatalf("missing header: err = %v", err)
	}
	// A record that cannot carry headers (nil) gets the id in its payload,
	// as Apicurio's serializer writes it, and reads back without headers.
	framed, err := hs.Serialize("other", nil, value)
	if err != nil {
		t.Fatal(err)
	}
	if len(framed) != 5+len(hdata) || framed[0] != 0 || binary.BigEndian.Uint32(framed[1:5]) != uint32(gid) || !bytes.Equal(framed[5:], hdata) {
		t.Fatalf("payload-framed = % x, want 00, id %d, body % x", framed, gid, hdata)
	}
	if got, err := hs.Deserialize("other", nil, framed); err != nil {
		t.Fatal(err)
	} else {
		mustEqual(t, got, want)
	}
	// Headers repeat: the last id header wins, as Apicurio reads it.
	twice := append([]notation.Header{{Key: "apicurio.key.globalId", Value: binary.BigEndian.AppendUint64(nil, 999)}}, headers...)
	if got, err := hs.Deserialize("other", twice, hdata); err != nil {
		t.Fatal(err)
	} else {
		mustEqual(t, got, want)
	}
	// Apicurio without auto-register and without a registered artifact.
	if _, err := as.Serialize("unregistered", nil, value); err == nil || !strings.Contains(err.Error(), `not registered under subject "unregistered-value"`) {
		t.Fatalf("unregistered: err = %v", err)
	}
	// Confluent with auto-registration off looks the schema up.
	ln := newNotation(t, Confluent, conf, dir, map[string]any{"auto.register.schemas": false})
	ls, _ := ln.SerdeFor("Event", "events", false)
	if d, err := ls.Serialize("events", nil, value); err != nil || !bytes.Equal(d, cdata) {
		t.Fatalf("lookup serialize = % x, %v", d, err)
	}
	if _, err := ls.Serialize("fresh", nil, value); err == nil || !strings.Contains(err.Error(), `not registered under subject "fresh-value"`) {
		t.Fatalf("lookup unregistered: err = %v", err)
	}
}

func TestNotationConfigErrors(t *testing.T) {
	cases := []struct {
		vendor Vendor
		props  map[string]any
		want   string
	}{
		{Confluent, map[string]any{"auto.register.schemas": "maybe"}, `config auto.register.schemas: "maybe" is not a boolean`},
		{Confluent, map[string]any{"value.subject.name.strategy": "x.Custom"}, "value.subject.name.strategy \"x.Custom\" is not supported"},
		{Apicurio, map[string]any{"apicurio.registry.id-handler": "io.apicurio.registry.serde.Legacy4ByteIdHandler"}, "which no longer exists"},
		{Apicurio, map[string]any{"apicurio.auth.password": "p"}, "use 'apicurio.registry.auth.password' instead"},
		{Apicurio, map[string]any{"apicurio.registry.id-handler": "com.Custom"}, "is not supported"},
	}
	for _, c := range cases {
		if _, err := NewNotation("avro", c.vendor, nil, nil, c.props); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%v %v: err = %v, want %q", c.vendor, c.props, err, c.want)
		}
	}
}

// A decimal without a valid precision is ignored, as Avro's Java parser
// ignores invalid logical types: the field is plain bytes.
func TestInvalidDecimalIsPlainBytes(t *testing.T) {
	s, err := ParseSchema(`{"type":"record","name":"D","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal"}},{"name":"e","type":{"type":"bytes","logicalType":"decimal","precision":2,"scale":5}}]}`, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Conform(st("d", []byte{1, 2}, "e", []byte{3}), s)
	if err != nil {
		t.Fatal(err)
	}
	want := st("d", []byte{1, 2}, "e", []byte{3})
	want.Schema = &types.StructSchema{Name: "D"}
	mustEqual(t, got, want)
}

// A writer schema that takes a named type from another subject (a Confluent
// schema reference) is resolved through the registry.
func TestWriterSchemaWithReferences(t *testing.T) {
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	cfg, _ := schemaregistry.ConfluentConfig(map[string]any{"schema.registry.url": srv.URL})
	conf, _ := schemaregistry.NewConfluent(cfg)
	addr := `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}`
	order := `{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"to","type":"Address"}]}`
	if _, err := conf.Register(t.Context(), "address", addr); err != nil {
		t.Fatal(err)
	}
	id, err := conf.RegisterWithReferences(t.Context(), "orders-value", order, []schemaregistry.Reference{{Name: "com.acme.Address", Subject: "address", Version: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The reader schema is self-contained, as a schema directory holds it.
	dir := writeSchemas(t, map[string]string{"Address": addr, "Order": order})
	n := newNotation(t, Confluent, conf, dir, nil)
	serde, err := n.SerdeFor("Order", "orders", false)
	if err != nil {
		t.Fatal(err)
	}
	body := appendBytes(nil, []byte("Delft"))
	data := append([]byte{0, 0, 0, 0, byte(id)}, body...)
	got, err := serde.Deserialize("orders", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	a := st("city", "Delft")
	a.Schema = &types.StructSchema{Name: "com.acme.Address"}
	want := st("to", a)
	want.Schema = &types.StructSchema{Name: "com.acme.Order"}
	mustEqual(t, got, want)
	if _, err := conf.RegisterWithReferences(t.Context(), "x-value", order, []schemaregistry.Reference{{Name: "com.acme.Address", Subject: "nope", Version: 1}}); err == nil {
		t.Fatal("registering with a missing reference succeeded")
	}
}

func TestRecursiveSchema(t *testing.T) {
	s, err := ParseSchema(`{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}`, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Conform(st("v", int64(1), "next", st("v", int64(2), "next", st("v", int64(3)))), s)
	if err != nil {
		t.Fatal(err)
	}
	node := func(v int64, next any) *types.Struct {
		n := st("v", v, "next", next)
		n.Schema = &types.StructSchema{Name: "Node"}
		return n
	}
	mustEqual(t, got, node(1, node(2, node(3, nil))))
}

// Union changes between writer and reader: promotion inside a union, a
// plain type read as a union, a union read as its non-null branch.
func TestUnionResolution(t *testing.T) {
	w, err := ParseSchema(`{"type":"record","name":"U","fields":[
	  {"name":"a","type":["null","int"]},{"name":"b","type":"string"},{"name":"c","type":["null","string"]},
	  {"name":"d","type":["null",{"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}]}]}`, "w")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseSchema(`{"type":"record","name":"U","fields":[
	  {"name":"a","type":["null","long"]},{"name":"b","type":["null","string"]},{"name":"c","type":"string"},
	  {"name":"d","type":["null",{"type":"record","name":"In","fields":[{"name":"x","type":"double"},{"name":"y","type":"string","default":"new"}]}]}]}`, "r")
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(nil, w.Avro, st("a", int64(5), "b", "s", "c", "t", "d", st("x", int64(2))))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := compileDecoder(w.Avro, r.Avro)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fn(&reader{b: data})
	if err != nil {
		t.Fatal(err)
	}
	in := st("x", 2.0, "y", "new")
	in.Schema = &types.StructSchema{Name: "In"}
	want := st("a", int64(5), "b", "s", "c", "t", "d", in)
	want.Schema = &types.StructSchema{Name: "U"}
	mustEqual(t, got, want)
	// A null in the writer's union has no branch in the reader's string.
	data, _ = Encode(nil, w.Avro, st("a", nil, "b", "s", "c", nil, "d", nil))
	if _, err := fn(&reader{b: data}); err == nil || !strings.Contains(err.Error(), "field c: reader type string cannot read writer type null") {
		t.Fatalf("null into string: err = %v", err)
	}
}

// Serdes are shared by tasks: first use from many goroutines at once fills
// the caches without races (run with -race) and gives the same bytes.
func TestConcurrentFirstUse(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	cfg, _ := schemaregistry.ConfluentConfig(map[string]any{"schema.registry.url": srv.URL})
	conf, _ := schemaregistry.NewConfluent(cfg)
	serde, err := newNotation(t, Confluent, conf, dir, nil).SerdeFor("Event", "events", false)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan []byte, 8)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			data, err := serde.Serialize("events", nil, st("id", "x", "count", int64(i%2), "kind", "A", "legacy", "", "tags", []any{}))
			if err == nil {
				_, err = serde.Deserialize("events", nil, data)
			}
			errs <- err
			results <- data
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		seen[string(<-results)] = true
	}
	if len(seen) != 2 {
		t.Fatalf("distinct encodings = %d, want 2", len(seen))
	}
	if v := mem.Versions("events-value"); len(v) != 1 {
		t.Fatalf("versions = %v", v)
	}
}
