package avro

import (
	"testing"

	hamba "github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

const benchSchema = `{"type":"record","name":"SensorData","namespace":"io.axual.ksml.example","fields":[
  {"name":"name","type":"string"},{"name":"timestamp","type":"long"},{"name":"value","type":"string"},
  {"name":"type","type":{"type":"enum","name":"SensorType","symbols":["AREA","HUMIDITY","LENGTH","STATE","TEMPERATURE"]}},
  {"name":"unit","type":"string"},{"name":"color","type":["null","string"],"default":null},
  {"name":"city","type":["null","string"],"default":null},{"name":"owner","type":["null","string"],"default":null}]}`

func benchSerde(b *testing.B) (*Serde, []byte) {
	b.Helper()
	s, err := ParseSchema(benchSchema, "bench")
	if err != nil {
		b.Fatal(err)
	}
	n, _ := NewNotation("avro", Confluent, schemaregistry.NewMemory(), NewLoader(b.TempDir()), nil)
	serde := n.SerdeWithSchema(s, false)
	data, err := serde.Serialize("bench", nil, benchValue())
	if err != nil {
		b.Fatal(err)
	}
	return serde, data
}

func benchValue() any {
	return st("name", "sensor-1", "timestamp", int64(1700000000000), "value", "25.0", "type", "TEMPERATURE",
		"unit", "celsius", "color", "blue", "city", "Utrecht", "owner", nil)
}

func BenchmarkSerializeSensorData(b *testing.B) {
	serde, _ := benchSerde(b)
	v := benchValue()
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = serde.AppendSerialize(buf[:0], "bench", nil, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeserializeSensorData(b *testing.B) {
	serde, data := benchSerde(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := serde.Deserialize("bench", nil, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHambaUnmarshalSensorData is the reference: hamba/avro's generic
// decoding of the same bytes into map[string]any.
func BenchmarkHambaUnmarshalSensorData(b *testing.B) {
	serde, data := benchSerde(b)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := hamba.Unmarshal(serde.Schema().Avro, data[5:], &m); err != nil {
			b.Fatal(err)
		}
	}
}
