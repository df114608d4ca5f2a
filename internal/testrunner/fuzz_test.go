package testrunner

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSuite checks that no suite file, however malformed, panics the
// parser: it either parses or returns a *DefinitionError.
func FuzzParseSuite(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusSuites, "*.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("tests: {a: {produce: [{to: x, generator: {code: 1}}], assert: [{on: x, code: y}]}}\nstreams: {x: {topic: t}}\ndefinition: d"))
	f.Add([]byte("- a\n- b"))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuiteBytes("fuzz.yaml", data)
		if err != nil {
			if _, ok := err.(*DefinitionError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if s.Definition == "" || len(s.Tests) == 0 || len(s.Streams) == 0 {
			t.Fatalf("parsed an incomplete suite: %+v", s)
		}
	})
}
