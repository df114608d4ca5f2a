package csv

import "github.com/ksml-dev/ksml/internal/types"

// Upstream hands a schema-backed struct to Python with "@type" (the
// schema's short name) and "@schema" (the schema in KSML's schema
// notation). A CSV schema is a struct of required string fields, each
// documented by its own name and defaulting to "".

func init() { types.RegisterSchemaDescriber(PythonMeta) }

// PythonMeta returns the "@type" and "@schema" values of a CSV schema; ok
// is false for other schemas. The returned struct must not be modified.
func PythonMeta(s *types.StructSchema) (typeName string, schema *types.Struct, ok bool) {
	if s == nil {
		return "", nil, false
	}
	cs, ok := s.Native.(*Schema)
	if !ok {
		return "", nil, false
	}
	cs.describeOnce.Do(func() { cs.description = describe(cs) })
	return cs.shortName(), cs.description, true
}

func (s *Schema) shortName() string {
	for i := len(s.Name) - 1; i >= 0; i-- {
		if s.Name[i] == '.' {
			return s.Name[i+1:]
		}
	}
	return s.Name
}

func describe(s *Schema) *types.Struct {
	out := types.NewStruct(5)
	out.Set("type", "struct")
	out.Set("name", s.shortName())
	out.Set("doc", "CSV schema")
	fields := make([]any, len(s.Fields))
	for i, f := range s.Fields {
		fd := types.NewStruct(8)
		fd.Set("name", f)
		fd.Set("doc", f)
		fd.Set("required", true)
		fd.Set("constant", false)
		fd.Set("tag", int64(-1))
		fd.Set("type", "string")
		fd.Set("defaultValue", "")
		fd.Set("order", "ASCENDING")
		fields[i] = fd
	}
	out.Set("fields", fields)
	out.Set("additionalFieldsAllowed", false)
	return out
}
