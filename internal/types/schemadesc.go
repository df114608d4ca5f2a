package types

import "sync"

// A struct with a schema reaches Python (upstream's convention) with two
// extra keys: "@type", the schema's short name, and "@schema", the schema
// described in KSML's schema notation. Only the package that owns a schema
// kind (Avro, say) can describe it, so such packages register a describer
// here and the Python bridge asks DescribeSchema, without depending on them.

// SchemaDescriber returns the "@type" and "@schema" values for structs of
// schema s; ok is false when s is not a kind it knows.
type SchemaDescriber func(s *StructSchema) (typeName string, schema *Struct, ok bool)

var (
	describersMu sync.RWMutex
	describers   []SchemaDescriber
)

// RegisterSchemaDescriber adds d; packages call it from init.
func RegisterSchemaDescriber(d SchemaDescriber) {
	describersMu.Lock()
	describers = append(describers, d)
	describersMu.Unlock()
}

// DescribeSchema asks the registered describers in turn. ok is false when
// none knows s.
func DescribeSchema(s *StructSchema) (typeName string, schema *Struct, ok bool) {
	describersMu.RLock()
	defer describersMu.RUnlock()
	for _, d := range describers {
		if typeName, schema, ok = d(s); ok {
			return typeName, schema, true
		}
	}
	return "", nil, false
}
