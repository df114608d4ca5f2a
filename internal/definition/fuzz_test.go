package definition_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and a
// result without error must carry a dialect and no diagnostics.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	more, _ := filepath.Glob("../../../shared/acceptance/seed/definitions/*.yaml")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("pipelines: [{name: x, inputs: [{topic: a}], operations: [{type: branch}], outputs: [{name: y, topic: b}]}]"))
	f.Add([]byte("a: &a {b: *a}\n<<: *a"))
	f.Add([]byte("functions: {f: {type: predicate, code: 1, stores: [x]}}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		def, err := definition.Parse("fuzz.yaml", src, definition.Options{SchemaDirs: []string{"testdata"}})
		if err == nil && def == nil {
			t.Fatal("nil definition without error")
		}
		if ds, ok := err.(definition.Diagnostics); ok {
			for _, d := range ds {
				if d.Msg == "" {
					t.Fatal("empty diagnostic")
				}
			}
		}
	})
}

// TestJoinVariantsDoNotPanic covers every join keyword with every target,
// including combinations the join type does not allow.
func TestJoinVariantsDoNotPanic(t *testing.T) {
	for _, kw := range []string{"join", "leftJoin", "outerJoin"} {
		for _, target := range []string{"stream: s", "table: t", "globalTable: g"} {
			src := []byte(`
streams:
  s: {topic: s, keyType: string, valueType: json}
tables:
  t: {topic: t, keyType: string, valueType: json}
globalTables:
  g: {topic: g, keyType: string, valueType: json}
pipelines:
  p:
    from: s
    via:
      - type: ` + kw + `
        ` + target + `
        valueJoiner: {expression: value1, resultType: json}
        mapper: {expression: key, resultType: string}
        foreignKeyExtractor: {expression: value, resultType: string}
        timeDifference: 1m
    to: s
`)
			_, err := definition.Parse("join.yaml", src, definition.Options{})
			if err == nil {
				t.Errorf("%s with %s: no diagnostics for the mixed-up fields", kw, target)
			}
		}
	}
}

// FuzzParseWithPython also compiles every code block with CPython, so the
// mapping of Python error positions back to YAML is exercised.
func FuzzParseWithPython(f *testing.F) {
	f.Add([]byte("functions:\n  f:\n    type: predicate\n    code: |\n      if x\n        return 1\n"))
	f.Add([]byte("functions: {f: {type: generic, globalCode: \"def g(:\\n  pass\", expression: \"(1,\"}}"))
	checker := pythonChecker()
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := definition.Parse("fuzz.yaml", src, definition.Options{Code: checker})
		if ds, ok := err.(definition.Diagnostics); ok {
			for _, d := range ds {
				if d.Pos.Line < 0 || d.Pos.Col < 0 {
					t.Fatalf("bad position %v", d.Pos)
				}
			}
		}
	})
}
