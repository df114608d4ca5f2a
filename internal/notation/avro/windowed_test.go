package avro

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// windowed(K) in Avro is upstream's generated Windowed<K> record; for a
// string key it has the layout of upstream's examples/WindowedString.avsc.
func TestWindowedKeySchemaAndRoundTrip(t *testing.T) {
	dir := t.TempDir()
	key := `{"type":"record","name":"SensorKey","namespace":"io.axual.ksml.example","fields":[{"name":"city","type":"string"}]}`
	if err := os.WriteFile(filepath.Join(dir, "SensorKey.avsc"), []byte(key), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := NewNotation("avro", Confluent, schemaregistry.NewMemory(), NewLoader(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.windowedSchema(types.WindowedType{Key: types.String})
	if err != nil {
		t.Fatal(err)
	}
	rs := s.Avro.(*avro.RecordSchema)
	if rs.FullName() != "io.axual.ksml.data.WindowedString" {
		t.Errorf("name %s", rs.FullName())
	}
	var got []string
	for _, f := range rs.Fields() {
		got = append(got, f.Name()+":"+string(f.Type().Type()))
	}
	want := []string{"start:long", "end:long", "startTime:string", "endTime:string", "key:string"}
	if len(got) != len(want) {
		t.Fatalf("fields %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fields %v, want %v", got, want)
			break
		}
	}
	rec, err := n.windowedSchema(types.WindowedType{Key: types.StructType{Notation: "avro", SchemaName: "SensorKey"}})
	if err != nil {
		t.Fatal(err)
	}
	if name := rec.Avro.(*avro.RecordSchema).FullName(); name != "io.axual.ksml.data.WindowedSensorKey" {
		t.Errorf("name %s", name)
	}
	if _, err := n.windowedSchema(types.WindowedType{Key: types.ListType{Elem: types.String}}); err == nil {
		t.Error("a list key has no schema, want an error")
	}

	serde, err := n.Serde(types.WindowedType{Key: types.String}, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := serde.Serialize("t", nil, types.Windowed{Key: "k", Start: 0, End: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	v, err := serde.Deserialize("t", nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := types.Format(v); got != `{"end": 20000, "endTime": "1970-01-01T00:00:20Z", "key": "k", "start": 0, "startTime": "1970-01-01T00:00:00Z"}` {
		t.Errorf("round trip: %s", got)
	}
}
