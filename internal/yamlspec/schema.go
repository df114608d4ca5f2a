package yamlspec

import (
	"encoding/json"
	"sort"
)

// SchemaInfo heads a generated JSON schema.
type SchemaInfo struct {
	ID          string // $id
	Title       string
	Description string
	// Substitution marks documents whose scalars may be written as
	// ${NAME} references, substituted before the value is read: every
	// typed scalar then also accepts a string holding "${".
	Substitution bool
	// NoEmptyValues refuses keys written with no value (null); by default
	// such a key is accepted as if it were left out.
	NoEmptyValues bool
	// Kind, when set, renders a field before its kind is looked at: a
	// non-nil result is the field's schema (its description is added). It
	// lets the package that owns the specs render its own values (see
	// Field.Ext), or render a kind differently.
	Kind func(g *Generator, f Field) map[string]any
}

// JSONSchema renders root as a JSON schema (draft 2020-12): each Spec
// becomes a $defs entry with its keys as properties, required keys as
// required, and unknown keys refused unless the Spec has Extra.
func JSONSchema(root *Spec, info SchemaInfo) ([]byte, error) {
	g := newGenerator(info)
	return g.document(g.object(root), info)
}

// JSONSchemaAnyOf is JSONSchema for documents of several kinds (dialects):
// a document is valid when it is valid as any of roots.
func JSONSchemaAnyOf(roots []*Spec, info SchemaInfo) ([]byte, error) {
	g := newGenerator(info)
	alts := make([]any, len(roots))
	for i, r := range roots {
		alts[i] = g.Ref(r)
	}
	return g.document(map[string]any{"anyOf": alts}, info)
}

func newGenerator(info SchemaInfo) *Generator {
	return &Generator{defs: map[string]any{}, subst: info.Substitution, noNull: info.NoEmptyValues, hook: info.Kind}
}

// document heads top with info and the collected $defs.
func (g *Generator) document(top map[string]any, info SchemaInfo) ([]byte, error) {
	top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	if info.ID != "" {
		top["$id"] = info.ID
	}
	if info.Title != "" {
		top["title"] = info.Title
	}
	if info.Description != "" {
		top["description"] = info.Description
	}
	if len(g.defs) > 0 {
		top["$defs"] = g.defs
	}
	return json.MarshalIndent(top, "", "  ")
}

// Generator renders specs as JSON schema; SchemaInfo.Kind hooks receive it
// to render the specs and fields their values refer to.
type Generator struct {
	defs   map[string]any
	subst  bool
	noNull bool
	hook   func(g *Generator, f Field) map[string]any
}

// Ref registers spec under $defs (once, by its Name) and returns a
// reference to it.
func (g *Generator) Ref(spec *Spec) map[string]any {
	if _, ok := g.defs[spec.Name]; !ok {
		g.defs[spec.Name] = nil // reserve: specs may refer to themselves
		g.defs[spec.Name] = g.object(spec)
	}
	return map[string]any{"$ref": "#/$defs/" + spec.Name}
}

func (g *Generator) object(spec *Spec) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range spec.Fields {
		// A key written with no value is the same as a key left out,
		// except in mappings of scalars.
		prop := g.kind(f)
		if f.Kind != Scalar && !g.noNull {
			prop = anyOf(prop, map[string]any{"type": "null"})
		}
		if f.Doc != "" {
			prop["description"] = f.Doc
		}
		props[f.Name] = prop
		if f.Required {
			required = append(required, f.Name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if spec.Extra != nil {
		out["additionalProperties"] = g.Field(*spec.Extra)
	} else {
		out["additionalProperties"] = false
	}
	if spec.Doc != "" {
		out["description"] = spec.Doc
	}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

// substituted accepts a ${NAME} reference in place of a typed scalar.
var substituted = map[string]any{"type": "string", "pattern": `\$\{`}

// Field renders f (a map's values, a list's elements) with its
// description.
func (g *Generator) Field(f Field) map[string]any {
	s := g.kind(f)
	if f.Doc != "" {
		s["description"] = f.Doc
	}
	return s
}

func (g *Generator) typed(s map[string]any) map[string]any {
	if !g.subst {
		return s
	}
	return anyOf(s, substituted)
}

// anyOf accepts any of alts; alternatives that are themselves only an
// anyOf are spliced in, so the schema stays flat.
func anyOf(alts ...map[string]any) map[string]any {
	var out []any
	for _, a := range alts {
		if inner, ok := a["anyOf"].([]any); ok && len(a) == 1 {
			out = append(out, inner...)
			continue
		}
		out = append(out, a)
	}
	return map[string]any{"anyOf": out}
}

func (g *Generator) kind(f Field) map[string]any {
	if g.hook != nil {
		if s := g.hook(g, f); s != nil {
			return s
		}
	}
	if f.Schema != nil {
		out := map[string]any{}
		for k, v := range f.Schema {
			out[k] = v
		}
		return out
	}
	switch f.Kind {
	case String, Scalar:
		return map[string]any{"type": []any{"string", "number", "boolean"}}
	case Bool:
		return g.typed(anyOf(
			map[string]any{"type": "boolean"},
			map[string]any{"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"}))
	case Int:
		return g.typed(map[string]any{"type": "integer"})
	case Port:
		return g.typed(map[string]any{"type": "integer", "minimum": 1, "maximum": 65535})
	case Duration:
		return g.typed(anyOf(
			map[string]any{"type": "integer", "minimum": 0},
			map[string]any{"type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*([mM][sS]|[sSmMhHdDwW])?\\s*$"}))
	case Enum:
		enum := make([]any, len(f.Enum))
		for i, e := range f.Enum {
			enum[i] = e
		}
		return g.typed(map[string]any{"enum": enum})
	case Object:
		return g.Ref(f.Object)
	case Map:
		m := map[string]any{"type": "object"}
		if f.Elem != nil {
			m["additionalProperties"] = g.Field(*f.Elem)
		}
		return m
	case List:
		l := map[string]any{"type": "array"}
		if f.Elem != nil {
			l["items"] = g.Field(*f.Elem)
		}
		return l
	}
	return map[string]any{}
}
