// Package schemaregistry talks to schema registries: the Confluent REST API
// (through franz-go's sr client), the Apicurio Registry v3 REST API, and an
// in-memory, Confluent-compatible registry that the test runner uses in place
// of a real one. It also serves the Confluent and Apicurio REST subsets over
// HTTP from the in-memory registry (Handler), so clients are tested with a real
// HTTP round trip and a local `ksml run` can be pointed at a registry without
// any other process.
//
// Registries only store and hand out schema text; parsing the text is the job
// of the notation that uses it. Every call either returns a result or an
// error; a subject or id the registry does not know yields an error that
// matches ErrNotFound with errors.Is.
package schemaregistry

import (
	"context"
	"errors"
)

// ErrNotFound is matched (errors.Is) by errors for an unknown schema id or
// subject.
var ErrNotFound = errors.New("not found in schema registry")

// SubjectSchema is one version of a subject: the id the serializer writes
// into records and the schema text.
type SubjectSchema struct {
	Subject string
	Version int
	ID      int
	Schema  string
}

// Registry is what a serde needs from a schema registry. The ids are the ones
// that go on the wire: Confluent schema ids, or Apicurio content ids or global
// ids as the Apicurio client is configured.
//
// Implementations are safe for concurrent use. They do not cache; callers
// that sit on a hot path keep their own id cache (ids are immutable).
type Registry interface {
	// SchemaByID returns the schema text registered under id.
	SchemaByID(ctx context.Context, id int) (string, error)
	// Latest returns the newest version of subject.
	Latest(ctx context.Context, subject string) (SubjectSchema, error)
	// Register registers schema under subject, or finds it when it is
	// already registered there, and returns its id.
	Register(ctx context.Context, subject, schema string) (int, error)
	// Lookup returns the id of schema when it is registered under subject,
	// without registering it.
	Lookup(ctx context.Context, subject, schema string) (int, error)
}

// Reference is a named type a schema takes from another subject version
// (Confluent schema references).
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// ReferenceResolver is implemented by registries whose schemas may reference
// schemas of other subjects.
type ReferenceResolver interface {
	// References returns the texts of the schemas that schema id references,
	// transitively, each dependency before the schemas that use it; empty
	// when it references none.
	References(ctx context.Context, id int) ([]string, error)
}
