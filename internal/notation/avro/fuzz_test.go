package avro

import (
	"errors"
	"testing"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// FuzzConfluentAvroDeserialize feeds arbitrary payloads to a Confluent Avro
// serde whose registry knows the schema of every type in allTypesSchema. The
// decoder must return a value or a *SerdeError, never panic. A value read
// with the Event schema (no logical types) must serialize again; one read with
// All may not, as upstream warns on a logical-type value that is invalid on
// read and fails on write.
func FuzzConfluentAvroDeserialize(f *testing.F) {
	dir := writeSchemas(f, map[string]string{"All": allTypesSchema, "Event": evoV1})
	mem := schemaregistry.NewMemory()
	n, err := NewNotation("confluent_avro", Confluent, mem, NewLoader(dir), nil)
	if err != nil {
		f.Fatal(err)
	}
	all, err := n.SerdeFor("All", "fuzz", false)
	if err != nil {
		f.Fatal(err)
	}
	good, err := all.Serialize("fuzz", nil, allTypesValue())
	if err != nil {
		f.Fatal(err)
	}
	event, _ := n.SerdeFor("Event", "fuzz", false)
	ev, err := event.Serialize("fuzz", nil, st("id", "a", "count", int64(1), "kind", "B", "legacy", "l", "tags", []any{"t", "u"}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(ev)
	f.Add(good[:7])
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, s := range []*Serde{all, event} {
			v, err := s.Deserialize("fuzz", nil, data)
			if err != nil {
				var se *SerdeError
				if !errors.As(err, &se) {
					t.Fatalf("error is not a *SerdeError: %v", err)
				}
				continue
			}
			if v == nil {
				t.Fatalf("nil value without error for %d bytes", len(data))
			}
			if _, err := s.Serialize("fuzz", nil, v); err != nil && i == 1 {
				t.Fatalf("decoded value does not serialize again: %v", err)
			}
		}
	})
}
