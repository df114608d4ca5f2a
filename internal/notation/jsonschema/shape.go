package jsonschema

import (
	"sort"
	"strings"

	"github.com/ksml-dev/ksml/internal/types"
)

// Upstream writes a value through its native-map form, whose structs keep
// their keys sorted (the empty key first, '@' keys last) and, for a struct
// with a schema, hold only the schema's properties: required ones always
// (null when absent), optional ones when present. shape is the part of a
// JSON Schema that decides this: the properties of objects, recursively
// through properties, items and local $refs.
//
// As upstream converts a value to its schema's field types before writing,
// a scalar whose schema type is a single primitive ("number", "integer",
// "boolean", "string") is converted to it: numeric text becomes the number
// (upstream's double for "number", long for "integer"), a number becomes its
// text. A value that does not convert is written as it is, and validation
// names it.

type shape struct {
	props    map[string]*shape // nil: any object (no "properties")
	required map[string]bool
	items    *shape
	scalar   types.DataType // the primitive of a "type" naming one, else nil
}

const maxShapeDepth = 64

// shapeOf reads the shape of a schema document (as js.UnmarshalJSON
// returns it).
func shapeOf(root any) *shape {
	return buildShape(root, root, 0)
}

func buildShape(node, root any, depth int) *shape {
	m, ok := node.(map[string]any)
	if !ok || depth > maxShapeDepth {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		if target := resolveRef(root, ref); target != nil {
			return buildShape(target, root, depth+1)
		}
	}
	sh := &shape{}
	if props, ok := m["properties"].(map[string]any); ok {
		sh.props = make(map[string]*shape, len(props))
		for name, p := range props {
			if _, isObj := p.(map[string]any); isObj {
				sh.props[name] = buildShape(p, root, depth+1)
			}
		}
		sh.required = map[string]bool{}
		if req, ok := m["required"].([]any); ok {
			for _, r := range req {
				if name, ok := r.(string); ok {
					sh.required[name] = true
				}
			}
		}
	}
	if items, ok := m["items"].(map[string]any); ok {
		sh.items = buildShape(items, root, depth+1)
	}
	if t, ok := m["type"].(string); ok {
		sh.scalar = scalarTypes[t]
	}
	if sh.props == nil && sh.items == nil && sh.scalar == nil {
		return nil
	}
	return sh
}

// scalarTypes are the JSON Schema primitive types as upstream maps them.
var scalarTypes = map[string]types.DataType{
	"number":  types.Double,
	"integer": types.Long,
	"boolean": types.Boolean,
	"string":  types.String,
}

// convertScalar converts a text or number v to the primitive sh names; any
// other value, or one that does not convert, is returned unchanged.
func convertScalar(v any, sh *shape) any {
	if sh == nil || sh.scalar == nil {
		return v
	}
	switch v.(type) {
	case string:
		if sh.scalar == types.String {
			return v
		}
	case int64, float64, bool:
		if sh.scalar != types.String {
			return v // numbers stay as they are; only text converts to them
		}
	default:
		return v
	}
	if r, err := types.Convert(v, sh.scalar); err == nil {
		return r
	}
	return v
}

// resolveRef follows a local reference "#/a/b".
func resolveRef(root any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	cur := root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// arrange returns v with struct keys sorted and, where sh describes an
// object, only its properties. v is not modified.
func arrange(v any, sh *shape, depth int) (any, error) {
	if depth > maxShapeDepth*4 {
		return v, nil
	}
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *types.Struct:
		type kv struct {
			k string
			v any
			s *shape
		}
		var kvs []kv
		if sh != nil && sh.props != nil {
			for name, ps := range sh.props {
				fv, ok := x.Get(name)
				if ok || sh.required[name] {
					kvs = append(kvs, kv{name, fv, ps})
				}
			}
		} else {
			kvs = make([]kv, 0, x.Len())
			x.Range(func(k string, fv any) bool {
				kvs = append(kvs, kv{k: k, v: fv})
				return true
			})
		}
		sort.Slice(kvs, func(i, j int) bool { return keyLess(kvs[i].k, kvs[j].k) })
		out := types.NewStruct(len(kvs))
		for _, e := range kvs {
			av, err := arrange(e.v, e.s, depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(e.k, av)
		}
		return out, nil
	case []any:
		var elem *shape
		if sh != nil {
			elem = sh.items
		}
		out := make([]any, len(x))
		for i, e := range x {
			av, err := arrange(e, elem, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return out, nil
	case types.Tuple:
		return arrange([]any(x), sh, depth)
	}
	return convertScalar(v, sh), nil
}

// keyLess orders struct keys as upstream's data structs do: the empty key
// first, keys starting with '@' last, lexicographic otherwise.
func keyLess(a, b string) bool {
	if a == "" || b == "" {
		return a == "" && b != ""
	}
	ma, mb := a[0] == '@', b[0] == '@'
	if ma != mb {
		return mb
	}
	return a < b
}
