package yamlspec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseSyntaxErrorPositions(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"tab indentation", "a:\n\tb: 1\n",
			"f.yaml:2:1: YAML syntax error: found character that cannot start any token (YAML does not allow tabs for indentation)"},
		{"unquoted colon in a value", "a:\n  code: return {\"x\": 1}\n",
			`f.yaml:2:20: YAML syntax error: mapping values are not allowed in this context (a value that contains ": " must be quoted, or written as a block: key: |)`},
		{"misindented line", "a:\n    b: 1\n  c: 2\n",
			"f.yaml:3:3: YAML syntax error: did not find expected key (this line's indentation matches no enclosing block)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, d := Parse("f.yaml", []byte(c.src))
			if root != nil || d == nil {
				t.Fatalf("Parse = %v, %v; want a syntax error", root, d)
			}
			if d.Error() != c.want {
				t.Errorf("got  %s\nwant %s", d.Error(), c.want)
			}
		})
	}
	if root, d := Parse("f.yaml", []byte("# only a comment\n")); root != nil || d != nil {
		t.Errorf("empty document: %v, %v", root, d)
	}
}

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	root, d := Parse("f.yaml", []byte(src))
	if d != nil {
		t.Fatal(d)
	}
	return root
}

func TestPairsExpandMergeKeys(t *testing.T) {
	root := parse(t, "base: &b {x: 1, y: 2}\nother: &o {z: 3}\nm:\n  <<: [*b, *o]\n  y: 20\n")
	var m *yaml.Node
	for _, p := range Pairs(root) {
		if p.Key.Value == "m" {
			m = p.Value
		}
	}
	var got []string
	for _, p := range Pairs(m) {
		got = append(got, p.Key.Value+"="+Deref(p.Value).Value)
	}
	if want := []string{"y=20", "x=1", "z=3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pairs = %v, want %v", got, want)
	}
	if Pairs(parse(t, "- a\n")) != nil {
		t.Error("a list has no pairs")
	}
}

func TestCheckDuplicates(t *testing.T) {
	root := parse(t, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\nl:\n  - {d: 1, d: 2}\n")
	var c Collector
	CheckDuplicates(&c, "f.yaml", root)
	c.List.Sort()
	want := `f.yaml:4:3: duplicate key "c" (first defined at line 3)
f.yaml:5:1: duplicate key "a" (first defined at line 1)
f.yaml:7:12: duplicate key "d" (first defined at line 7)`
	if c.List.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", c.List.Error(), want)
	}
}

func TestCollectorKeepsEachProblemOnce(t *testing.T) {
	var c Collector
	p := Pos{File: "f.yaml", Line: 2, Col: 3}
	c.Add(p, "bad %s", "x")
	c.Add(p, "bad %s", "x")
	c.Add(Pos{File: "f.yaml"}, "no line")
	c.Add(Pos{}, "no file")
	if got, want := c.List.Error(), "f.yaml:2:3: bad x\nf.yaml: no line\nno file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDescribeAndKindName(t *testing.T) {
	root := parse(t, "m: {a: 1}\nl: [1]\ns: text\nn: null\n")
	want := map[string][2]string{
		"m": {"a mapping", "a mapping"}, "l": {"a list", "a list"},
		"s": {"a scalar", `"text"`}, "n": {"null", "nothing"},
	}
	for _, p := range Pairs(root) {
		if got := [2]string{KindName(p.Value), Describe(p.Value)}; got != want[p.Key.Value] {
			t.Errorf("%s: %v, want %v", p.Key.Value, got, want[p.Key.Value])
		}
	}
	if KindName(nil) != "nothing" {
		t.Errorf("KindName(nil) = %q", KindName(nil))
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"enabled", "schemaRegistry", "port"}
	for in, want := range map[string]string{
		"enabeld": "enabled", "ENABLED": "enabled", "schemaRegistr": "schemaRegistry",
		"prot": "port", "somethingElse": "",
	} {
		if got := Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
	if d := EditDistance("via", "vai"); d != 1 {
		t.Errorf("EditDistance(via, vai) = %d, want 1", d)
	}
	if d := EditDistance(strings.Repeat("a", 65), strings.Repeat("a", 64)+"b"); d != 1<<20 {
		t.Errorf("long strings: %d", d)
	}
}

func TestJSONSchemaFromSpec(t *testing.T) {
	inner := &Spec{Name: "Inner", Fields: []Field{{Name: "port", Kind: Port}}}
	root := &Spec{Name: "Root", Doc: "the root", Fields: []Field{
		{Name: "inner", Kind: Object, Object: inner, Required: true, Doc: "an object"},
		{Name: "mode", Kind: Enum, Enum: []string{"a", "b"}},
		{Name: "props", Kind: Map, Elem: &Field{Kind: Scalar}},
	}}
	raw, err := JSONSchema(root, SchemaInfo{ID: "x:id", Title: "T"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x:id", "title": "T",
		"description": "the root", "type": "object", "additionalProperties": false, "required": []any{"inner"},
		"properties": map[string]any{
			"inner": map[string]any{"anyOf": []any{map[string]any{"$ref": "#/$defs/Inner"}, map[string]any{"type": "null"}}, "description": "an object"},
			"mode":  map[string]any{"anyOf": []any{map[string]any{"enum": []any{"a", "b"}}, map[string]any{"type": "null"}}},
			"props": map[string]any{"anyOf": []any{map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []any{"string", "number", "boolean"}}}, map[string]any{"type": "null"}}},
		},
		"$defs": map[string]any{"Inner": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
			"port": map[string]any{"anyOf": []any{map[string]any{"type": "integer", "minimum": 1.0, "maximum": 65535.0}, map[string]any{"type": "null"}}},
		}}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("schema:\n%s", g)
	}
}

// TestJSONSchemaAnyOfWithKindHook covers what a package with its own
// values uses: several roots, a Kind hook reading Field.Ext (and falling
// back to the built-in kinds with nil), lists, and no null for empty keys.
func TestJSONSchemaAnyOfWithKindHook(t *testing.T) {
	type ref struct{ to *Spec }
	item := &Spec{Name: "Item", Fields: []Field{{Name: "id", Kind: Int, Required: true}}}
	a := &Spec{Name: "A", Fields: []Field{
		{Name: "items", Kind: List, Elem: &Field{Kind: Object, Object: item}, Doc: "the items"},
		{Name: "tags", Kind: List, Elem: &Field{Kind: String}},
		{Name: "use", Kind: Any, Ext: ref{item}},
	}}
	b := &Spec{Name: "B", Fields: []Field{{Name: "on", Kind: Bool}}}
	hook := func(g *Generator, f Field) map[string]any {
		if r, ok := f.Ext.(ref); ok {
			return map[string]any{"anyOf": []any{map[string]any{"type": "string"}, g.Ref(r.to)}}
		}
		if f.Kind == String {
			return map[string]any{"type": "string"}
		}
		return nil
	}
	raw, err := JSONSchemaAnyOf([]*Spec{a, b}, SchemaInfo{Title: "T", NoEmptyValues: true, Kind: hook})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	itemRef := map[string]any{"$ref": "#/$defs/Item"}
	want := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "T",
		"anyOf": []any{map[string]any{"$ref": "#/$defs/A"}, map[string]any{"$ref": "#/$defs/B"}},
		"$defs": map[string]any{
			"A": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"items": map[string]any{"type": "array", "items": itemRef, "description": "the items"},
				"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"use":   map[string]any{"anyOf": []any{map[string]any{"type": "string"}, itemRef}},
			}},
			"B": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"on": map[string]any{"anyOf": []any{map[string]any{"type": "boolean"},
					map[string]any{"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"}}},
			}},
			"Item": map[string]any{"type": "object", "additionalProperties": false, "required": []any{"id"},
				"properties": map[string]any{"id": map[string]any{"type": "integer"}}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("schema:\n%s", g)
	}
}
