package xml

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

// This file reads XML Schema (.xsd) files into the field layout upstream
// derives from them: the named top-level element is a struct of the
// elements of its complexType's sequence; xs:string, xs:boolean, xs:byte,
// xs:short, xs:int, xs:integer, xs:long, xs:float, xs:double,
// xs:base64Binary and xs:anyType map to the KSML primitives; a simpleType
// restriction is an enum (a string), a simpleType list a list, a
// complexType a nested struct; maxOccurs above 1 makes a list.

type kind uint8

const (
	kindAny kind = iota
	kindPrimitive
	kindStruct
	kindList
)

// xsdType is the KSML shape of an XSD type.
type xsdType struct {
	Kind   kind
	Prim   types.Kind // for kindPrimitive
	Name   string     // the XSD type name, when named
	Fields []xsdField // for kindStruct
	Elem   *xsdType   // for kindList
	// Symbols are a restriction's enumeration values (an enum, held as a
	// string).
	Symbols []string
	Doc     string
}

type xsdField struct {
	Name     string
	Type     *xsdType
	Required bool
	Doc      string
}

// Schema is one element of an XSD file, as `xml:Name` refers to it.
type Schema struct {
	Name    string // the schema name used in types
	Element string // the root element's name
	Root    *xsdType
	Source  string

	describeOnce sync.Once
	description  *types.Struct // PythonMeta's "@schema"
}

// StructSchema returns the schema as values carry it.
func (s *Schema) StructSchema() *types.StructSchema {
	return &types.StructSchema{Notation: NotationName, Name: s.Element, Native: s}
}

// FieldNames returns the root element's fields in order.
func (s *Schema) FieldNames() []string {
	out := make([]string, len(s.Root.Fields))
	for i, f := range s.Root.Fields {
		out[i] = f.Name
	}
	return out
}

// Loader loads `xml:Name` schemas: the element Name (its last dotted part)
// of Name.xsd, and for a dotted name a.b.C also b.C.xsd and C.xsd, each
// tried in every directory in order. Its Load fails when no file matches,
// the file is not an XML Schema, or it has no top-level element of that
// name. Safe for concurrent use.
type Loader = notation.SchemaLoader[*Schema]

// NewLoader returns a loader over dirs; with none it reads the working
// directory.
func NewLoader(dirs ...string) *Loader {
	return notation.NewSchemaLoader(notation.NewSchemaFiles(NotationName, ".xsd", dirs),
		func(name string, f notation.SchemaFile, data []byte) (*Schema, error) {
			return ParseSchema(name, data, f.Path)
		})
}

// xnode is a generic XSD element.
type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xnode    `xml:",any"`
	Text     string     `xml:",chardata"`
}

// docOf returns the text of n's annotation/documentation elements, one per
// line, as upstream reads them.
func docOf(n *xnode) string {
	a := n.child("annotation")
	if a == nil {
		return ""
	}
	var parts []string
	for i := range a.Children {
		if a.Children[i].XMLName.Local == "documentation" {
			parts = append(parts, a.Children[i].Text)
		}
	}
	return strings.Join(parts, "\n")
}

func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func (n *xnode) child(local string) *xnode {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == local {
			return &n.Children[i]
		}
	}
	return nil
}

// ParseSchema reads XSD text and returns the top-level element named by
// the last dotted part of name. source names the file in errors.
func ParseSchema(name string, data []byte, source string) (*Schema, error) {
	var doc xnode
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: invalid XML schema: %w", source, err)
	}
	if doc.XMLName.Local != "schema" {
		return nil, fmt.Errorf("%s: invalid XML schema: the root element is <%s>, not <xs:schema>", source, doc.XMLName.Local)
	}
	elemName := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		elemName = name[i+1:]
	}
	p := &xsdParser{doc: &doc, source: source, named: map[string]*xsdType{}}
	for i := range doc.Children {
		c := &doc.Children[i]
		if n, _ := c.attr("name"); c.XMLName.Local == "element" && n == elemName {
			t, err := p.elementType(c, 0)
			if err != nil {
				return nil, err
			}
			if t.Kind != kindStruct {
				return nil, fmt.Errorf("%s: element %q is not a complexType with a sequence", source, elemName)
			}
			if d := docOf(c); d != "" {
				t.Doc = d
			}
			return &Schema{Name: name, Element: elemName, Root: t, Source: source}, nil
		}
	}
	return nil, fmt.Errorf("%s: schema element not found: %s", source, elemName)
}

type xsdParser struct {
	doc    *xnode
	source string
	named  map[string]*xsdType
}

const maxSchemaDepth = 64

func localName(q string) string {
	if i := strings.IndexByte(q, ':'); i >= 0 {
		return q[i+1:]
	}
	return q
}

var builtin = map[string]types.Kind{
	"string": types.KindString, "normalizedString": types.KindString, "token": types.KindString,
	"dateTime": types.KindString, "date": types.KindString, "time": types.KindString, "anyURI": types.KindString,
	"boolean": types.KindBoolean, "byte": types.KindByte, "short": types.KindShort,
	"int": types.KindInt, "integer": types.KindInt, "long": types.KindLong,
	"float": types.KindFloat, "double": types.KindDouble, "decimal": types.KindDouble,
	"base64Binary": types.KindBytes,
}

// elementType returns the type of an element declaration.
func (p *xsdParser) elementType(e *xnode, depth int) (*xsdType, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("%s: types nest deeper than %d (a recursive type?)", p.source, maxSchemaDepth)
	}
	if tn, ok := e.attr("type"); ok {
		return p.named_(tn, depth)
	}
	if ct := e.child("complexType"); ct != nil {
		return p.complexType(ct, depth)
	}
	if st := e.child("simpleType"); st != nil {
		return p.simpleType(st, depth)
	}
	return &xsdType{Kind: kindAny}, nil
}

// named_ resolves a type name: a builtin or a named type of the document.
func (p *xsdParser) named_(q string, depth int) (*xsdType, error) {
	local := localName(q)
	if k, ok := builtin[local]; ok {
		return &xsdType{Kind: kindPrimitive, Prim: k, Name: local}, nil
	}
	if local == "anyType" || local == "anySimpleType" {
		return &xsdType{Kind: kindAny, Name: local}, nil
	}
	if t, ok := p.named[local]; ok {
		return t, nil
	}
	for i := range p.doc.Children {
		c := &p.doc.Children[i]
		if n, _ := c.attr("name"); n != local {
			continue
		}
		var (
			t   *xsdType
			err error
		)
		switch c.XMLName.Local {
		case "complexType":
			t, err = p.complexType(c, depth+1)
		case "simpleType":
			t, err = p.simpleType(c, depth+1)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		t.Name = local
		p.named[local] = t
		return t, nil
	}
	return nil, fmt.Errorf("%s: schema type not found: %s", p.source, q)
}

func (p *xsdParser) complexType(ct *xnode, depth int) (*xsdType, error) {
	seq := ct.child("sequence")
	if seq == nil {
		seq = ct.child("all")
	}
	if seq == nil {
		return nil, fmt.Errorf("%s: complexType %s has no sequence; only sequences of elements are supported", p.source, typeLabel(ct))
	}
	t := &xsdType{Kind: kindStruct, Doc: docOf(ct)}
	for i := range seq.Children {
		c := &seq.Children[i]
		if c.XMLName.Local != "element" {
			continue
		}
		name, ok := c.attr("name")
		if !ok {
			return nil, fmt.Errorf("%s: an element of complexType %s has no name", p.source, typeLabel(ct))
		}
		ft, err := p.elementType(c, depth+1)
		if err != nil {
			return nil, err
		}
		if mx, _ := c.attr("maxOccurs"); mx == "unbounded" || (mx != "" && mx != "0" && mx != "1") {
			ft = &xsdType{Kind: kindList, Elem: ft}
		}
		required := true
		if mn, ok := c.attr("minOccurs"); ok && mn == "0" {
			required = false
		}
		t.Fields = append(t.Fields, xsdField{Name: name, Type: ft, Required: required, Doc: docOf(c)})
	}
	return t, nil
}

func typeLabel(n *xnode) string {
	if name, ok := n.attr("name"); ok {
		return strconv.Quote(name)
	}
	return "(anonymous)"
}

func (p *xsdParser) simpleType(st *xnode, depth int) (*xsdType, error) {
	if l := st.child("list"); l != nil {
		if it, ok := l.attr("itemType"); ok {
			e, err := p.named_(it, depth+1)
			if err != nil {
				return nil, err
			}
			return &xsdType{Kind: kindList, Elem: e}, nil
		}
		if inner := l.child("simpleType"); inner != nil {
			e, err := p.simpleType(inner, depth+1)
			if err != nil {
				return nil, err
			}
			return &xsdType{Kind: kindList, Elem: e}, nil
		}
	}
	if r := st.child("restriction"); r != nil {
		// Upstream reads a restriction as an enum of its enumeration facets.
		t := &xsdType{Kind: kindPrimitive, Prim: types.KindString, Symbols: []string{}, Doc: docOf(st)}
		for i := range r.Children {
			if r.Children[i].XMLName.Local == "enumeration" {
				if v, ok := r.Children[i].attr("value"); ok {
					t.Symbols = append(t.Symbols, v)
				}
			}
		}
		return t, nil
	}
	// A union of simple types, or anything else: text kept as written.
	return &xsdType{Kind: kindAny}, nil
}

// apply converts a parsed value (strings, structs, lists) to t; path names
// the field in errors.
func (t *xsdType) apply(v any, path string) (any, error) {
	if t == nil || v == nil {
		return v, nil
	}
	switch t.Kind {
	case kindAny:
		return v, nil
	case kindList:
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case string:
			if t.Elem != nil && t.Elem.Kind == kindPrimitive {
				// xs:list: whitespace-separated items
				for _, f := range strings.Fields(x) {
					items = append(items, f)
				}
			} else {
				items = []any{x}
			}
		default:
			items = []any{x}
		}
		out := make([]any, len(items))
		for i, e := range items {
			c, err := t.Elem.apply(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case kindStruct:
		st, ok := v.(*types.Struct)
		if !ok {
			if s, isStr := v.(string); isStr && s == "" {
				st = types.NewStruct(0)
			} else {
				return nil, fmt.Errorf("field %s: expected an element with child elements, got text %q", path, types.Format(v))
			}
		}
		out := types.NewStruct(st.Len())
		for _, f := range t.Fields {
			fv, ok := st.Get(f.Name)
			if !ok {
				continue
			}
			c, err := f.Type.apply(fv, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			out.Set(f.Name, c)
		}
		st.Range(func(k string, fv any) bool {
			if _, done := out.Get(k); !done {
				out.Set(k, fv)
			}
			return true
		})
		return out, nil
	}
	s, ok := v.(string)
	if !ok {
		// A value that is not text (converted from another notation)
		// is converted by the generic rules.
		out, err := types.Convert(v, types.Primitive{Kind: t.Prim})
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", path, err)
		}
		return out, nil
	}
	var (
		out any
		err error
	)
	ts := strings.TrimSpace(s)
	if ts == "" && t.Prim != types.KindString {
		return nil, nil // an empty element of a non-text type is null
	}
	switch t.Prim {
	case types.KindString:
		return s, nil
	case types.KindBoolean:
		out, err = strconv.ParseBool(ts)
	case types.KindByte:
		out, err = strconv.ParseInt(ts, 10, 8)
	case types.KindShort:
		out, err = strconv.ParseInt(ts, 10, 16)
	case types.KindInt:
		out, err = strconv.ParseInt(ts, 10, 32)
	case types.KindLong:
		out, err = strconv.ParseInt(ts, 10, 64)
	case types.KindFloat, types.KindDouble:
		out, err = strconv.ParseFloat(ts, 64)
	case types.KindBytes:
		out, err = base64.StdEncoding.DecodeString(ts)
	default:
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("field %s: %q is not a valid %s", path, s, t.Prim)
	}
	return out, nil
}
