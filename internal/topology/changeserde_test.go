package topology

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

// Table updates on a repartition topic use Kafka Streams' ChangedSerializer
// layout (the oracle compares the bytes; these are the cases by hand).
func TestChangeSerdeLayout(t *testing.T) {
	h := yamlHarness(t, "streams: {}\n")
	s := changeSerde{h.serde("string", false)}
	for _, c := range []struct {
		ch  tableChange
		hex string
	}{
		{tableChange{newValue: "a5"}, "613501"},
		{tableChange{oldValue: "a5"}, "613500"},
		{tableChange{newValue: "new", oldValue: "old"}, "066e65776f6c6402"}, // zigzag varint 3, "new", "old", 2
		{tableChange{newValue: "", oldValue: "x"}, "007802"},
	} {
		b, err := s.Serialize("t", nil, c.ch)
		if err != nil || hex.EncodeToString(b) != c.hex {
			t.Errorf("Serialize(%+v) = %x, %v; want %s", c.ch, b, err, c.hex)
			continue
		}
		back, err := s.Deserialize("t", nil, b)
		if err != nil || !reflect.DeepEqual(back, c.ch) {
			t.Errorf("Deserialize(%s) = %+v, %v; want %+v", c.hex, back, err, c.ch)
		}
	}
	for _, bad := range []string{"", "6103", "0a6102", "ff02"} {
		b, _ := hex.DecodeString(bad)
		if v, err := s.Deserialize("t", nil, b); err == nil {
			t.Errorf("Deserialize(%q) = %+v, want an error", bad, v)
		}
	}
	if _, err := s.Serialize("t", nil, tableChange{}); err == nil {
		t.Error("Serialize(an empty change) succeeded")
	}
	if _, err := s.Serialize("t", nil, types.Null); err == nil {
		t.Error("Serialize(a value that is not a table change) succeeded")
	}
}
