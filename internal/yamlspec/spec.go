package yamlspec

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind is what a field's value must be.
type Kind int

const (
	// String is any scalar, read as text.
	String Kind = iota
	// Bool is true or false, in any case, quoted or not (as Jackson reads
	// them).
	Bool
	// Int is an integer.
	Int
	// Port is an integer from 1 to 65535.
	Port
	// Duration is an integer number of milliseconds or <n>ms|s|m|h|d|w.
	Duration
	// Enum is one of Field.Enum.
	Enum
	// Scalar is a string, number or boolean, kept as written.
	Scalar
	// Object is a mapping with the keys of Field.Object.
	Object
	// Map is a mapping with keys of the user's choosing and values as
	// Field.Elem.
	Map
	// Any is any value; the decoder checks it (e.g. an inline document of
	// another kind).
	Any
	// List is a sequence of Field.Elem values.
	List
)

// Field is one key of an object, or the shape of a map's values.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	Doc      string
	Enum     []string // Enum
	Object   *Spec    // Object
	Elem     *Field   // Map, List
	// Schema, when set, is the field's JSON schema instead of the one its
	// kind yields (for values a kind cannot say, e.g. a duration or "off").
	Schema map[string]any
	// Ext is the owning package's own description of the value (e.g. a
	// reference to a named function or an inline one). yamlspec never
	// reads it; the package's decoder and its SchemaInfo.Kind hook do.
	Ext any
}

// Spec describes a mapping: its known keys and, with Extra, the shape of
// any other key's value. Without Extra, other keys are errors.
type Spec struct {
	Name   string // the name of its JSON schema definition
	Doc    string
	Fields []Field
	Extra  *Field
}

// Field returns the field called name, or nil.
func (s *Spec) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Names lists the field names in spec order.
func (s *Spec) Names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// UnknownKey reports key k, found in the mapping at path ("" for the top
// level), as not one of names, suggesting the closest name when it looks
// like a typo and listing them all otherwise.
func UnknownKey(c *Collector, file string, k *yaml.Node, path string, names []string) {
	where := "in " + path
	if path == "" {
		where = "at the top level"
	}
	if s := Suggest(k.Value, names); s != "" {
		c.Add(At(file, k), "unknown key %q %s (did you mean %q?)", k.Value, where, s)
		return
	}
	c.Add(At(file, k), "unknown key %q %s (known keys: %s)", k.Value, where, strings.Join(names, ", "))
}

// Suggest returns the known name closest to name, or "" when none is close
// enough to be a likely typo: a different case, an edit distance of at
// most a third of the name (at least 2), or a prefix of four or more
// characters either way ("schemaRegistr", "enabledd").
func Suggest(name string, known []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == lname {
			return k
		}
		d := EditDistance(lname, strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	limit := max(len(name)/3, 2)
	if bestDist <= limit {
		return best
	}
	for _, k := range known {
		lk := strings.ToLower(k)
		if len(lname) >= 4 && (strings.HasPrefix(lk, lname) || strings.HasPrefix(lname, lk)) {
			return k
		}
	}
	return ""
}

// EditDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours
// ("vai" for "via") each cost one. Strings over 64 bytes are compared
// only for equality (distance 0 or 1<<20), so hostile input stays cheap.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
