package definition_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/definition"
)

// miniValidator checks a document against the subset of JSON schema that
// JSONSchema emits ($ref, anyOf, type, enum, properties, required,
// additionalProperties, items, pattern, minimum).
type miniValidator struct{ defs map[string]any }

func (v *miniValidator) validate(s map[string]any, doc any, path string) error {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, ok := v.defs[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: dangling $ref %s", path, ref)
		}
		return v.validate(def, doc, path)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			err := v.validate(a.(map[string]any), doc, path)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		sort.Slice(errs, func(i, j int) bool { return len(errs[i]) > len(errs[j]) })
		return fmt.Errorf("%s: no alternative matches (deepest: %s)", path, errs[0])
	}
	if enum, ok := s["enum"].([]any); ok {
		for _, e := range enum {
			if e == doc {
				return nil
			}
		}
		return fmt.Errorf("%s: %v not in %v", path, doc, enum)
	}
	if t, ok := s["type"]; ok && !typeMatches(t, doc) {
		return fmt.Errorf("%s: %T does not match type %v", path, doc, t)
	}
	if pat, ok := s["pattern"].(string); ok {
		if str, isStr := doc.(string); isStr && !regexp.MustCompile(pat).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", path, str, pat)
		}
	}
	switch d := doc.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := d[r]; !ok {
				return fmt.Errorf("%s: missing %q", path, r)
			}
		}
		for k, val := range d {
			if ps, ok := props[k].(map[string]any); ok {
				if err := v.validate(ps, val, path+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: unexpected key %q", path, k)
				}
			case map[string]any:
				if err := v.validate(ap, val, path+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range d {
				if err := v.validate(items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asStrings(x any) []string {
	var out []string
	if xs, ok := x.([]any); ok {
		for _, e := range xs {
			out = append(out, e.(string))
		}
	}
	return out
}

func typeMatches(t any, doc any) bool {
	if ts, ok := t.([]any); ok {
		for _, x := range ts {
			if typeMatches(x, doc) {
				return true
			}
		}
		return false
	}
	switch t {
	case "object":
		_, ok := doc.(map[string]any)
		return ok
	case "array":
		_, ok := doc.([]any)
		return ok
	case "string":
		_, ok := doc.(string)
		return ok
	case "boolean":
		_, ok := doc.(bool)
		return ok
	case "integer":
		switch n := doc.(type) {
		case int:
			return true
		case float64:
			return n == float64(int64(n))
		}
		return false
	case "number":
		switch doc.(type) {
		case int, float64:
			return true
		}
		return false
	}
	return false
}

func loadSchema(t *testing.T) (*miniValidator, map[string]any) {
	t.Helper()
	b, err := definition.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return &miniValidator{defs: root["$defs"].(map[string]any)}, root
}

// yamlDoc reads YAML into JSON-like values (map[string]any, []any, ...).
func yamlDoc(t *testing.T, path string) any {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func TestJSONSchemaCoversOperations(t *testing.T) {
	_, root := loadSchema(t)
	b, _ := json.Marshal(root)
	for _, kw := range definition.OpKeywords() {
		if !strings.Contains(string(b), `"`+kw+`"`) {
			t.Errorf("schema lacks operation keyword %q", kw)
		}
	}
}

// TestJSONSchemaAcceptsValidDefinitions validates every definition the
// parser accepts against the generated schema, and checks that a typo the
// parser rejects is rejected by the schema too.
func TestJSONSchemaAcceptsValidDefinitions(t *testing.T) {
	v, root := loadSchema(t)
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	seed, _ := filepath.Glob("../../../shared/acceptance/seed/definitions/*.yaml")
	files = append(files, seed...)
	corpus := filepath.Join(sharedDir, "ksml-corpus")
	if _, err := os.Stat(corpus); err == nil {
		for _, rel := range corpusDefinitions(t, corpus) {
			if _, broken := knownBroken[rel]; !broken {
				files = append(files, filepath.Join(corpus, rel))
			}
		}
	}
	for _, f := range files {
		if err := v.validate(root, yamlDoc(t, f), "$"); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := v.validate(root, yamlDoc(t, "testdata/invalid/unknown-key.yaml"), "$"); err == nil {
		t.Error("schema accepts testdata/invalid/unknown-key.yaml")
	}
}
