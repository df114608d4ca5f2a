package avro

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

// Schema is a parsed Avro schema with the text it came from. The text is what
// gets registered in a schema registry, so docs and defaults survive.
type Schema struct {
	Avro avro.Schema
	Text string
	// Source names where the schema came from (a file path or a registry
	// subject), for error messages.
	Source string
}

// Name returns the full name of a named schema, else its type.
func (s *Schema) Name() string { return typeName(s.Avro) }

// ParseSchema parses Avro schema text. Each call uses its own name cache, so
// two versions of a record with the same name never clash.
func ParseSchema(text, source string) (*Schema, error) {
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%s: invalid Avro schema: %w", source, err)
	}
	return &Schema{Avro: s, Text: text, Source: source}, nil
}

// Loader loads `avro:Name` schemas from schema directories, as upstream does:
// the file is `<Name>.avsc`, and a dotted name `a.b.C` tries `a.b.C.avsc`,
// then `b.C.avsc`, then `C.avsc`; every candidate is tried in each directory
// in order. A schema that refers to a named type it does not define gets that
// type loaded from the directories by the same rule, so records may be split
// over files. Loaded schemas are cached. Safe for concurrent use.
type Loader struct {
	files notation.SchemaFiles
	mu    sync.Mutex
	cache map[string]*Schema
}

// NewLoader returns a loader over dirs; with no dirs it reads the working
// directory.
func NewLoader(dirs ...string) *Loader {
	return &Loader{files: notation.NewSchemaFiles("avro", ".avsc", dirs), cache: make(map[string]*Schema)}
}

// Dirs returns the directories searched, in order.
func (l *Loader) Dirs() []string { return l.files.Dirs() }

// refsLoaded is a key in the loading set that records that another file was
// needed; it cannot clash with a path.
const refsLoaded = "\x00refs"

// validSchemaName keeps schema names from reaching outside the schema
// directories.
var validSchemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

var unknownType = regexp.MustCompile(`unknown type: ([A-Za-z_][A-Za-z0-9_.]*)$`)

// Load returns the schema named name. It fails when no file matches, the file
// does not parse, or a referenced type cannot be found.
func (l *Loader) Load(name string) (*Schema, error) {
	if !validSchemaName.MatchString(name) {
		return nil, fmt.Errorf("avro schema name %q is not a valid Avro name (letters, digits, _ and dots)", name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.cache[name]; ok {
		return s, nil
	}
	f, err := l.files.Find(name)
	if err != nil {
		return nil, err
	}
	path := f.Path
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("avro schema %q: %w", name, err)
	}
	refs := &avro.SchemaCache{}
	loading := map[string]bool{path: true}
	s, err := l.parseResolving(string(data), path, refs, loading)
	if err != nil {
		return nil, err
	}
	out := &Schema{Avro: s, Text: string(data), Source: path}
	if loading[refsLoaded] {
		// The registry needs one self-contained document.
		if full, err := json.Marshal(s); err == nil {
			out.Text = string(full)
		}
	}
	l.cache[name] = out
	return out, nil
}

// parseResolving parses text, loading unknown named types from the schema
// directories into refs and retrying.
func (l *Loader) parseResolving(text, path string, refs *avro.SchemaCache, loading map[string]bool) (avro.Schema, error) {
	var lastMissing string
	for {
		cache := &avro.SchemaCache{}
		cache.AddAll(refs)
		s, err := avro.ParseWithCache(text, "", cache)
		if err == nil {
			return s, nil
		}
		m := unknownType.FindStringSubmatch(err.Error())
		if m == nil || m[1] == lastMissing {
			return nil, fmt.Errorf("%s: invalid Avro schema: %w", path, err)
		}
		lastMissing = m[1]
		refFile, _ := l.files.Find(m[1]) // not found: refFile.Path is ""
		refPath := refFile.Path
		if refPath == "" || loading[refPath] {
			return nil, fmt.Errorf("%s: invalid Avro schema: %w (no %s.avsc in %s)", path, err, m[1], strings.Join(l.files.Dirs(), ", "))
		}
		data, rerr := os.ReadFile(refPath)
		if rerr != nil {
			return nil, fmt.Errorf("%s: referenced type %s: %w", path, m[1], rerr)
		}
		loading[refPath] = true
		ref, rerr := l.parseResolving(string(data), refPath, refs, loading)
		delete(loading, refPath)
		if rerr != nil {
			return nil, rerr
		}
		addNamed(refs, ref, m[1])
		loading[refsLoaded] = true
	}
}

// addNamed adds s and the named types inside it to cache, also under the
// name it was referred to by when that differs from its full name.
func addNamed(cache *avro.SchemaCache, s avro.Schema, referredAs string) {
	if n, ok := s.(avro.NamedSchema); ok {
		cache.Add(n.FullName(), s)
		if referredAs != "" && referredAs != n.FullName() {
			cache.Add(referredAs, s)
		}
	}
	walkNamed(s, map[avro.Schema]bool{}, func(n avro.NamedSchema) { cache.Add(n.FullName(), n) })
}

func walkNamed(s avro.Schema, seen map[avro.Schema]bool, fn func(avro.NamedSchema)) {
	s = deref(s)
	if seen[s] {
		return
	}
	seen[s] = true
	switch s := s.(type) {
	case *avro.RecordSchema:
		fn(s)
		for _, f := range s.Fields() {
			walkNamed(f.Type(), seen, fn)
		}
	case *avro.EnumSchema:
		fn(s)
	case *avro.FixedSchema:
		fn(s)
	case *avro.ArraySchema:
		walkNamed(s.Items(), seen, fn)
	case *avro.MapSchema:
		walkNamed(s.Values(), seen, fn)
	case *avro.UnionSchema:
		for _, b := range s.Types() {
			walkNamed(b, seen, fn)
		}
	}
}

// SchemaNames lists the `.avsc` base names in the loader's directories, for
// messages that suggest what exists.
func (l *Loader) SchemaNames() []string {
	var out []string
	for _, dir := range l.files.Dirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type()&fs.ModeType == 0 && strings.HasSuffix(e.Name(), ".avsc") {
				out = append(out, strings.TrimSuffix(e.Name(), ".avsc"))
			}
		}
	}
	sort.Strings(out)
	return out
}

// structSchemas caches the StructSchema of each record schema, so decoded
// records share one.
var structSchemas sync.Map // *avro.RecordSchema -> *types.StructSchema

func structSchemaOf(rs *avro.RecordSchema) *types.StructSchema {
	if v, ok := structSchemas.Load(rs); ok {
		return v.(*types.StructSchema)
	}
	s := &types.StructSchema{Notation: NotationName, Name: rs.FullName(), Namespace: rs.Namespace(), Native: rs}
	v, _ := structSchemas.LoadOrStore(rs, s)
	return v.(*types.StructSchema)
}

// defaultValue converts a field default as hamba holds it into the data
// model, shaped by the field schema s.
func defaultValue(s avro.Schema, v any) (any, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		// A union default is a value of its first branch.
		return defaultValue(u.Types()[0], v)
	}
	if v == nil {
		if s.Type() == avro.Null {
			return nil, nil
		}
		return nil, errors.New("null default for non-null type")
	}
	switch s := s.(type) {
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%v is not a boolean", v)
			}
			return b, nil
		case avro.Int, avro.Long:
			return toInt64(v)
		case avro.Float, avro.Double:
			return toFloat64(v)
		case avro.String:
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", v)
			}
			return str, nil
		case avro.Bytes:
			b, ok := v.([]byte)
			if !ok {
				if str, isStr := v.(string); isStr {
					b = []byte(str)
				} else {
					return nil, fmt.Errorf("%v is not bytes", v)
				}
			}
			if dec, ok := decimalOf(s); ok {
				return decimalString(b, dec.Scale()), nil
			}
			return b, nil
		}
	case *avro.FixedSchema:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case *avro.EnumSchema:
		if str, ok := v.(string); ok {
			return str, nil
		}
	case *avro.ArraySchema:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not an array", v)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			ev, err := defaultValue(s.Items(), e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case *avro.MapSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a map", v)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := types.NewStruct(len(keys))
		for _, k := range keys {
			ev, err := defaultValue(s.Values(), m[k])
			if err != nil {
				return nil, err
			}
			out.Set(k, ev)
		}
		return out, nil
	case *avro.RecordSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a record", v)
		}
		out := types.NewStruct(len(s.Fields()))
		out.Schema = structSchemaOf(s)
		for _, f := range s.Fields() {
			fv, present := m[f.Name()]
			if !present {
				if !f.HasDefault() {
					return nil, fmt.Errorf("record default lacks field %s", f.Name())
				}
				fv = f.Default()
			}
			ev, err := defaultValue(f.Type(), fv)
			if err != nil {
				return nil, err
			}
			out.Set(f.Name(), ev)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported default %v for %s", v, s.Type())
}

func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func toFloat64(v any) (float64, error) {
	switch n := v.(type) {
	case float32:
		return float64(n), nil
	case float64:
		return n, nil
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}
