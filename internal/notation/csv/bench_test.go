package csv

import (
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func BenchmarkRoundTrip(b *testing.B) {
	s, err := New("testdata").Serde(types.StructType{Notation: "csv", SchemaName: "SensorData"}, false)
	if err != nil {
		b.Fatal(err)
	}
	in := []byte(`"sensor001","1234567890","23.5","temperature","celsius","red","Amsterdam","alice"`)
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
