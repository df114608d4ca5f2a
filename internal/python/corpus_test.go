package python

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

const corpusDir = "../../../shared/ksml-corpus"

// corpusCode collects every globalCode, code and expression block of the
// upstream corpus, with the file and the YAML line its text starts on.
func corpusCode(t *testing.T) (blocks []seedBlock, files []string) {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		sharedtest.Missing(t, corpusDir)
	}
	err := filepath.Walk(corpusDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil {
			return nil // not every corpus file is valid YAML on purpose
		}
		var found []seedBlock
		collectCode(&doc, &found)
		for range found {
			files = append(files, path)
		}
		blocks = append(blocks, found...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return blocks, files
}

func collectCode(n *yaml.Node, out *[]seedBlock) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if (k.Value == "code" || k.Value == "expression" || k.Value == "globalCode") && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				line := v.Line
				if v.Style == yaml.LiteralStyle || v.Style == yaml.FoldedStyle {
					line++
				}
				*out = append(*out, seedBlock{Key: k.Value, Text: v.Value, Line: line})
			}
		}
	}
	for _, c := range n.Content {
		collectCode(c, out)
	}
}

// TestCorpusCodeCompiles checks that every Python block of the upstream
// corpus compiles as the kind of block it is.
func TestCorpusCodeCompiles(t *testing.T) {
	blocks, files := corpusCode(t)
	if len(blocks) < 500 {
		t.Fatalf("found only %d code blocks in the corpus", len(blocks))
	}
	kinds := map[string]CodeKind{"globalCode": GlobalCode, "code": FunctionBody, "expression": Expression}
	failed := 0
	for i, b := range blocks {
		if se := CheckSyntax(b.Text, kinds[b.Key]); se != nil {
			failed++
			t.Errorf("%s:%d: %s: %v", files[i], b.Line+se.Line-1, b.Key, se)
		}
	}
	t.Logf("%d blocks, %d failed", len(blocks), failed)
}
