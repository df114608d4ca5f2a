// Package csv is the csv notation: one CSV line per record, read into a
// struct whose fields a schema file names (`csv:SensorData` loads
// SensorData.csv, a single header line of field names) or, without a
// schema, into a list of strings.
//
// It reproduces upstream KSML's CSV mapping: every value is a string; a line
// shorter than the schema leaves the missing fields "" and a longer one has
// its extra columns ignored; lines starting with '#' and empty lines are
// skipped and only the first record is read. Written lines quote every
// field, double inner quotes (RFC 4180) and end without a line feed.
// A struct without a schema is written in upstream's sorted field order
// (keys starting with '@' last).
//
// Bad input never panics: text that is not CSV is an error naming the
// problem, and a value that is neither a struct nor a list is refused.
package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

// NotationName is the name csv types use (csv:SensorData).
const NotationName = "csv"

// Schema is a parsed CSV schema: the field names of the header line.
type Schema struct {
	Name   string
	Fields []string
	// Source is the file the schema came from, for error messages.
	Source string

	describeOnce sync.Once
	description  *types.Struct // PythonMeta's "@schema"
}

// ParseSchema parses the text of a .csv schema file: its first CSV record
// names the fields. Text without a record, or with an empty or duplicate
// field name, is an error naming source.
func ParseSchema(name, text, source string) (*Schema, error) {
	fields, err := readLine([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%s: invalid CSV schema: %w", source, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%s: invalid CSV schema: no header line of field names", source)
	}
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("%s: invalid CSV schema: field %d has no name", source, i+1)
		}
		if seen[f] {
			return nil, fmt.Errorf("%s: invalid CSV schema: field %q appears twice", source, f)
		}
		seen[f] = true
		fields[i] = f
	}
	return &Schema{Name: name, Fields: fields, Source: source}, nil
}

// StructSchema returns the schema as values carry it.
func (s *Schema) StructSchema() *types.StructSchema {
	ns := ""
	if i := strings.LastIndexByte(s.Name, '.'); i >= 0 {
		ns = s.Name[:i]
	}
	return &types.StructSchema{Notation: NotationName, Name: s.Name, Namespace: ns, Native: s}
}

// Loader loads `csv:Name` schemas from schema directories: Name.csv, and for
// a dotted name a.b.C also b.C.csv and C.csv, each tried in every directory
// in order. Loaded schemas are cached. Its Load fails when the name is not a
// valid schema name, no file matches, or the file is not a CSV header line.
type Loader = notation.SchemaLoader[*Schema]

// NewLoader returns a loader over dirs; with none it reads the working
// directory.
func NewLoader(dirs ...string) *Loader {
	return notation.NewSchemaLoader(notation.NewSchemaFiles(NotationName, ".csv", dirs),
		func(name string, f notation.SchemaFile, data []byte) (*Schema, error) {
			return ParseSchema(name, string(data), f.Path)
		})
}

// Notation is the csv notation over a schema loader.
type Notation struct {
	loader *Loader
}

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.Converter      = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
)

// New returns the csv notation loading schemas from dirs.
func New(dirs ...string) *Notation { return &Notation{loader: NewLoader(dirs...)} }

func init() {
	notation.RegisterFactory(NotationName, func(c notation.Config) (notation.Notation, error) {
		return New(c.SchemaDirs...), nil
	})
}

// Name returns "csv".
func (n *Notation) Name() string { return NotationName }

// Info says csv stands for union(struct, list) and requires a schema name.
func (n *Notation) Info() types.NotationInfo {
	return types.NotationInfo{
		Default: types.UnionType{Members: []types.DataType{types.StructType{}, types.ListType{Elem: types.Any}}},
		Schema:  types.SchemaRequired,
	}
}

// Loader returns the schema loader.
func (n *Notation) Loader() *Loader { return n.loader }

// StructSchema implements notation.SchemaResolver.
func (n *Notation) StructSchema(t types.StructType) (*types.StructSchema, error) {
	s, err := n.loader.Load(t.SchemaName)
	if err != nil {
		return nil, err
	}
	return s.StructSchema(), nil
}

// Serde returns the serde of a struct (with a schema: csv:Name), a list or
// their union. A schema that cannot be loaded is an error now, so a broken
// definition fails at startup. Other types are refused, as upstream.
func (n *Notation) Serde(t types.DataType, isKey bool) (notation.Serde, error) {
	switch tt := t.(type) {
	case types.StructType:
		if tt.SchemaName == "" {
			return &Serde{}, nil
		}
		s, err := n.loader.Load(tt.SchemaName)
		if err != nil {
			return nil, err
		}
		return &Serde{schema: s}, nil
	case types.ListType, types.UnionType, types.NotationType:
		return &Serde{}, nil
	}
	return nil, fmt.Errorf("notation csv holds structs and lists only, not %s", t)
}

// ConvertValue converts CSV text to a struct (with the target's schema) or
// a list, and a struct or list to CSV text when the target is a string.
func (n *Notation) ConvertValue(v any, to types.DataType) (any, bool, error) {
	switch tt := to.(type) {
	case types.Primitive:
		if tt.Kind != types.KindString {
			return nil, false, nil
		}
		r, err := types.Resolve(v)
		if err != nil {
			return nil, false, err
		}
		switch r.(type) {
		case *types.Struct, []any:
			b, err := (&Serde{}).Serialize("", nil, r)
			if err != nil {
				return nil, false, err
			}
			return string(b), true, nil
		}
		return nil, false, nil
	case types.StructType, types.ListType, types.UnionType:
		s, ok := v.(string)
		if !ok {
			return n.adopt(v, tt)
		}
		var schema *Schema
		if st, isStruct := tt.(types.StructType); isStruct {
			if st.Notation != NotationName && st.Notation != "" {
				return nil, false, nil
			}
			if st.SchemaName != "" {
				var err error
				if schema, err = n.loader.Load(st.SchemaName); err != nil {
					return nil, false, err
				}
			}
		}
		out, err := decode([]byte(s), schema)
		if err != nil {
			return nil, false, err
		}
		if out == nil {
			out = []any{}
		}
		return out, true, nil
	}
	return nil, false, nil
}

// adopt gives a struct converted into csv:Name the schema's fields, in its
// order and as text, as upstream's conversion to a schema'd struct does.
func (n *Notation) adopt(v any, to types.DataType) (any, bool, error) {
	st, ok := to.(types.StructType)
	if !ok || st.Notation != NotationName || st.SchemaName == "" {
		return nil, false, nil
	}
	r, err := types.Resolve(v)
	if err != nil {
		return nil, false, err
	}
	in, ok := r.(*types.Struct)
	if !ok {
		return nil, false, nil
	}
	schema, err := n.loader.Load(st.SchemaName)
	if err != nil {
		return nil, false, err
	}
	out := types.NewStruct(len(schema.Fields))
	out.Schema = schema.StructSchema()
	for _, f := range schema.Fields {
		fv, _ := in.Get(f)
		if fv == nil {
			out.Set(f, "")
			continue
		}
		s, err := text(fv)
		if err != nil {
			return nil, false, fmt.Errorf("csv field %q: %w", f, err)
		}
		out.Set(f, s)
	}
	return out, true, nil
}

// Serde reads and writes one CSV line. With a schema, values are structs
// of the schema's fields; without, lists of strings (a struct is written in
// sorted field order).
type Serde struct {
	schema *Schema
}

// schemaOf returns the CSV schema a struct carries.
func schemaOf(st *types.Struct) (*Schema, bool) {
	if st.Schema == nil {
		return nil, false
	}
	cs, ok := st.Schema.Native.(*Schema)
	return cs, ok
}

// Schema returns the serde's schema, nil when schemaless.
func (s *Serde) Schema() *Schema { return s.schema }

// Serialize writes v (a struct or list) as one CSV line. Nil is nil.
func (s *Serde) Serialize(topic string, headers *[]notation.Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	var fields []string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *types.Struct:
		names := x.Keys()
		if s.schema != nil {
			names = s.schema.Fields
		} else if cs, ok := schemaOf(x); ok {
			names = cs.Fields
		} else {
			names = append([]string(nil), names...)
			sort.Slice(names, func(i, j int) bool { return keyLess(names[i], names[j]) })
		}
		fields = make([]string, len(names))
		for i, k := range names {
			fv, _ := x.Get(k)
			if fv == nil {
				continue // "" as upstream writes a missing field
			}
			if fields[i], err = text(fv); err != nil {
				return nil, fmt.Errorf("csv field %q: %w", k, err)
			}
		}
	case []any:
		fields = make([]string, len(x))
		for i, e := range x {
			if fields[i], err = text(e); err != nil {
				return nil, fmt.Errorf("csv element %d: %w", i, err)
			}
		}
	default:
		return nil, fmt.Errorf("csv cannot write %s: it holds structs and lists only", types.TypeOf(v))
	}
	return appendLine(nil, fields), nil
}

// Deserialize reads the first CSV record of b. Nil or empty bytes are nil.
func (s *Serde) Deserialize(topic string, headers []notation.Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v, err := decode(b, s.schema)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return []any{}, nil // only comments or empty lines, as upstream's empty list
	}
	return v, nil
}

// decode reads the first record of b into a struct of schema's fields, or a
// list of strings when schema is nil. It returns nil when b holds no record.
func decode(b []byte, schema *Schema) (any, error) {
	line, err := readLine(b)
	if err != nil {
		return nil, fmt.Errorf("could not parse CSV: %w", err)
	}
	if line == nil {
		if schema == nil {
			return nil, nil
		}
		line = []string{}
	}
	if schema == nil {
		out := make([]any, len(line))
		for i, f := range line {
			out[i] = f
		}
		return out, nil
	}
	st := types.NewStruct(len(schema.Fields))
	st.Schema = schema.StructSchema()
	for i, name := range schema.Fields {
		v := ""
		if i < len(line) {
			v = line[i]
		}
		st.Set(name, v)
	}
	return st, nil
}

// readLine returns the first record of b, skipping empty lines and lines
// starting with '#'; nil when there is none.
func readLine(b []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.LazyQuotes = true
	rec, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// keyLess orders struct keys as upstream's data structs do: the empty key
// first, keys starting with '@' last, lexicographic otherwise.
func keyLess(a, b string) bool {
	if a == "" || b == "" {
		return a == "" && b != ""
	}
	ma, mb := a[0] == '@', b[0] == '@'
	if ma != mb {
		return mb
	}
	return a < b
}

// appendLine writes fields quoted, inner quotes doubled, without a line
// feed.
func appendLine(dst []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		for j := 0; j < len(f); j++ {
			if f[j] == '"' {
				dst = append(dst, '"')
			}
			dst = append(dst, f[j])
		}
		dst = append(dst, '"')
	}
	return dst
}

// text renders a field value as upstream's toString does for primitives;
// nested structs and lists are written as JSON text.
func text(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return string(types.AppendJavaFloat(nil, x, 64)), nil
	case []byte:
		return string(x), nil
	}
	b, err := types.MarshalJSON(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
