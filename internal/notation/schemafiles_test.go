package notation

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSchemaFilesFind(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	write := func(dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(second, "a.b.C.csv")
	write(first, "C.csv")
	if err := os.Mkdir(filepath.Join(first, "D.csv"), 0o755); err != nil { // a directory is not a schema
		t.Fatal(err)
	}
	f := NewSchemaFiles("csv", ".csv", []string{first, second})

	// The full name in any directory comes before a shorter candidate.
	got, err := f.Find("a.b.C")
	if err != nil || got != (SchemaFile{Path: filepath.Join(second, "a.b.C.csv"), Dir: second, Base: "a.b.C.csv"}) {
		t.Errorf("a.b.C: %+v, %v", got, err)
	}
	got, err = f.Find("x.C")
	if err != nil || got != (SchemaFile{Path: filepath.Join(first, "C.csv"), Dir: first, Base: "C.csv"}) {
		t.Errorf("x.C: %+v, %v", got, err)
	}
	_, err = f.Find("D")
	want := `csv schema "D" not found (tried ` + filepath.Join(first, "D.csv") + ", " + filepath.Join(second, "D.csv") + ")"
	if err == nil || err.Error() != want {
		t.Errorf("D: %v\nwant %s", err, want)
	}
	if _, err = f.Find("../etc/passwd"); err == nil || err.Error() != `csv schema name "../etc/passwd" is not valid (letters, digits, _, - and dots)` {
		t.Errorf("escaping name: %v", err)
	}
	if d := NewSchemaFiles("csv", ".csv", nil).Dirs(); len(d) != 1 || d[0] != "." {
		t.Errorf("default dirs %v", d)
	}
}

func TestSchemaCacheLoadsOnceAndKeepsNoFailure(t *testing.T) {
	var c SchemaCache[int]
	loads := 0
	fail := errors.New("bad schema")
	if _, err := c.Get("s", func() (int, error) { loads++; return 0, fail }); err != fail {
		t.Fatalf("failed load: %v", err)
	}
	for range 2 {
		v, err := c.Get("s", func() (int, error) { loads++; return 7, nil })
		if err != nil || v != 7 {
			t.Fatalf("load: %d, %v", v, err)
		}
	}
	if loads != 2 {
		t.Errorf("loads = %d, want 2 (the failure, then one success cached)", loads)
	}
}
