package types

import (
	"fmt"
	"strings"
)

// ParseError is a malformed type string. Offset is the 0-based byte offset in
// the parsed string where the problem is, so a caller that knows where the
// string sits in a file can report file:line:col.
type ParseError struct {
	Offset int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

// SchemaUsage says whether a notation takes a schema name ("avro:Foo").
type SchemaUsage uint8

// Schema usages, as upstream notations declare them.
const (
	SchemaOptional SchemaUsage = iota // avro, protobuf, xml, jsonschema, unknown notations
	SchemalessOnly                    // binary, json
	SchemaRequired                    // csv
)

// NotationInfo is what the type parser needs to know about a notation.
type NotationInfo struct {
	// Default is the type the notation stands for when named alone.
	Default DataType
	Schema  SchemaUsage
}

var (
	structOrList  = UnionType{Members: []DataType{StructType{}, ListType{Elem: Any}}}
	builtinNotes  = map[string]NotationInfo{}
	builtinByName = []struct {
		names []string
		info  NotationInfo
	}{
		{[]string{DefaultNotation, "binary"}, NotationInfo{Any, SchemalessOnly}},
		{[]string{"json"}, NotationInfo{structOrList, SchemalessOnly}},
		{[]string{"csv"}, NotationInfo{structOrList, SchemaRequired}},
		{[]string{"xml"}, NotationInfo{StructType{}, SchemaOptional}},
		{[]string{"avro", "confluent_avro", "apicurio_avro"}, NotationInfo{StructType{}, SchemaOptional}},
		{[]string{"jsonschema", "apicurio_jsonschema", "confluent_jsonschema"}, NotationInfo{structOrList, SchemaOptional}},
		{[]string{"protobuf", "apicurio_protobuf", "confluent_protobuf"}, NotationInfo{StructType{}, SchemaOptional}},
	}
)

func init() {
	for _, b := range builtinByName {
		for _, n := range b.names {
			builtinNotes[n] = b.info
		}
	}
}

// BuiltinNotation returns what the parser knows about the built-in notation
// names (default, binary, json, csv, xml, avro, jsonschema, protobuf and
// their confluent_/apicurio_ variants).
func BuiltinNotation(name string) (NotationInfo, bool) {
	n, ok := builtinNotes[name]
	return n, ok
}

// Parser parses type strings. The zero value knows the built-in notations;
// set Notation to also recognize notations configured in the runner config
// (ksml.notations aliases).
type Parser struct {
	// Notation reports whether name is a notation and what it holds. Nil
	// means BuiltinNotation.
	Notation func(name string) (NotationInfo, bool)
}

// ParseUserType parses a KSML type string with the built-in notations. An
// empty string is the unknown type (any), as upstream treats a missing type.
func ParseUserType(s string) (UserType, error) { return Parser{}.Parse(s) }

// MustParseDataType parses s and returns its data type; it panics on error
// and is meant for constants in code and tests.
func MustParseDataType(s string) DataType {
	u, err := ParseUserType(s)
	if err != nil {
		panic(err)
	}
	return u.Type
}

// Parse parses a KSML type string: see the package documentation for the
// grammar. Errors are *ParseError.
func (p Parser) Parse(s string) (UserType, error) {
	ps := &typeParser{src: s, lookup: p.Notation}
	if ps.lookup == nil {
		ps.lookup = BuiltinNotation
	}
	ps.skipSpace()
	if ps.pos == len(s) {
		return UserType{Notation: DefaultNotation, Type: Any}, nil
	}
	ut, err := ps.term(DefaultNotation, 0)
	if err != nil {
		return UserType{}, err
	}
	ps.skipSpace()
	if ps.pos < len(s) {
		return UserType{}, ps.errf(ps.pos, "unexpected %q after type", s[ps.pos:])
	}
	return ut, nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

type typeParser struct {
	src    string
	pos    int
	lookup func(string) (NotationInfo, bool)
}

func (p *typeParser) errf(off int, format string, args ...any) *ParseError {
	return &ParseError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *typeParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *typeParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func isIdentByte(c byte) bool { return isLiteralByte(c) || c == '.' || c == '-' }

func (p *typeParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *typeParser) expect(c byte, what string) error {
	p.skipSpace()
	if p.peek() != c {
		if p.pos >= len(p.src) {
			return p.errf(p.pos, "missing %q to close %s", c, what)
		}
		return p.errf(p.pos, "expected %q to close %s, found %q", c, what, p.src[p.pos])
	}
	p.pos++
	return nil
}

// term parses one type. notation is the inherited notation: a notation prefix
// applies to everything inside it ("json:windowed(string)").
func (p *typeParser) term(notation string, depth int) (UserType, error) {
	if depth > maxDepth {
		return UserType{}, p.errf(p.pos, "type nested too deeply")
	}
	p.skipSpace()
	start := p.pos
	switch c := p.peek(); {
	case c == '[':
		p.pos++
		elem, err := p.term(notation, depth+1)
		if err != nil {
			return UserType{}, err
		}
		if err := p.expect(']', "list type"); err != nil {
			return UserType{}, err
		}
		return UserType{notation, ListType{Elem: elem.Type}}, nil
	case c == '(':
		p.pos++
		elems, err := p.typeList(notation, depth, "tuple type")
		if err != nil {
			return UserType{}, err
		}
		return UserType{notation, TupleType{Elems: elems}}, nil
	case c == '?':
		p.pos++
		return UserType{notation, Any}, nil
	case c == 0:
		return UserType{}, p.errf(p.pos, "missing type")
	case !isIdentByte(c):
		return UserType{}, p.errf(p.pos, "unexpected %q where a type is expected", c)
	}

	name := p.ident()
	p.skipSpace()
	switch p.peek() {
	case ':':
		return p.notationTerm(name, start, depth)
	case '(':
		return p.constructor(name, start, notation, depth)
	}
	return p.named(name, start, notation, false)
}

// notationTerm parses what follows "notation:".
func (p *typeParser) notationTerm(notation string, start, depth int) (UserType, error) {
	info, ok := p.lookup(notation)
	if !ok {
		return UserType{}, p.errf(start, "unknown notation %q", notation)
	}
	p.pos++ // ':'
	p.skipSpace()
	bodyStart := p.pos
	switch c := p.peek(); {
	case c == 0 || c == ',' || c == ')' || c == ']':
		if info.Schema == SchemaRequired {
			return UserType{}, schemaRequired(start, notation)
		}
		return UserType{notation, NotationType{notation, info.Default}}, nil
	case c == '[' || c == '(' || c == '?':
		return p.term(notation, depth+1)
	case !isIdentByte(c):
		return UserType{}, p.errf(p.pos, "unexpected %q after notation %q", c, notation)
	}
	name := p.ident()
	p.skipSpace()
	switch p.peek() {
	case ':':
		return UserType{}, p.errf(p.pos, "a type can have only one notation prefix")
	case '(':
		return p.constructor(name, bodyStart, notation, depth+1)
	}
	return p.named(name, bodyStart, notation, true)
}

// named resolves a bare word: a primitive or struct keyword, a notation, or a
// schema name of the inherited notation.
func (p *typeParser) named(name string, start int, notation string, explicit bool) (UserType, error) {
	if t, ok := keywordType(name); ok {
		if explicit {
			if info, ok := p.lookup(notation); ok && !elemOrAny(info.Default).IsAssignableFrom(t) && !isStructLike(t, info.Default) {
				return UserType{}, p.errf(start, "notation %s does not allow for data type %s", notation, name)
			}
			return UserType{notation, t}, nil
		}
		if _, isStruct := t.(StructType); isStruct {
			return UserType{notation, t}, nil
		}
		// A primitive under an inherited notation that cannot hold it falls
		// back to the default notation, as upstream does.
		if info, ok := p.lookup(notation); ok && !elemOrAny(info.Default).IsAssignableFrom(t) {
			return UserType{DefaultNotation, t}, nil
		}
		return UserType{notation, t}, nil
	}
	if !explicit {
		if info, ok := p.lookup(name); ok {
			if info.Schema == SchemaRequired {
				return UserType{}, schemaRequired(start, name)
			}
			return UserType{name, NotationType{name, info.Default}}, nil
		}
	}
	info, ok := p.lookup(notation)
	if !ok {
		return UserType{}, p.errf(start, "unknown notation %q", notation)
	}
	if notation == DefaultNotation || info.Schema == SchemalessOnly {
		if !explicit && notation == DefaultNotation {
			return UserType{}, p.errf(start, "unknown type %q (not a type, a notation or notation:Schema)", name)
		}
		return UserType{}, p.errf(start, "schema %q can not be used with notation %s, which is schemaless; use %q", name, notation, notation)
	}
	return UserType{notation, StructType{Notation: notation, SchemaName: name}}, nil
}

func schemaRequired(off int, notation string) *ParseError {
	return &ParseError{Offset: off, Msg: fmt.Sprintf("notation %s requires a schema: use %s:SchemaName", notation, notation)}
}

// isStructLike lets "xml:struct" and "json:map" through: the notation's
// default holds structs, and struct/map are its schemaless forms.
func isStructLike(t, def DataType) bool {
	switch t.(type) {
	case StructType, MapType:
		return elemOrAny(def).IsAssignableFrom(StructType{})
	}
	return false
}

func keywordType(name string) (DataType, bool) {
	switch name {
	case "any":
		return Any, true
	case "null", "none":
		return Null, true
	case "boolean":
		return Boolean, true
	case "byte":
		return Byte, true
	case "short":
		return Short, true
	case "int", "integer":
		return Int, true
	case "long":
		return Long, true
	case "float":
		return Float, true
	case "double":
		return Double, true
	case "string", "str":
		return String, true
	case "bytes":
		return Bytes, true
	case "struct":
		return StructType{}, true
	case "map":
		return MapType{Value: Any}, true
	}
	return nil, false
}

// constructor parses name(...) for list, map, tuple, union, enum, windowed.
func (p *typeParser) constructor(name string, start int, notation string, depth int) (UserType, error) {
	p.pos++ // '('
	switch name {
	case "list", "map", "windowed":
		inner, err := p.term(notation, depth+1)
		if err != nil {
			return UserType{}, err
		}
		if err := p.expect(')', name+" type"); err != nil {
			return UserType{}, err
		}
		switch name {
		case "list":
			return UserType{notation, ListType{Elem: inner.Type}}, nil
		case "map":
			return UserType{notation, MapType{Value: inner.Type}}, nil
		}
		return UserType{notation, WindowedType{Key: inner.Type}}, nil
	case "tuple", "union":
		elems, err := p.typeList(notation, depth, name+" type")
		if err != nil {
			return UserType{}, err
		}
		if name == "tuple" {
			return UserType{notation, TupleType{Elems: elems}}, nil
		}
		return UserType{notation, UnionType{Members: elems}}, nil
	case "enum":
		syms, err := p.enumSymbols()
		if err != nil {
			return UserType{}, err
		}
		return UserType{notation, EnumType{Symbols: syms}}, nil
	}
	return UserType{}, p.errf(start, "unknown type %q (expected list, map, tuple, union, enum or windowed before '(')", name)
}

// typeList parses "T1, T2, ...)" after the opening bracket.
func (p *typeParser) typeList(notation string, depth int, what string) ([]DataType, error) {
	var out []DataType
	for {
		p.skipSpace()
		if p.peek() == ')' && len(out) == 0 {
			return nil, p.errf(p.pos, "empty %s", what)
		}
		t, err := p.term(notation, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, t.Type)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return out, nil
		case 0:
			return nil, p.errf(p.pos, "missing ')' to close %s", what)
		default:
			return nil, p.errf(p.pos, "expected ',' or ')' in %s, found %q", what, p.src[p.pos])
		}
	}
}

// enumSymbols parses "A, "B", 'C')" after "enum(". Symbols are bare literals
// or quoted strings; a quoted symbol keeps all its characters.
func (p *typeParser) enumSymbols() ([]string, error) {
	var out []string
	for {
		p.skipSpace()
		start := p.pos
		var sym string
		switch c := p.peek(); {
		case c == '"' || c == '\'':
			end := strings.IndexByte(p.src[p.pos+1:], c)
			if end < 0 {
				return nil, p.errf(start, "unterminated quoted enum symbol")
			}
			sym = p.src[p.pos+1 : p.pos+1+end]
			p.pos += end + 2
		case isLiteralByte(c):
			for p.pos < len(p.src) && isLiteralByte(p.src[p.pos]) {
				p.pos++
			}
			sym = p.src[start:p.pos]
		case c == ')' && len(out) == 0:
			return nil, p.errf(p.pos, "enum type needs at least one symbol")
		case c == 0:
			return nil, p.errf(p.pos, "missing ')' to close enum type")
		default:
			return nil, p.errf(p.pos, "unexpected %q in enum symbols", c)
		}
		if sym == "" {
			return nil, p.errf(start, "empty enum symbol")
		}
		for _, s := range out {
			if s == sym {
				return nil, p.errf(start, "duplicate enum symbol %q", sym)
			}
		}
		out = append(out, sym)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return out, nil
		case 0:
			return nil, p.errf(p.pos, "missing ')' to close enum type")
		default:
			return nil, p.errf(p.pos, "expected ',' or ')' in enum type, found %q", p.src[p.pos])
		}
	}
}
