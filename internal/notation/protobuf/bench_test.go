package protobuf

import (
	"encoding/hex"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func BenchmarkRoundTrip(b *testing.B) {
	s, err := New("protobuf", NewLoader("testdata"), nil).Serde(types.StructType{Notation: "protobuf", SchemaName: "sensor_data"}, false)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := hex.DecodeString("0a0273311080d095ffbc311a0432332e3520052a01433a0755747265636874")
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
