package definition

import (
	"encoding/json"
	"sort"
)

// JSONSchema returns the JSON schema (draft 2020-12) of definition files,
// generated from the same field tables the parser checks keys against. The
// root accepts either dialect.
func JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	ksml := g.ref(rootSpec)
	seed := g.seedRoot()
	root := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://ksml.dev/schemas/ksml-definition.json",
		"title":       "KSML definition",
		"description": "A KSML definition: streams, tables, stores, functions, pipelines and producers (or the list dialect: pipelines of inputs, operations and outputs)",
		"anyOf":       []any{ksml, seed},
		"$defs":       g.defs,
	}
	return json.MarshalIndent(root, "", "  ")
}

type schemaGen struct {
	defs map[string]any
}

// ref registers spec under $defs (once) and returns a reference to it.
func (g *schemaGen) ref(spec *objSpec) map[string]any {
	if _, ok := g.defs[spec.name]; !ok {
		g.defs[spec.name] = nil // reserve: specs may refer to themselves
		g.defs[spec.name] = g.object(spec)
	}
	return map[string]any{"$ref": "#/$defs/" + spec.name}
}

func (g *schemaGen) object(spec *objSpec) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range spec.fields {
		s := g.field(spec, f)
		if f.doc != "" {
			s["description"] = f.doc
		}
		props[f.name] = s
		if f.required {
			required = append(required, f.name)
		}
	}
	out := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"properties":           props,
	}
	if spec.doc != "" {
		out["description"] = spec.doc
	}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

func anyOf(xs ...any) map[string]any { return map[string]any{"anyOf": xs} }

var (
	jsString   = map[string]any{"type": "string"}
	durationJS = anyOf(map[string]any{"type": "integer"},
		map[string]any{"type": "string", "pattern": "^\\s*[+-]?[0-9]+\\s*([mM][sS]|[sSmMhHdDwW])?\\s*$"})
)

func (g *schemaGen) field(owner *objSpec, f field) map[string]any {
	switch f.kind {
	case fString, fType:
		return map[string]any{"type": "string"}
	case fDuration:
		return copyMap(durationJS)
	case fBool:
		return map[string]any{"type": "boolean"}
	case fInt:
		return map[string]any{"type": "integer"}
	case fCode:
		return anyOf(map[string]any{"type": []any{"string", "boolean", "integer", "number"}},
			map[string]any{"type": "array", "items": jsString})
	case fEnum:
		return map[string]any{"enum": f.enum}
	case fFunction:
		alts := []any{jsString, g.ref(functionSpec(f.fn, false))}
		if f.elem != nil {
			alts = append(alts, g.ref(f.elem))
		}
		return anyOf(alts...)
	case fStore:
		alts := []any{jsString}
		if f.store != "" {
			alts = append(alts, g.ref(inlineStoreSpecs[f.store]))
		} else {
			for _, t := range []StoreType{StoreKeyValue, StoreSession, StoreWindow} {
				alts = append(alts, g.ref(inlineStoreSpecs[t]))
			}
		}
		return anyOf(alts...)
	case fTopic:
		return anyOf(jsString, g.ref(f.elem))
	case fObject:
		if f.elem == nil {
			return map[string]any{"type": "object"}
		}
		return g.ref(f.elem)
	case fList:
		if f.name == "via" || f.name == "operations" {
			return map[string]any{"type": "array", "items": g.operations()}
		}
		return map[string]any{"type": "array", "items": g.ref(f.elem)}
	case fStrings:
		return map[string]any{"type": "array", "items": jsString}
	case fParams:
		return map[string]any{"type": "array", "items": g.ref(paramSpec)}
	case fMap:
		switch {
		case owner == rootSpec && f.name == "stores":
			var alts []any
			for _, t := range []StoreType{StoreKeyValue, StoreSession, StoreWindow} {
				alts = append(alts, g.ref(storeSpecs[t]))
			}
			return map[string]any{"type": "object", "additionalProperties": anyOf(alts...)}
		case owner == rootSpec && f.name == "functions":
			var alts []any
			for _, t := range allFunctionTypes {
				alts = append(alts, g.ref(functionSpec(t, true)))
			}
			return map[string]any{"type": "object", "additionalProperties": anyOf(alts...)}
		case f.elem != nil:
			return map[string]any{"type": "object", "additionalProperties": g.ref(f.elem)}
		}
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []any{"string", "number", "boolean"}}}
	}
	return map[string]any{}
}

// operations is the schema of one via step: any operation type.
func (g *schemaGen) operations() map[string]any {
	var ts []string
	for t := range opSpecs {
		ts = append(ts, string(t))
	}
	sort.Strings(ts)
	var alts []any
	for _, t := range ts {
		alts = append(alts, g.ref(opSpecs[OpType(t)]))
	}
	return anyOf(alts...)
}

func (g *schemaGen) seedRoot() map[string]any {
	r := g.ref(seedRootSpec)
	// Nested seed objects that are typed loosely in the field tables.
	g.ref(seedConfigSpec)
	g.ref(seedMetricsSpec)
	if root, ok := g.defs[seedRootSpec.name].(map[string]any); ok {
		props := root["properties"].(map[string]any)
		props["configuration"] = g.ref(seedConfigSpec)
	}
	if cfg, ok := g.defs[seedConfigSpec.name].(map[string]any); ok {
		props := cfg["properties"].(map[string]any)
		props["metrics"] = g.ref(seedMetricsSpec)
	}
	if pl, ok := g.defs[seedPipelineSpec.name].(map[string]any); ok {
		props := pl["properties"].(map[string]any)
		branch := map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"predicates", "type"},
			"description": "Routes each record to the output named like the first predicate that holds",
			"properties": map[string]any{
				"type":       map[string]any{"enum": []string{"branch"}},
				"name":       jsString,
				"predicates": map[string]any{"type": "array", "items": g.ref(seedPredicateSpec)},
			},
		}
		g.defs["SeedBranchOperation"] = branch
		ops := g.operations()
		alts := []any{map[string]any{"$ref": "#/$defs/SeedBranchOperation"}}
		// The seed dialect writes filter predicates as `predicate`.
		for _, t := range []OpType{OpFilter, OpFilterNot} {
			spec := *opSpecs[t]
			spec.name = "Seed" + spec.name
			spec.fields = append([]field(nil), spec.fields...)
			for i := range spec.fields {
				if spec.fields[i].name == "if" {
					spec.fields[i].name = "predicate"
				}
			}
			alts = append(alts, g.ref(&spec))
		}
		alts = append(alts, ops["anyOf"].([]any)...)
		props["operations"] = map[string]any{"type": "array", "items": anyOf(alts...), "description": "Operations applied in order"}
	}
	return r
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
