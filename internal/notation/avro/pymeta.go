package avro

import (
	"strings"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/types"
)

// Upstream KSML hands a schema-backed struct to Python with two extra keys:
// "@type", the record's short name, and "@schema", the schema in KSML's own
// schema notation (not Avro's). PythonMeta produces both for Avro records so
// the Python bridge can add them without knowing Avro.

// noTag is KSML's "no tag" marker in schema descriptions.
const noTag = int64(-1)

var descriptions sync.Map // *avro.RecordSchema -> *types.Struct

func init() { types.RegisterSchemaDescriber(PythonMeta) }

// PythonMeta returns the "@type" and "@schema" values upstream adds to a
// struct of schema s when it is passed to Python. ok is false when s is not
// an Avro record schema. The returned struct is shared and must not be
// modified.
func PythonMeta(s *types.StructSchema) (typeName string, schema *types.Struct, ok bool) {
	if s == nil {
		return "", nil, false
	}
	rs, ok := s.Native.(*avro.RecordSchema)
	if !ok {
		return "", nil, false
	}
	if d, ok := descriptions.Load(rs); ok {
		return rs.Name(), d.(*types.Struct), true
	}
	d := describeRecord(rs, map[string]bool{})
	v, _ := descriptions.LoadOrStore(rs, d)
	return rs.Name(), v.(*types.Struct), true
}

func describeNamed(out *types.Struct, typ string, n avro.NamedSchema, doc string) {
	out.Set("type", typ)
	if n.Namespace() != "" {
		out.Set("namespace", n.Namespace())
	}
	out.Set("name", n.Name())
	if doc != "" {
		out.Set("doc", doc)
	}
}

func describeRecord(rs *avro.RecordSchema, seen map[string]bool) *types.Struct {
	out := types.NewStruct(6)
	describeNamed(out, "struct", rs, rs.Doc())
	seen[rs.FullName()] = true
	fields := make([]any, 0, len(rs.Fields()))
	for _, f := range rs.Fields() {
		schema, required := describeField(f.Type(), seen)
		fd := types.NewStruct(8)
		fd.Set("name", f.Name())
		if f.Doc() != "" {
			fd.Set("doc", f.Doc())
		}
		fd.Set("required", required)
		fd.Set("constant", false)
		fd.Set("tag", noTag)
		fd.Set("type", schema)
		if f.HasDefault() {
			if v, err := defaultValue(f.Type(), f.Default()); err == nil {
				fd.Set("defaultValue", v)
			}
		}
		switch f.Order() {
		case avro.Desc:
			fd.Set("order", "DESCENDING")
		case avro.Ignore:
			fd.Set("order", "IGNORE")
		default:
			fd.Set("order", "ASCENDING")
		}
		fields = append(fields, fd)
	}
	delete(seen, rs.FullName())
	out.Set("fields", fields)
	out.Set("additionalFieldsAllowed", false)
	return out
}

// describeField maps a field schema; a union whose first branch is null
// makes the field optional and is unwrapped when one branch remains.
func describeField(s avro.Schema, seen map[string]bool) (any, bool) {
	u, ok := deref(s).(*avro.UnionSchema)
	if !ok {
		return describe(s, seen), deref(s).Type() != avro.Null
	}
	members := u.Types()
	required := true
	if len(members) > 0 && deref(members[0]).Type() == avro.Null {
		required = false
		members = members[1:]
	}
	switch len(members) {
	case 0:
		return "null", required
	case 1:
		return describe(members[0], seen), required
	}
	return describeUnion(members, seen), required
}

func describeUnion(members avro.Schemas, seen map[string]bool) []any {
	out := make([]any, len(members))
	for i, m := range members {
		md := types.NewStruct(4)
		md.Set("name", nil)
		md.Set("type", describe(m, seen))
		md.Set("doc", nil)
		md.Set("tag", noTag)
		out[i] = md
	}
	return out
}

func describe(s avro.Schema, seen map[string]bool) any {
	s = deref(s)
	if p, ok := s.(*avro.PrimitiveSchema); ok && p.Logical() != nil {
		switch p.Logical().Type() {
		case avro.UUID:
			if p.Type() == avro.String {
				return "string"
			}
		case avro.Decimal:
			if _, ok := decimalOf(p); ok {
				return "string"
			}
		case avro.Date, avro.TimeMillis:
			if p.Type() == avro.Int {
				return "integer"
			}
		case avro.TimeMicros, avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
			if p.Type() == avro.Long {
				return "long"
			}
		}
	}
	switch s := s.(type) {
	case *avro.NullSchema:
		return "null"
	case *avro.PrimitiveSchema:
		if s.Type() == avro.Int {
			return "integer"
		}
		return string(s.Type())
	case *avro.RecordSchema:
		if seen[s.FullName()] {
			return s.FullName() // a recursive reference
		}
		return describeRecord(s, seen)
	case *avro.EnumSchema:
		out := types.NewStruct(6)
		describeNamed(out, "enum", s, s.Doc())
		symbols := make([]any, len(s.Symbols()))
		for i, sym := range s.Symbols() {
			sd := types.NewStruct(2)
			sd.Set("name", sym)
			sd.Set("tag", noTag)
			symbols[i] = sd
		}
		out.Set("symbols", symbols)
		if s.HasDefault() {
			out.Set("defaultValue", s.Default())
		}
		return out
	case *avro.FixedSchema:
		out := types.NewStruct(5)
		describeNamed(out, "fixed", s, "")
		out.Set("size", int64(s.Size()))
		return out
	case *avro.ArraySchema:
		out := types.NewStruct(2)
		out.Set("type", "list")
		out.Set("items", describe(s.Items(), seen))
		return out
	case *avro.MapSchema:
		out := types.NewStruct(2)
		out.Set("type", "map")
		out.Set("values", describe(s.Values(), seen))
		return out
	case *avro.UnionSchema:
		return describeUnion(s.Types(), seen)
	}
	return strings.ToLower(string(s.Type()))
}
