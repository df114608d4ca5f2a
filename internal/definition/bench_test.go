package definition_test

import (
	"os"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
)

// BenchmarkParse measures parsing, resolution and validation of a
// definition that uses every section (without Python checks).
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := definition.Parse("full.yaml", src, definition.Options{SchemaDirs: []string{"testdata"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseWithPython adds CPython syntax checks of every code block.
func BenchmarkParseWithPython(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	opts := definition.Options{SchemaDirs: []string{"testdata"}, Code: pythonChecker()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := definition.Parse("full.yaml", src, opts); err != nil {
			b.Fatal(err)
		}
	}
}
