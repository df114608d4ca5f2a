// Package yamlspec reads YAML documents with their positions and checks
// them against field specs.
//
// Definitions, runner configurations and test suites are all YAML whose
// errors must name file:line:col. This package holds what they share: the
// position and diagnostic types, reading a document so that syntax errors
// point at the line to fix, following aliases and merge keys, finding
// duplicate keys, and describing nodes in messages. Spec and Field
// describe a document's accepted keys as data; a decoder checks keys
// against them and JSONSchema renders them, so the accepted language and
// its published schema cannot drift apart. A package whose values go
// beyond the built-in kinds (definitions: references to named or inline
// functions, stores and topics; operations) describes them in Field.Ext,
// reads that in its decoder and renders it through SchemaInfo.Kind.
//
// Nothing here stops at the first problem: functions report through a
// Collector, which keeps every diagnostic once, so a user sees all the
// problems of a file in one run.
package yamlspec
