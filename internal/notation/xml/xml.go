// Package xml is the xml notation: one XML document per record, mapped to
// a struct as upstream KSML maps it (Jackson's XML tree model).
//
// Reading: the root element's name is dropped and its content becomes the
// struct; attributes and child elements become fields by local name (a
// namespace prefix and xmlns declarations are not data); an element with
// only text is a string ("" when empty); an element with children or
// attributes is a nested struct, its own text (if any) under the field "";
// repeated elements with one name become a list. With a schema
// (`xml:SensorData` loads the element SensorData from SensorData.xsd), text
// is converted to the declared field types (xs:long to long, ...).
//
// Writing: an XML 1.1 declaration, then the root element named after the
// schema (else the value's schema name, else "Struct"), a child element per
// field in order, nulls as empty elements and lists as repeated elements.
// Records are written on one line; convertValue to a string indents by two
// spaces, as upstream's pretty printer does.
//
// Bad input never panics: malformed XML, an unknown schema element or a
// value that does not fit the schema is an error naming the problem.
package xml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

// NotationName is the name xml types use (xml:SensorData).
const NotationName = "xml"

// maxDepth bounds element nesting so hostile input cannot exhaust the stack.
const maxDepth = 256

// Notation is the xml notation over a schema loader.
type Notation struct {
	loader *Loader
}

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.Converter      = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
)

// New returns the xml notation loading schemas (.xsd) from dirs.
func New(dirs ...string) *Notation { return &Notation{loader: NewLoader(dirs...)} }

func init() {
	notation.RegisterFactory(NotationName, func(c notation.Config) (notation.Notation, error) {
		return New(c.SchemaDirs...), nil
	})
}

// Name returns "xml".
func (n *Notation) Name() string { return NotationName }

// Info says xml stands for a struct and takes an optional schema name.
func (n *Notation) Info() types.NotationInfo {
	return types.NotationInfo{Default: types.StructType{}, Schema: types.SchemaOptional}
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

// Serde returns the serde of a struct or map type; a schema name is loaded
// now, so a missing or broken schema fails at startup. Other types are
// refused, as upstream.
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
	case types.MapType, types.NotationType:
		return &Serde{}, nil
	}
	return nil, fmt.Errorf("notation xml holds structs and maps only, not %s", t)
}

// ConvertValue converts a struct to indented XML text when the target is a
// string, and XML text to a struct of an xml type.
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
		st, ok := r.(*types.Struct)
		if !ok {
			return nil, false, nil
		}
		b, err := encode(st, nil, true)
		if err != nil {
			return nil, false, err
		}
		return string(b), true, nil
	case types.StructType:
		if tt.Notation != NotationName {
			return nil, false, nil
		}
		var schema *Schema
		if tt.SchemaName != "" {
			var err error
			if schema, err = n.loader.Load(tt.SchemaName); err != nil {
				return nil, false, err
			}
		}
		s, ok := v.(string)
		if !ok {
			if schema == nil {
				return nil, false, nil
			}
			// A struct from another notation takes the schema: its field
			// types and its root element name.
			r, err := types.Resolve(v)
			if err != nil {
				return nil, false, err
			}
			st, isStruct := r.(*types.Struct)
			if !isStruct {
				return nil, false, nil
			}
			out, err := schema.Root.apply(st, schema.Name)
			if err != nil {
				return nil, false, fmt.Errorf("xml:%s: %w", schema.Name, err)
			}
			res := out.(*types.Struct)
			res.Schema = schema.StructSchema()
			return res, true, nil
		}
		out, err := decode([]byte(s), schema)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
	return nil, false, nil
}

// Serde reads and writes XML documents of one type.
type Serde struct {
	schema *Schema
}

// Schema returns the serde's schema, nil when schemaless.
func (s *Serde) Schema() *Schema { return s.schema }

// Serialize writes v (a struct) as an XML document on one line. Nil is nil.
func (s *Serde) Serialize(topic string, headers *[]notation.Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case *types.Struct:
		return encode(x, s.schema, false)
	}
	return nil, fmt.Errorf("xml cannot write %s: it holds structs only", types.TypeOf(v))
}

// Deserialize reads an XML document into a struct. Nil or empty bytes are
// nil.
func (s *Serde) Deserialize(topic string, headers []notation.Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	return decode(b, s.schema)
}

// node is an element being read.
type node struct {
	fields *types.Struct
	text   strings.Builder
	hasSub bool
}

// decode parses an XML document into the data model, converting to schema
// when given.
func decode(b []byte, schema *Schema) (*types.Struct, error) {
	v, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("could not parse XML: %w", err)
	}
	if schema == nil {
		return v, nil
	}
	out, err := schema.Root.apply(v, schema.Name)
	if err != nil {
		return nil, fmt.Errorf("xml:%s: %w", schema.Name, err)
	}
	st := out.(*types.Struct)
	st.Schema = schema.StructSchema()
	return st, nil
}

// parse reads the root element's content as a schemaless struct.
func parse(b []byte) (*types.Struct, error) {
	d := xml.NewDecoder(bytes.NewReader(skipDeclaration(b)))
	d.Strict = true
	var stack []*node
	var root *types.Struct
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("more than one root element")
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nest deeper than %d", maxDepth)
			}
			n := &node{fields: types.NewStruct(len(t.Attr))}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				add(n.fields, a.Name.Local, a.Value)
				n.hasSub = true
			}
			if len(stack) > 0 {
				stack[len(stack)-1].hasSub = true
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n.fields.Range(func(k string, fv any) bool {
				if r, ok := fv.(repeated); ok {
					n.fields.Set(k, []any(r))
				}
				return true
			})
			var v any
			text := n.text.String()
			if n.hasSub {
				if strings.TrimSpace(text) != "" {
					add(n.fields, "", text)
				}
				v = n.fields
			} else {
				v = text
			}
			if len(stack) == 0 {
				st, ok := v.(*types.Struct)
				if !ok {
					st = types.NewStruct(1)
					if text != "" {
						st.Set("", text)
					}
				}
				root = st
				continue
			}
			add(stack[len(stack)-1].fields, t.Name.Local, v)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// skipDeclaration drops a leading XML declaration: encoding/xml refuses
// version 1.1, which this notation writes, and the text is read as UTF-8
// whatever encoding it names.
func skipDeclaration(b []byte) []byte {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if !bytes.HasPrefix(t, []byte("<?xml")) || len(t) > 5 && t[5] != ' ' && t[5] != '\t' && t[5] != '\r' && t[5] != '\n' && t[5] != '?' {
		return b
	}
	end := bytes.Index(t, []byte("?>"))
	if end < 0 {
		return b
	}
	return t[end+2:]
}

// add sets field k, turning a repeated field into a list.
func add(st *types.Struct, k string, v any) {
	old, ok := st.Get(k)
	if !ok {
		st.Set(k, v)
		return
	}
	if r, isRep := old.(repeated); isRep {
		st.Set(k, append(r, v))
		return
	}
	st.Set(k, repeated{old, v})
}

// repeated marks a list built from repeated elements while parsing; it is
// turned into []any once the document is read.
type repeated []any

// encode writes st as a document; pretty indents by two spaces.
func encode(st *types.Struct, schema *Schema, pretty bool) ([]byte, error) {
	root := "Struct"
	var rootType *xsdType
	switch {
	case schema != nil:
		root, rootType = schema.Element, schema.Root
	case st.Schema != nil && st.Schema.Name != "":
		root = st.Schema.Name
		if i := strings.LastIndexByte(root, '.'); i >= 0 {
			root = root[i+1:]
		}
		if xs, ok := st.Schema.Native.(*Schema); ok {
			rootType = xs.Root
		}
	}
	w := &writer{pretty: pretty}
	w.buf = append(w.buf, "<?xml version='1.1' encoding='UTF-8'?>"...)
	if pretty {
		w.buf = append(w.buf, '\n')
	}
	if err := w.element(root, st, rootType, 0); err != nil {
		return nil, err
	}
	return w.buf, nil
}

type writer struct {
	buf    []byte
	pretty bool
}

func (w *writer) indent(depth int) {
	if w.pretty {
		w.buf = append(w.buf, '\n')
		for i := 0; i < depth; i++ {
			w.buf = append(w.buf, ' ', ' ')
		}
	}
}

func (w *writer) element(name string, v any, t *xsdType, depth int) error {
	if !validName(name) {
		return fmt.Errorf("xml cannot write a field named %q: not an XML element name", name)
	}
	if depth > maxDepth {
		return fmt.Errorf("value nests deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case []any:
		var elem *xsdType
		if t != nil && t.Kind == kindList {
			elem = t.Elem
		}
		for _, e := range x {
			if err := w.element(name, e, elem, depth); err != nil {
				return err
			}
		}
		return nil
	case types.Tuple:
		return w.element(name, []any(x), t, depth)
	}
	if depth > 0 {
		w.indent(depth)
	}
	switch x := v.(type) {
	case nil:
		w.buf = append(w.buf, '<')
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, "/>"...)
	case *types.Struct:
		entries := fieldsToWrite(x, t)
		w.buf = append(w.buf, '<')
		w.buf = append(w.buf, name...)
		if len(entries) == 0 {
			w.buf = append(w.buf, "/>"...)
			return nil
		}
		w.buf = append(w.buf, '>')
		children := 0
		for _, e := range entries {
			if e.name == "" { // text content, as read
				s, err := text(e.value)
				if err != nil {
					return err
				}
				w.buf = escape(w.buf, s)
				continue
			}
			children++
			if err := w.element(e.name, e.value, e.typ, depth+1); err != nil {
				return err
			}
		}
		if children > 0 {
			w.indent(depth)
		}
		w.buf = append(w.buf, "</"...)
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, '>')
	default:
		s, err := text(v)
		if err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
		w.buf = append(w.buf, '<')
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, '>')
		w.buf = escape(w.buf, s)
		w.buf = append(w.buf, "</"...)
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, '>')
	}
	return nil
}

type fieldEntry struct {
	name  string
	value any
	typ   *xsdType
}

// fieldsToWrite lists the fields of st as upstream turns a struct into the
// map it writes: with a schema, its fields only, required ones always (null
// when absent) and optional ones when present; without, every field. Keys
// are sorted as upstream's struct sorts them (see keyLess).
func fieldsToWrite(st *types.Struct, t *xsdType) []fieldEntry {
	var out []fieldEntry
	if t != nil && t.Kind == kindStruct {
		out = make([]fieldEntry, 0, len(t.Fields))
		for _, f := range t.Fields {
			v, ok := st.Get(f.Name)
			if ok || f.Required {
				out = append(out, fieldEntry{f.Name, v, f.Type})
			}
		}
	} else {
		out = make([]fieldEntry, 0, st.Len())
		st.Range(func(k string, v any) bool {
			out = append(out, fieldEntry{name: k, value: v})
			return true
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return keyLess(out[i].name, out[j].name) })
	return out
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

// validName reports whether s is an XML element name (no prefix).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 0x7f && r != utf8.RuneError:
		case i > 0 && (r == '-' || r == '.' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(s), "xml") || len(s) > 3
}

// escape appends s as XML text: & and < always, > after "]]", and control
// characters as character references.
func escape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>' && i >= 2 && s[i-1] == ']' && s[i-2] == ']':
			dst = append(dst, "&gt;"...)
		case c < 0x20 && c != '\t' && c != '\n':
			dst = append(dst, "&#"...)
			dst = strconv.AppendInt(dst, int64(c), 10)
			dst = append(dst, ';')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// text renders a primitive as upstream's toString does; bytes as base64.
func text(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return string(types.AppendJavaFloat(nil, x, 64)), nil
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	}
	return "", fmt.Errorf("cannot write %s as XML text", types.TypeOf(v))
}
