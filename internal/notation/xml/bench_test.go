package xml

import (
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func BenchmarkRoundTrip(b *testing.B) {
	s, err := New("testdata").Serde(types.StructType{Notation: "xml", SchemaName: "SensorData"}, false)
	if err != nil {
		b.Fatal(err)
	}
	in := []byte(sensorXML)
	b.ReportAllocs()
	for b.Loop() {
		v, err := s.Deserialize("t", nil, in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Serialize("t", nil, v); err != nil {
			b.Fatal(err)
		}
	}
}
