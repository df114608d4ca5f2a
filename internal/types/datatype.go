package types

import "strings"

// DataType is a KSML data type.
//
// String returns the canonical KSML spelling, which parses back to an equal
// type. IsAssignableFrom reports whether a value of type other may be used
// where this type is expected without conversion; it follows upstream KSML:
// any accepts everything, primitives accept only their own kind (there is no
// implicit numeric widening: int does not accept long, Convert does that with
// range checks), string and enum accept each other, a struct accepts null
// (tombstones), lists, maps, tuples and windowed keys compare element-wise,
// and a union accepts a type one of its members accepts (or a union whose
// members it all accepts).
type DataType interface {
	String() string
	IsAssignableFrom(other DataType) bool
}

// Kind names a primitive type.
type Kind uint8

// The primitive kinds. Their order is not significant.
const (
	KindNull Kind = iota + 1
	KindBoolean
	KindByte
	KindShort
	KindInt
	KindLong
	KindFloat
	KindDouble
	KindString
	KindBytes
)

var kindNames = [...]string{
	KindNull:    "null",
	KindBoolean: "boolean",
	KindByte:    "byte",
	KindShort:   "short",
	KindInt:     "int",
	KindLong:    "long",
	KindFloat:   "float",
	KindDouble:  "double",
	KindString:  "string",
	KindBytes:   "bytes",
}

// String returns the canonical spelling of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "invalid"
}

// IsInteger reports whether k is byte, short, int or long.
func (k Kind) IsInteger() bool { return k >= KindByte && k <= KindLong }

// IsNumber reports whether k is an integer or floating point kind.
func (k Kind) IsNumber() bool { return k >= KindByte && k <= KindDouble }

// Primitive is a simple type: null, boolean, the numbers, string or bytes.
type Primitive struct{ Kind Kind }

// The primitive types, for convenient comparison and construction.
var (
	Null    = Primitive{KindNull}
	Boolean = Primitive{KindBoolean}
	Byte    = Primitive{KindByte}
	Short   = Primitive{KindShort}
	Int     = Primitive{KindInt}
	Long    = Primitive{KindLong}
	Float   = Primitive{KindFloat}
	Double  = Primitive{KindDouble}
	String  = Primitive{KindString}
	Bytes   = Primitive{KindBytes}
)

func (p Primitive) String() string { return p.Kind.String() }

// IsAssignableFrom accepts the same kind only; string also accepts enums.
func (p Primitive) IsAssignableFrom(other DataType) bool {
	switch o := unwrapNotation(other).(type) {
	case Primitive:
		return o.Kind == p.Kind
	case EnumType:
		return p.Kind == KindString
	}
	return false
}

// AnyType is the unknown type, spelled "any" or "?": it accepts every value.
type AnyType struct{}

// Any is the unknown type.
var Any = AnyType{}

func (AnyType) String() string                 { return "?" }
func (AnyType) IsAssignableFrom(DataType) bool { return true }

// ListType is a list whose elements all have type Elem. Spelled "[T]" or
// "list(T)".
type ListType struct{ Elem DataType }

func (l ListType) String() string { return "[" + typeString(l.Elem) + "]" }

// IsAssignableFrom accepts lists whose element type Elem accepts.
func (l ListType) IsAssignableFrom(other DataType) bool {
	o, ok := unwrapNotation(other).(ListType)
	return ok && elemOrAny(l.Elem).IsAssignableFrom(elemOrAny(o.Elem))
}

// MapType is a map with string keys and values of type Value. Spelled
// "map(T)"; a bare "map" has Value any.
type MapType struct{ Value DataType }

func (m MapType) String() string { return "map(" + typeString(m.Value) + ")" }

// IsAssignableFrom accepts maps whose value type Value accepts, and structs
// when Value is any (a struct is a map of string to any).
func (m MapType) IsAssignableFrom(other DataType) bool {
	switch o := unwrapNotation(other).(type) {
	case MapType:
		return elemOrAny(m.Value).IsAssignableFrom(elemOrAny(o.Value))
	case StructType:
		return elemOrAny(m.Value).IsAssignableFrom(Any)
	}
	return false
}

// StructType is a struct: a string-keyed record. Without a notation it is the
// schemaless "struct". With a notation and schema name it is a schema-backed
// struct such as "avro:SensorData"; Schema is nil until a notation package
// resolves the name.
type StructType struct {
	Notation   string
	SchemaName string
	Schema     *StructSchema
}

func (s StructType) String() string {
	if s.SchemaName == "" {
		if s.Notation != "" {
			return s.Notation
		}
		return "struct"
	}
	if s.Notation == "" {
		return s.SchemaName
	}
	return s.Notation + ":" + s.SchemaName
}

// schemaIdentity is the name a schema-backed struct compares by.
func (s StructType) schemaIdentity() string {
	if s.Schema != nil && s.Schema.Name != "" {
		return s.Schema.Name
	}
	return s.SchemaName
}

// IsAssignableFrom accepts null and structs; a schema-backed struct accepts
// only structs of the same schema (compared by name: the last dotted part
// when one side is not fully qualified).
func (s StructType) IsAssignableFrom(other DataType) bool {
	switch o := unwrapNotation(other).(type) {
	case Primitive:
		return o.Kind == KindNull
	case StructType:
		if s.SchemaName == "" && s.Schema == nil {
			return true
		}
		return sameSchemaName(s.schemaIdentity(), o.schemaIdentity())
	}
	return false
}

func sameSchemaName(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" {
		return false
	}
	if strings.Contains(a, ".") == strings.Contains(b, ".") {
		return false
	}
	return a[strings.LastIndexByte(a, '.')+1:] == b[strings.LastIndexByte(b, '.')+1:]
}

// TupleType is a fixed-size tuple. Spelled "(T1, T2)" or "tuple(T1, T2)".
type TupleType struct{ Elems []DataType }

func (t TupleType) String() string { return "(" + joinTypes(t.Elems) + ")" }

// IsAssignableFrom accepts tuples of the same size whose elements are
// assignable pairwise.
func (t TupleType) IsAssignableFrom(other DataType) bool {
	o, ok := unwrapNotation(other).(TupleType)
	if !ok || len(o.Elems) != len(t.Elems) {
		return false
	}
	for i, e := range t.Elems {
		if !elemOrAny(e).IsAssignableFrom(elemOrAny(o.Elems[i])) {
			return false
		}
	}
	return true
}

// UnionType is one of several member types. Spelled "union(T1, T2)".
type UnionType struct{ Members []DataType }

func (u UnionType) String() string { return "union(" + joinTypes(u.Members) + ")" }

// IsAssignableFrom accepts a type that one member accepts, or a union all of
// whose members are accepted by some member.
func (u UnionType) IsAssignableFrom(other DataType) bool {
	other = unwrapNotation(other)
	if o, ok := other.(UnionType); ok {
		for _, om := range o.Members {
			if !u.IsAssignableFrom(om) {
				return false
			}
		}
		return true
	}
	for _, m := range u.Members {
		if elemOrAny(m).IsAssignableFrom(other) {
			return true
		}
	}
	return false
}

// EnumType is a string restricted to Symbols. Spelled "enum(A, B)". Values
// are plain strings in the data model.
type EnumType struct{ Symbols []string }

func (e EnumType) String() string {
	var b strings.Builder
	b.WriteString("enum(")
	for i, s := range e.Symbols {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case isLiteral(s):
			b.WriteString(s)
		case strings.IndexByte(s, '"') >= 0:
			b.WriteByte('\'')
			b.WriteString(s)
			b.WriteByte('\'')
		default:
			b.WriteByte('"')
			b.WriteString(s)
			b.WriteByte('"')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Has reports whether sym is one of the symbols.
func (e EnumType) Has(sym string) bool {
	for _, s := range e.Symbols {
		if s == sym {
			return true
		}
	}
	return false
}

// IsAssignableFrom accepts strings and enums, as upstream does at the type
// level; Convert checks the symbol of a value.
func (e EnumType) IsAssignableFrom(other DataType) bool {
	switch o := unwrapNotation(other).(type) {
	case EnumType:
		return true
	case Primitive:
		return o.Kind == KindString
	}
	return false
}

// WindowedType is a key of type Key together with its window. Spelled
// "windowed(T)".
type WindowedType struct{ Key DataType }

func (w WindowedType) String() string { return "windowed(" + typeString(w.Key) + ")" }

// IsAssignableFrom accepts windowed types whose key type Key accepts.
func (w WindowedType) IsAssignableFrom(other DataType) bool {
	o, ok := unwrapNotation(other).(WindowedType)
	return ok && elemOrAny(w.Key).IsAssignableFrom(elemOrAny(o.Key))
}

// NotationType is a notation named without a schema, such as "json",
// "binary" or "avro": the notation's default type. Default is that type as
// far as this package knows the notation (see NotationDefaultType); values are
// checked and converted against it.
type NotationType struct {
	Notation string
	Default  DataType
}

func (n NotationType) String() string { return n.Notation }

// IsAssignableFrom delegates to the default type.
func (n NotationType) IsAssignableFrom(other DataType) bool {
	return elemOrAny(n.Default).IsAssignableFrom(other)
}

// unwrapNotation replaces a NotationType by its default type, so the other
// types compare against what the notation holds.
func unwrapNotation(t DataType) DataType {
	for {
		n, ok := t.(NotationType)
		if !ok {
			return t
		}
		t = elemOrAny(n.Default)
	}
}

// elemOrAny treats a missing (nil) type as any.
func elemOrAny(t DataType) DataType {
	if t == nil {
		return Any
	}
	return t
}

func typeString(t DataType) string { return elemOrAny(t).String() }

func joinTypes(ts []DataType) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(typeString(t))
	}
	return b.String()
}

// DefaultNotation is the notation of a type written without one; the
// notation registry maps it to binary, as upstream does.
const DefaultNotation = "default"

// UserType is a type as a user declares it for a stream, store or function
// result: the notation its data is serialized with, plus the data type.
type UserType struct {
	Notation string
	Type     DataType
}

// String returns the canonical spelling, which parses back to an equal
// UserType.
func (u UserType) String() string {
	t := elemOrAny(u.Type)
	if u.Notation == "" || u.Notation == DefaultNotation {
		return t.String()
	}
	switch tt := t.(type) {
	case NotationType:
		if tt.Notation == u.Notation {
			return tt.String()
		}
	case StructType:
		if tt.Notation == u.Notation {
			return tt.String()
		}
		if tt.Notation == "" && tt.SchemaName != "" {
			return u.Notation + ":" + tt.SchemaName
		}
	}
	return u.Notation + ":" + t.String()
}

func isLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLiteralByte(s[i]) {
			return false
		}
	}
	return true
}

func isLiteralByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
