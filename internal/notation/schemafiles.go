package notation

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// validSchemaName keeps schema names from reaching outside the schema
// directories.
var validSchemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$`)

// SchemaFiles finds the file of a named schema in the schema directories the
// way upstream KSML does: `Name<ext>`, and for a dotted name a.b.C also
// `b.C<ext>` and `C<ext>`, each candidate tried in every directory in order.
// Every schema notation (avro, csv, xml, jsonschema, protobuf) uses it, so
// they agree on where a schema is found and on how a miss is reported.
type SchemaFiles struct {
	notation string
	ext      string
	dirs     []string
}

// SchemaFile is a schema file found by SchemaFiles.Find.
type SchemaFile struct {
	Path string // Dir joined with Base
	Dir  string // the schema directory it was found in
	Base string // the candidate name with its extension, e.g. "C.avsc"
}

// NewSchemaFiles searches dirs (the working directory when there are none)
// for files ending in ext (with its dot) of the named notation.
func NewSchemaFiles(notation, ext string, dirs []string) SchemaFiles {
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	return SchemaFiles{notation: notation, ext: ext, dirs: dirs}
}

// Dirs returns the directories searched, in order.
func (f SchemaFiles) Dirs() []string { return f.dirs }

// SchemaCandidates lists the file base names (without extension) tried for
// name: the name, then the name without each leading dotted part.
func SchemaCandidates(name string) []string {
	out := []string{name}
	for {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return out
		}
		name = name[i+1:]
		out = append(out, name)
	}
}

// Find returns the first regular file that holds schema name. It fails when
// the name is not a valid schema name (letters, digits, _, - and dots) or
// when no candidate exists, naming every path tried.
func (f SchemaFiles) Find(name string) (SchemaFile, error) {
	if !validSchemaName.MatchString(name) {
		return SchemaFile{}, fmt.Errorf("%s schema name %q is not valid (letters, digits, _, - and dots)", f.notation, name)
	}
	var tried []string
	for _, c := range SchemaCandidates(name) {
		for _, dir := range f.dirs {
			p := filepath.Join(dir, c+f.ext)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return SchemaFile{Path: p, Dir: dir, Base: c + f.ext}, nil
			}
			tried = append(tried, p)
		}
	}
	return SchemaFile{}, fmt.Errorf("%s schema %q not found (tried %s)", f.notation, name, strings.Join(tried, ", "))
}

// SchemaCache keeps loaded schemas by name. Safe for concurrent use; a load
// runs under the cache's lock, so each schema is loaded once.
type SchemaCache[S any] struct {
	mu sync.Mutex
	m  map[string]S
}

// Get returns the schema cached under name, or loads, caches and returns
// it. A failed load is not cached.
func (c *SchemaCache[S]) Get(name string, load func() (S, error)) (S, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[name]; ok {
		return s, nil
	}
	s, err := load()
	if err != nil {
		return s, err
	}
	if c.m == nil {
		c.m = map[string]S{}
	}
	c.m[name] = s
	return s, nil
}

// SchemaLoader loads the named schemas of one notation: it finds each
// file with SchemaFiles, reads it, parses it and caches the result. Safe
// for concurrent use.
type SchemaLoader[S any] struct {
	files SchemaFiles
	cache SchemaCache[S]
	parse func(name string, f SchemaFile, data []byte) (S, error)
}

// NewSchemaLoader returns a loader over files that turns a file's content
// into a schema with parse.
func NewSchemaLoader[S any](files SchemaFiles, parse func(name string, f SchemaFile, data []byte) (S, error)) *SchemaLoader[S] {
	return &SchemaLoader[S]{files: files, parse: parse}
}

// Load returns the schema named name. It fails when the name is not valid,
// no file matches (naming every path tried), the file cannot be read, or
// parse fails; failures are not cached.
func (l *SchemaLoader[S]) Load(name string) (S, error) {
	return l.cache.Get(name, func() (S, error) {
		f, err := l.files.Find(name)
		if err != nil {
			var zero S
			return zero, err
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			var zero S
			return zero, fmt.Errorf("%s schema %q: %w", l.files.notation, name, err)
		}
		return l.parse(name, f, data)
	})
}

// Dirs returns the directories searched, in order.
func (l *SchemaLoader[S]) Dirs() []string { return l.files.Dirs() }
