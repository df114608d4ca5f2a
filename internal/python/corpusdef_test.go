package python

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

func scalarSource(n *yaml.Node, file string) Source {
	if n == nil || n.Kind != yaml.ScalarNode {
		return Source{}
	}
	line := n.Line
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		line++
	}
	return Source{Text: n.Value, File: file, Line: line}
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// TestCorpusFunctionsDefine defines every named function of the upstream
// corpus (running its globalCode) in one module per definition file.
func TestCorpusFunctionsDefine(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		sharedtest.Missing(t, corpusDir)
	}
	env := setup(t, Options{Context: Context{AllowHostFileAccess: true}})
	total, failed := 0, 0
	filepath.Walk(corpusDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, _ := os.ReadFile(path)
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
			return nil
		}
		fns := mapGet(doc.Content[0], "functions")
		if fns == nil || fns.Kind != yaml.MappingNode {
			return nil
		}
		m, err := env.in.NewModule("corpus", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(fns.Content); i += 2 {
			name, body := fns.Content[i].Value, fns.Content[i+1]
			spec := FunctionSpec{Name: name, GlobalCode: scalarSource(mapGet(body, "globalCode"), path),
				Code: scalarSource(mapGet(body, "code"), path), Expression: scalarSource(mapGet(body, "expression"), path)}
			if tn := mapGet(body, "type"); tn != nil {
				spec.Type = tn.Value
			}
			if rt := mapGet(body, "resultType"); rt != nil && rt.Kind == yaml.ScalarNode {
				spec.ResultType = rt.Value
			}
			if ps := mapGet(body, "parameters"); ps != nil {
				for _, p := range ps.Content {
					prm := Parameter{}
					if n := mapGet(p, "name"); n != nil {
						prm.Name = n.Value
					}
					if n := mapGet(p, "type"); n != nil {
						prm.Type = n.Value
					}
					if n := mapGet(p, "defaultValue"); n != nil {
						prm.Default = n.Value
					}
					spec.Parameters = append(spec.Parameters, prm)
				}
			}
			if ss := mapGet(body, "stores"); ss != nil {
				for _, s := range ss.Content {
					if s.Kind == yaml.ScalarNode {
						spec.Stores = append(spec.Stores, s.Value)
					}
				}
			}
			total++
			if _, err := m.Define(spec); err != nil {
				// Modules of moduleDirectory are not part of the corpus.
				var fe *FunctionError
				if errors.As(err, &fe) && fe.Type == "ModuleNotFoundError" {
					continue
				}
				failed++
				rel, _ := filepath.Rel(corpusDir, path)
				t.Errorf("%s: %s: %v", rel, name, err)
			}
		}
		return nil
	})
	if total < 300 {
		t.Errorf("found only %d functions in the corpus", total)
	}
	t.Logf("%d functions, %d failed", total, failed)
}

// TestCorpusVulnerabilitiesFail runs upstream's sandbox-escape attempts
// (VulnerabilitiesTest): each must end in a Python error, never a process.
func TestCorpusVulnerabilitiesFail(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "ksml/src/test/resources/pipelines/vulnerable-*.yaml"))
	if len(files) == 0 {
		sharedtest.Missing(t, filepath.Join(corpusDir, "ksml/src/test/resources/pipelines"))
	}
	env := setup(t, Options{})
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		m, err := env.in.NewModule("vuln", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		fns := mapGet(doc.Content[0], "functions")
		for i := 0; i+1 < len(fns.Content); i += 2 {
			body := fns.Content[i+1]
			spec := FunctionSpec{Name: fns.Content[i].Value, Type: mapGet(body, "type").Value, Code: scalarSource(mapGet(body, "code"), path)}
			ctx := &CallContext{Stores: map[string]Store{}}
			if ss := mapGet(body, "stores"); ss != nil {
				for _, s := range ss.Content {
					spec.Stores = append(spec.Stores, s.Value)
					ctx.Stores[s.Value] = newMemKV(s.Value)
				}
			}
			f := define(t, m, spec)
			_, err := f.Call(ctx, "k", structOf("v", int64(1)))
			var fe *FunctionError
			if !errors.As(err, &fe) || (fe.Type != "AttributeError" && fe.Type != "NameError") {
				t.Errorf("%s: %s: got %v, want an AttributeError or NameError", filepath.Base(path), spec.Name, err)
			}
		}
	}
}
