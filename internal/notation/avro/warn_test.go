package avro

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// A logical value that is invalid on read is returned with a warning, as
// upstream does; the same value is refused on write.
func TestInvalidLogicalValueOnReadWarns(t *testing.T) {
	var logs bytes.Buffer

	text := `{"type":"record","name":"L","fields":[{"name":"id","type":{"type":"string","logicalType":"uuid"}},{"name":"t","type":{"type":"int","logicalType":"time-millis"}}]}`
	mem := schemaregistry.NewMemory()
	id, _ := mem.Register(t.Context(), "l-value", text)
	s, err := ParseSchema(text, "test")
	if err != nil {
		t.Fatal(err)
	}
	n := newNotation(t, Confluent, mem, t.TempDir(), nil)
	n.log = slog.New(slog.NewTextHandler(&logs, nil))
	serde := n.SerdeWithSchema(s, false)
	body := appendBytes(nil, []byte("nope"))
	body = appendLong(body, 90_000_000)
	data := append([]byte{0, 0, 0, 0, byte(id)}, body...)
	v, err := serde.Deserialize("l", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := st("id", "nope", "t", int64(90_000_000))
	want.Schema = serde.StructSchema()
	mustEqual(t, v, want)
	for _, frag := range []string{`logicalType=uuid error="value \"nope\" is not a valid uuid"`, `logicalType=time-millis error="value 90000000 is out of range for time-millis [0, 86399999]"`} {
		if !strings.Contains(logs.String(), frag) {
			t.Fatalf("log lacks %s:\n%s", frag, logs.String())
		}
	}
	if _, err := serde.Serialize("l", nil, v); err == nil || !strings.Contains(err.Error(), `field id: value "nope" is not a valid uuid`) {
		t.Fatalf("write err = %v", err)
	}
}
