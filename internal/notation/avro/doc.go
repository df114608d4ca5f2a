// Package avro is the Avro notation: `avro:Schema` types loaded from schema
// directories, bare `avro` types resolved from a schema registry, and serdes
// for the Confluent and Apicurio wire formats (the notations `avro`,
// `confluent_avro` and `apicurio_avro`).
//
// Values are in the data model of package types. A record becomes a
// *types.Struct whose Schema has Notation "avro", Name the record's full name
// and Native the record's *avro.RecordSchema (hamba/avro); field order is the
// schema's. Enums are strings, arrays []any, maps schemaless *types.Struct,
// bytes and fixed []byte, int and long int64, float and double float64.
// Logical types are presented as upstream KSML 2.0 presents them: date, the
// times and the timestamps as their int64 base value, uuid as a string, and a
// bytes-backed decimal as a plain decimal string ("123.45"); a fixed-backed
// decimal stays bytes.
//
// The binary codec is our own, driven by hamba/avro's parsed schemas, so that
// schema resolution (writer schema by registry id, reader schema declared by
// the user) is applied in one pass, errors name the field, and corrupt input
// is an error rather than a panic.
package avro
