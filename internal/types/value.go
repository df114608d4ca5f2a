package types

import (
	"fmt"
	"strings"
)

// The data model: how KSML values are held in Go while they flow through the
// engine. Every package that touches record values uses these shapes:
//
//	null                 nil
//	boolean              bool
//	byte/short/int/long  int64 (the declared type decides the wire width)
//	float/double         float64
//	string, enum symbol  string
//	bytes                []byte
//	list                 []any
//	struct, map          *Struct (ordered; Schema is nil when schemaless)
//	tuple                Tuple
//	windowed(K)          Windowed
//
// A value may also be Deferred: a form that is cheaper to keep than to
// convert (raw JSON bytes, a live Python object). Code that needs to inspect a
// value in Go calls Resolve first; code that can consume the deferred form
// directly (a serializer, the Python bridge) checks for it and skips the
// conversion. That keeps the per-record path free of needless conversions.

// Deferred is a value whose Go form is produced only on demand.
type Deferred interface {
	// Resolve returns the value in the data model above.
	Resolve() (any, error)
}

// Resolve returns v in the data model, resolving a Deferred value.
func Resolve(v any) (any, error) {
	if d, ok := v.(Deferred); ok {
		return d.Resolve()
	}
	return v, nil
}

// Tuple is a fixed-size ordered group of values, such as a (key, value) pair.
type Tuple []any

// Windowed is a key with the window it belongs to; times are epoch millis.
type Windowed struct {
	Key   any
	Start int64
	End   int64
}

// Struct is an ordered string-keyed map. It backs both schemaless structs and
// map(T) values; Schema names the schema of schema-backed structs. The order
// of fields is the insertion order, so JSON output is stable.
type Struct struct {
	Schema *StructSchema
	keys   []string
	vals   []any
	index  map[string]int // built lazily once the struct grows past a few fields
}

// StructSchema identifies the schema of a schema-backed struct. Notation
// packages keep the parsed schema in Native.
type StructSchema struct {
	Notation  string // e.g. "avro"
	Name      string // fully qualified name, e.g. "io.axual.SensorData"
	Namespace string
	Native    any
}

// NewStruct returns an empty struct with room for n fields.
func NewStruct(n int) *Struct {
	return &Struct{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

const structIndexThreshold = 16

func (s *Struct) find(k string) int {
	if s.index != nil {
		if i, ok := s.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range s.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Len returns the number of fields.
func (s *Struct) Len() int { return len(s.keys) }

// Get returns the value of field k and whether it exists.
func (s *Struct) Get(k string) (any, bool) {
	if i := s.find(k); i >= 0 {
		return s.vals[i], true
	}
	return nil, false
}

// Set sets field k, appending it when new.
func (s *Struct) Set(k string, v any) {
	if i := s.find(k); i >= 0 {
		s.vals[i] = v
		return
	}
	s.keys = append(s.keys, k)
	s.vals = append(s.vals, v)
	if s.index != nil {
		s.index[k] = len(s.keys) - 1
	} else if len(s.keys) > structIndexThreshold {
		s.index = make(map[string]int, len(s.keys)*2)
		for i, key := range s.keys {
			s.index[key] = i
		}
	}
}

// Delete removes field k; it reports whether the field existed.
func (s *Struct) Delete(k string) bool {
	i := s.find(k)
	if i < 0 {
		return false
	}
	s.keys = append(s.keys[:i], s.keys[i+1:]...)
	s.vals = append(s.vals[:i], s.vals[i+1:]...)
	if s.index != nil {
		s.index = make(map[string]int, len(s.keys)*2)
		for j, key := range s.keys {
			s.index[key] = j
		}
	}
	return true
}

// Keys returns the field names in order. The slice must not be modified.
func (s *Struct) Keys() []string { return s.keys }

// Range calls fn for every field in order until fn returns false.
func (s *Struct) Range(fn func(k string, v any) bool) {
	for i, k := range s.keys {
		if !fn(k, s.vals[i]) {
			return
		}
	}
}

// KindName names the KSML kind of a data-model value for messages: null,
// boolean, long, double, string, bytes, list, tuple, struct ("struct
// <name>" when it has a schema) or map; any other Go value by its type.
func KindName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64, int, int32:
		return "long"
	case float64, float32:
		return "double"
	case string:
		return "string"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case *Struct:
		if x.Schema != nil {
			return "struct " + x.Schema.Name
		}
		return "struct"
	case map[string]any:
		return "map"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*")
}
