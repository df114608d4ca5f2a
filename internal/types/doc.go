// Package types holds the KSML type system and the value data model.
//
// It parses the type grammar users write in definitions (keyType, valueType,
// resultType, into, parameter types) into DataType values, decides
// assignability between types, converts function results to a declared type
// and infers the type of a value. It knows notations only by name: loading
// schemas and serializing values is the job of the notation packages, so a
// schema reference such as "avro:SensorData" stays unresolved here. It also
// holds the JSON text codec of the data model, because the conversion rules
// (string to struct or list) need it.
//
// The type grammar, whitespace allowed between tokens:
//
//	type      = [notation ":"] body | notation
//	body      = primitive | "any" | "?" | "struct" | "map" | SchemaName
//	          | "[" type "]" | "list(" type ")" | "map(" type ")"
//	          | "(" type {"," type} ")" | "tuple(" type {"," type} ")"
//	          | "union(" type {"," type} ")" | "windowed(" type ")"
//	          | "enum(" symbol {"," symbol} ")"
//	primitive = "null" | "none" | "boolean" | "byte" | "short" | "int"
//	          | "integer" | "long" | "float" | "double" | "string" | "str"
//	          | "bytes"
//	symbol    = literal | '"' any text '"' | "'" any text "'"
//
// A notation prefix applies to everything inside it ("avro:windowed(Key)" is
// a windowed avro:Key), except primitives, which fall back to the default
// (binary) notation when the inherited one cannot hold them, as upstream
// does. A notation named alone ("json", "avro") is a NotationType standing
// for that notation's default type.
//
// Every function in this package is safe for concurrent use; bad input is
// reported as an error, never a panic.
package types
