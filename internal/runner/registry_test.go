package runner

import (
	"context"
	"path/filepath"
	"testing"
)

// The embedded registry's file replays to the same schema ids, so records
// the embedded broker kept on disk still decode after a restart.
func TestEmbeddedRegistryReplaysToTheSameIDs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "schema-registry.jsonl")
	ctx := context.Background()
	s1 := `{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}`
	s2 := `{"type":"record","name":"B","fields":[{"name":"y","type":"string"}]}`
	first, err := openEmbeddedRegistry(file)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range []struct{ subject, schema string }{{"a-value", s1}, {"b-value", s2}, {"c-value", s1}} {
		id, err := first.Register(ctx, r.subject, r.schema)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	again, err := openEmbeddedRegistry(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, subject := range []string{"a-value", "b-value", "c-value"} {
		latest, err := again.Latest(ctx, subject)
		if err != nil || latest.ID != ids[i] {
			t.Errorf("%s: id %d (%v), want %d", subject, latest.ID, err, ids[i])
		}
	}
	if text, err := again.SchemaByID(ctx, ids[1]); err != nil || text != s2 {
		t.Errorf("schema %d = %q (%v)", ids[1], text, err)
	}
}
