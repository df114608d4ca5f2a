package schemaregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/hamba/avro/v2"
)

// Memory is an in-memory registry with Confluent semantics: a schema gets one
// global id however many subjects it is registered under, and registering a
// schema that a subject already has returns the existing id without adding a
// version. Schemas are compared by their Avro canonical form when they parse
// as Avro, else by their compacted JSON text, so whitespace and doc changes do
// not create new ids.
//
// For the Apicurio API it also numbers every (subject, version) with a global
// id; the content id is the schema id.
//
// The zero value is not usable; create one with NewMemory. Safe for concurrent
// use.
type Memory struct {
	mu       sync.RWMutex
	texts    map[int]string // schema id -> text as first registered
	refs     map[int][]Reference
	ids      map[string]int   // canonical key -> schema id
	subjects map[string][]int // subject -> schema id per version (version = index+1)
	globals  []globalEntry    // global id -> (subject, version), global id = index+1
	nextID   int
}

type globalEntry struct {
	subject string
	version int
}

// NewMemory returns an empty registry whose first schema id is 1.
func NewMemory() *Memory {
	return &Memory{
		texts:    make(map[int]string),
		refs:     make(map[int][]Reference),
		ids:      make(map[string]int),
		subjects: make(map[string][]int),
		nextID:   1,
	}
}

// canonicalKey identifies a schema independent of formatting.
func canonicalKey(schema string) string {
	if s, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{}); err == nil {
		return "avro:" + s.String()
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(schema)); err == nil {
		return "json:" + buf.String()
	}
	return "text:" + schema
}

// SchemaByID returns the text of schema id.
func (m *Memory) SchemaByID(_ context.Context, id int) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	text, ok := m.texts[id]
	if !ok {
		return "", fmt.Errorf("schema id %d: %w", id, ErrNotFound)
	}
	return text, nil
}

// Latest returns the newest version of subject.
func (m *Memory) Latest(_ context.Context, subject string) (SubjectSchema, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	versions := m.subjects[subject]
	if len(versions) == 0 {
		return SubjectSchema{}, fmt.Errorf("subject %q: %w", subject, ErrNotFound)
	}
	id := versions[len(versions)-1]
	return SubjectSchema{Subject: subject, Version: len(versions), ID: id, Schema: m.texts[id]}, nil
}

// Version returns the given version of subject (1-based); -1 is the latest.
func (m *Memory) Version(ctx context.Context, subject string, version int) (SubjectSchema, error) {
	if version == -1 {
		return m.Latest(ctx, subject)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	versions := m.subjects[subject]
	if version < 1 || version > len(versions) {
		return SubjectSchema{}, fmt.Errorf("subject %q version %d: %w", subject, version, ErrNotFound)
	}
	id := versions[version-1]
	return SubjectSchema{Subject: subject, Version: version, ID: id, Schema: m.texts[id]}, nil
}

// Register adds schema to subject unless the subject already has it, and
// returns its id.
func (m *Memory) Register(_ context.Context, subject, schema string) (int, error) {
	id, _ := m.register(subject, schema)
	return id, nil
}

// RegisterVersion is Register that also returns the subject version holding
// the schema.
func (m *Memory) RegisterVersion(subject, schema string) (SubjectSchema, error) {
	id, version := m.register(subject, schema)
	return SubjectSchema{Subject: subject, Version: version, ID: id, Schema: m.text(id)}, nil
}

func (m *Memory) text(id int) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.texts[id]
}

// RegisterWithReferences is Register for a schema that uses named types of
// other subject versions; every reference must exist.
func (m *Memory) RegisterWithReferences(ctx context.Context, subject, schema string, refs []Reference) (int, error) {
	for _, r := range refs {
		if _, err := m.Version(ctx, r.Subject, r.Version); err != nil {
			return 0, fmt.Errorf("reference %s: %w", r.Name, err)
		}
	}
	id, _ := m.registerRefs(subject, schema, refs)
	return id, nil
}

// SchemaReferences returns the references schema id was registered with.
func (m *Memory) SchemaReferences(id int) []Reference {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.refs[id]
}

// References implements ReferenceResolver.
func (m *Memory) References(ctx context.Context, id int) ([]string, error) {
	return resolveReferences(ctx, m.SchemaReferences(id), func(ctx context.Context, r Reference) (string, []Reference, error) {
		s, err := m.Version(ctx, r.Subject, r.Version)
		if err != nil {
			return "", nil, err
		}
		return s.Schema, m.SchemaReferences(s.ID), nil
	})
}

// resolveReferences walks references depth first, dependencies first, each
// subject version once.
func resolveReferences(ctx context.Context, refs []Reference, fetch func(context.Context, Reference) (string, []Reference, error)) ([]string, error) {
	var out []string
	seen := map[Reference]bool{}
	var walk func(refs []Reference, depth int) error
	walk = func(refs []Reference, depth int) error {
		if depth > 32 {
			return fmt.Errorf("schema references nest deeper than 32")
		}
		for _, r := range refs {
			key := Reference{Subject: r.Subject, Version: r.Version}
			if seen[key] {
				continue
			}
			seen[key] = true
			text, sub, err := fetch(ctx, r)
			if err != nil {
				return fmt.Errorf("reference %s (subject %q version %d): %w", r.Name, r.Subject, r.Version, err)
			}
			if err := walk(sub, depth+1); err != nil {
				return err
			}
			out = append(out, text)
		}
		return nil
	}
	if err := walk(refs, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *Memory) register(subject, schema string) (id, version int) {
	return m.registerRefs(subject, schema, nil)
}

func (m *Memory) registerRefs(subject, schema string, refs []Reference) (id, version int) {
	key := canonicalKey(schema)
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.ids[key]
	if !ok {
		id = m.nextID
		m.nextID++
		m.ids[key] = id
		m.texts[id] = schema
		if len(refs) > 0 {
			m.refs[id] = refs
		}
	}
	versions := m.subjects[subject]
	if i := slices.Index(versions, id); i >= 0 {
		return id, i + 1
	}
	m.subjects[subject] = append(versions, id)
	m.globals = append(m.globals, globalEntry{subject: subject, version: len(versions) + 1})
	return id, len(versions) + 1
}

// Lookup returns the id of schema when subject has it.
func (m *Memory) Lookup(_ context.Context, subject, schema string) (int, error) {
	key := canonicalKey(schema)
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.ids[key]
	if !ok || !slices.Contains(m.subjects[subject], id) {
		return 0, fmt.Errorf("schema under subject %q: %w", subject, ErrNotFound)
	}
	return id, nil
}

// Subjects returns all subjects in sorted order.
func (m *Memory) Subjects() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.subjects))
	for s := range m.subjects {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Versions returns the version numbers of subject, oldest first.
func (m *Memory) Versions(subject string) []int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := len(m.subjects[subject])
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// GlobalID returns the Apicurio global id of a subject version.
func (m *Memory) GlobalID(subject string, version int) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, g := range m.globals {
		if g.subject == subject && g.version == version {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("subject %q version %d: %w", subject, version, ErrNotFound)
}

// ByGlobalID returns the subject version with the given Apicurio global id.
func (m *Memory) ByGlobalID(ctx context.Context, globalID int) (SubjectSchema, error) {
	m.mu.RLock()
	if globalID < 1 || globalID > len(m.globals) {
		m.mu.RUnlock()
		return SubjectSchema{}, fmt.Errorf("global id %d: %w", globalID, ErrNotFound)
	}
	g := m.globals[globalID-1]
	m.mu.RUnlock()
	return m.Version(ctx, g.subject, g.version)
}
