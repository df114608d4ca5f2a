// Package types holds the KSML type system and the value data model.
//
// It parses the type grammar users write in definitions (keyType, valueType,
// resultType, into, parameter types) into DataType values, decides
// assignability between types, converts function results to a declared type
// and infers the type of a value. It knows notations only by name: loading
// schemas and serializing values is the job of the notation packages, so a
// schema reference such as "avro:SensorData" stays unresolved here.
//
// Every function in this package is pure and safe for concurrent use; bad
// input is reported as an error, never a panic.
package types
