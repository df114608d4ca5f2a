package xml

import "github.com/ksml-dev/ksml/internal/types"

// Upstream hands a schema-backed struct to Python with "@type" (the
// schema's name) and "@schema" (the schema in KSML's schema notation).
// An XSD element is described as upstream maps it: a struct without
// namespace, fields required when minOccurs is above zero, restrictions as
// enums, xs:int and xs:integer as "integer".

func init() { types.RegisterSchemaDescriber(PythonMeta) }

// PythonMeta returns the "@type" and "@schema" values of an XML schema; ok
// is false for other schemas. The returned struct must not be modified.
func PythonMeta(s *types.StructSchema) (typeName string, schema *types.Struct, ok bool) {
	if s == nil {
		return "", nil, false
	}
	xs, ok := s.Native.(*Schema)
	if !ok {
		return "", nil, false
	}
	xs.describeOnce.Do(func() { xs.description = describeStruct(xs.Element, xs.Root, 0) })
	return xs.Element, xs.description, true
}

func describeStruct(name string, t *xsdType, depth int) *types.Struct {
	out := types.NewStruct(5)
	out.Set("type", "struct")
	if name != "" {
		out.Set("name", name)
	}
	if t.Doc != "" {
		out.Set("doc", t.Doc)
	}
	fields := make([]any, len(t.Fields))
	for i, f := range t.Fields {
		fd := types.NewStruct(7)
		fd.Set("name", f.Name)
		if f.Doc != "" {
			fd.Set("doc", f.Doc)
		}
		fd.Set("required", f.Required)
		fd.Set("constant", false)
		fd.Set("tag", int64(-1))
		fd.Set("type", describeType(f.Type, depth+1))
		fd.Set("order", "ASCENDING")
		fields[i] = fd
	}
	out.Set("fields", fields)
	out.Set("additionalFieldsAllowed", false)
	return out
}

func describeType(t *xsdType, depth int) any {
	if t == nil || depth > maxSchemaDepth {
		return "any"
	}
	switch t.Kind {
	case kindStruct:
		return describeStruct(t.Name, t, depth)
	case kindList:
		out := types.NewStruct(2)
		out.Set("type", "list")
		out.Set("items", describeType(t.Elem, depth+1))
		return out
	case kindPrimitive:
		if t.Symbols != nil {
			out := types.NewStruct(4)
			out.Set("type", "enum")
			if t.Name != "" {
				out.Set("name", t.Name)
			}
			if t.Doc != "" {
				out.Set("doc", t.Doc)
			}
			symbols := make([]any, len(t.Symbols))
			for i, s := range t.Symbols {
				sd := types.NewStruct(2)
				sd.Set("name", s)
				sd.Set("tag", int64(-1))
				symbols[i] = sd
			}
			out.Set("symbols", symbols)
			return out
		}
		switch t.Prim {
		case types.KindBoolean:
			return "boolean"
		case types.KindByte:
			return "byte"
		case types.KindShort:
			return "short"
		case types.KindInt:
			return "integer"
		case types.KindLong:
			return "long"
		case types.KindFloat:
			return "float"
		case types.KindDouble:
			return "double"
		case types.KindBytes:
			return "bytes"
		}
		return "string"
	}
	return "any"
}
