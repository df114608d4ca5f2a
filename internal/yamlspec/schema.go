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
}

// JSONSchema renders root as a JSON schema (draft 2020-12): each Spec
// becomes a $defs entry with its keys as properties, required keys as
// required, and unknown keys refused unless the Spec has Extra.
func JSONSchema(root *Spec, info SchemaInfo) ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}, subst: info.Substitution}
	top := g.object(root)
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

type schemaGen struct {
	defs  map[string]any
	subst bool
}

// ref registers spec under $defs (once) and returns a reference to it.
func (g *schemaGen) ref(spec *Spec) map[string]any {
	if _, ok := g.defs[spec.Name]; !ok {
		g.defs[spec.Name] = nil // reserve: specs may refer to themselves
		g.defs[spec.Name] = g.object(spec)
	}
	return map[string]any{"$ref": "#/$defs/" + spec.Name}
}

func (g *schemaGen) object(spec *Spec) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range spec.Fields {
		// A key written with no value is the same as a key left out,
		// except in mappings of scalars.
		prop := g.kind(f)
		if f.Kind != Scalar {
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
		out["additionalProperties"] = g.field(*spec.Extra)
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

func (g *schemaGen) field(f Field) map[string]any {
	s := g.kind(f)
	if f.Doc != "" {
		s["description"] = f.Doc
	}
	return s
}

func (g *schemaGen) typed(s map[string]any) map[string]any {
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

func (g *schemaGen) kind(f Field) map[string]any {
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
		return g.ref(f.Object)
	case Map:
		m := map[string]any{"type": "object"}
		if f.Elem != nil {
			m["additionalProperties"] = g.field(*f.Elem)
		}
		return m
	}
	return map[string]any{}
}
