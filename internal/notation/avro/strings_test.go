package avro

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// Numbers and booleans given as text are parsed on the write path, as
// upstream converts them (its producers emit "timestamp": str(millis) into
// avro:SensorData, whose timestamp is a long); other text still fails.
func TestEncodeParsesNumericAndBooleanStrings(t *testing.T) {
	s := avro.MustParse(`{"type":"record","name":"R","fields":[
		{"name":"l","type":"long"},{"name":"i","type":"int"},{"name":"d","type":"double"},{"name":"b","type":"boolean"}]}`)
	rec := func(l, i, d, b any) *types.Struct {
		r := types.NewStruct(4)
		r.Set("l", l)
		r.Set("i", i)
		r.Set("d", d)
		r.Set("b", b)
		return r
	}
	got, err := Encode(nil, s, rec("1700000000000", "+42", " 2.5", "TRUE"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Encode(nil, s, rec(int64(1700000000000), int64(42), 2.5, true))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got %x, want %x", got, want)
	}
	for _, bad := range []*types.Struct{
		rec("17x", int64(1), 1.0, true),
		rec(int64(1), "99999999999", 1.0, true),
		rec(int64(1), int64(1), "two", true),
		rec(int64(1), int64(1), 1.0, "yes"),
	} {
		if _, err := Encode(nil, s, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// convertValue from a string to avro:Name parses the string as JSON, as
// upstream converts text to a struct type; text that is no JSON object fails.
func TestConvertValueParsesJSONText(t *testing.T) {
	dir := t.TempDir()
	schema := `{"type":"record","name":"R","fields":[{"name":"n","type":"long"},{"name":"s","type":["null","string"],"default":null}]}`
	if err := os.WriteFile(filepath.Join(dir, "R.avsc"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := NewNotation("avro", Confluent, schemaregistry.NewMemory(), NewLoader(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	to := types.StructType{Notation: "avro", SchemaName: "R"}
	out, ok, err := n.ConvertValue(`{"n": "7"}`, to)
	if err != nil || !ok {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	if got := types.Format(out); got != `{"n": 7, "s": null}` {
		t.Errorf("got %s", got)
	}
	if _, _, err := n.ConvertValue(`[1, 2]`, to); err == nil {
		t.Error("a JSON list converted to a record")
	}
	if _, _, err := n.ConvertValue(`not json`, to); err == nil {
		t.Error("text that is no JSON converted to a record")
	}
}
