// Package jsonschema is the jsonschema notation: JSON text validated against
// a JSON Schema (`jsonschema:SensorData` loads SensorData.json from the
// schema directories), as upstream's apicurio_jsonschema notation.
//
// Without a schema registry, records are plain JSON text. With one (the
// `apicurio_jsonschema` type with apicurio.registry.url), records are framed
// as upstream's Apicurio serde pins them: a zero magic byte, the 4-byte
// big-endian content id of the schema registered under `<topic>-key` or
// `<topic>-value`, then the JSON text; with apicurio.registry.headers.enabled
// the id goes in Apicurio's apicurio.key|value.contentId header instead (see
// notation.SchemaIDFraming). Deserializing accepts all these forms.
//
// Records are written as upstream writes them: struct keys sorted (see
// keyLess) and, with a schema, only the schema's properties (required ones
// always, null when absent). Values read are in the data model of package
// types (structs, lists, ...);
// a struct read with a schema carries a StructSchema with Notation
// "jsonschema". Values are validated with santhosh-tekuri/jsonschema on
// both sides; a null object property counts as absent, since upstream's
// schemas give optional fields `"default": null` with a non-null type.
// A value that does not validate is an error naming the schema and the
// failing location; bad input never panics.
package jsonschema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	js "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// Names: the notation as types spell it and the registry-backed type.
const (
	NotationName = "jsonschema"
	TypeApicurio = "apicurio_jsonschema"
)

// registryTimeout bounds one registry call.
const registryTimeout = 30 * time.Second

// Schema is a compiled JSON Schema with the text it came from (what gets
// registered in a schema registry).
type Schema struct {
	Name     string
	Text     string
	Source   string
	compiled *js.Schema
	shape    *shape
}

// StructSchema returns the schema as values carry it.
func (s *Schema) StructSchema() *types.StructSchema {
	return &types.StructSchema{Notation: NotationName, Name: s.Name, Native: s}
}

// Validate checks v (data model) against the schema.
func (s *Schema) Validate(v any) error {
	b, err := types.MarshalJSON(v)
	if err != nil {
		return err
	}
	return s.validateText(b)
}

func (s *Schema) validateText(b []byte) error {
	inst, err := js.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if err := s.compiled.Validate(dropNullProperties(inst)); err != nil {
		var ve *js.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("value does not match JSON schema %s: %s", s.Name, flatten(ve))
		}
		return fmt.Errorf("value does not match JSON schema %s: %w", s.Name, err)
	}
	return nil
}

// flatten renders a validation error on one line: the deepest causes, each
// with its location.
func flatten(ve *js.ValidationError) string {
	var parts []string
	var walk func(e *js.ValidationError)
	walk = func(e *js.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			msg := e.Error()
			if i := strings.LastIndex(msg, ": "); i >= 0 && !strings.Contains(msg, "\n") {
				msg = msg[i+2:]
			} else if lines := strings.Split(msg, "\n"); len(lines) > 0 {
				msg = strings.TrimSpace(lines[len(lines)-1])
				if i := strings.Index(msg, ": "); i >= 0 {
					msg = msg[i+2:]
				}
			}
			parts = append(parts, "at '"+loc+"': "+msg)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(parts, "; ")
}

func dropNullProperties(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNullProperties(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNullProperties(e)
		}
	}
	return v
}

// ParseSchema compiles JSON Schema text; source names it in errors.
// Only the document itself is read: references to other locations are not
// fetched.
func ParseSchema(name, text, source string) (*Schema, error) {
	doc, err := js.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON schema: %w", source, err)
	}
	c := js.NewCompiler()
	c.UseLoader(noLoader{})
	loc := "mem:///" + filepath.ToSlash(filepath.Base(source))
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON schema: %w", source, err)
	}
	compiled, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSON schema: %s", source, oneLine(err))
	}
	return &Schema{Name: name, Text: text, Source: source, compiled: compiled, shape: shapeOf(doc)}, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// noLoader refuses to fetch referenced documents (files or URLs).
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("referenced schema %s is not loaded: only self-contained schemas are supported", url)
}

// Loader loads `jsonschema:Name` schemas: Name.json, and for a dotted name
// a.b.C also b.C.json and C.json, each tried in every directory in order.
// Its Load names what was tried or what is wrong with the file. Safe for
// concurrent use.
type Loader = notation.SchemaLoader[*Schema]

// NewLoader returns a loader over dirs; with none it reads the working
// directory.
func NewLoader(dirs ...string) *Loader {
	return notation.NewSchemaLoader(notation.NewSchemaFiles(NotationName, ".json", dirs),
		func(name string, f notation.SchemaFile, data []byte) (*Schema, error) {
			return ParseSchema(name, string(data), f.Path)
		})
}

// Notation is the jsonschema notation, with or without a registry.
type Notation struct {
	name   string
	loader *Loader
	reg    schemaregistry.Registry
	ids    sync.Map // subject + "\x00" + schema source -> int
	// framing is where the schema id goes with a registry: Apicurio's
	// payload frame, or its id header in the headers mode.
	framing notation.SchemaIDFraming
}

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.Converter      = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
)

// New returns a notation named name over loader; reg may be nil (plain
// JSON text on the wire).
func New(name string, loader *Loader, reg schemaregistry.Registry) *Notation {
	return &Notation{name: name, loader: loader, reg: reg}
}

// Create builds the notation of a `ksml.notations` entry (or a built-in
// name). The plain type (c.Type "jsonschema") has no registry; the Apicurio
// type uses c.SchemaRegistry when set, and otherwise, with
// apicurio.registry.url among props it writes Apicurio-framed records
// through that registry, else plain JSON text.
func Create(c notation.Config) (notation.Notation, error) {
	if c.Type == NotationName {
		// The plain type never uses a registry, whatever the properties say.
		return New(c.Name, NewLoader(c.SchemaDirs...), nil), nil
	}
	reg, framing, err := notation.ApicurioSetup(c)
	if err != nil {
		return nil, err
	}
	n := New(c.Name, NewLoader(c.SchemaDirs...), reg)
	n.framing = framing
	return n, nil
}

func init() {
	notation.RegisterFactory(TypeApicurio, Create)
	notation.RegisterFactory(NotationName, Create)
}

// Name returns the name the notation was created under.
func (n *Notation) Name() string { return n.name }

// Info says jsonschema stands for union(struct, list) with an optional
// schema name.
func (n *Notation) Info() types.NotationInfo {
	return types.NotationInfo{
		Default: types.UnionType{Members: []types.DataType{types.StructType{}, types.ListType{Elem: types.Any}}},
		Schema:  types.SchemaOptional,
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

// Serde returns the serde of a JSON container type; `jsonschema:Name`
// loads and compiles Name now, so a broken schema fails at startup.
func (n *Notation) Serde(t types.DataType, isKey bool) (notation.Serde, error) {
	switch tt := t.(type) {
	case types.StructType:
		if tt.SchemaName == "" {
			return &Serde{n: n, isKey: isKey}, nil
		}
		s, err := n.loader.Load(tt.SchemaName)
		if err != nil {
			return nil, err
		}
		return &Serde{n: n, schema: s, isKey: isKey}, nil
	case types.ListType, types.MapType, types.UnionType, types.NotationType:
		return &Serde{n: n, isKey: isKey}, nil
	}
	return nil, fmt.Errorf("notation %s holds JSON objects and arrays only, not %s", n.name, t)
}

// ConvertValue parses JSON text into a jsonschema struct or list and writes
// a struct or list as JSON text for a string target, as the json notation.
func (n *Notation) ConvertValue(v any, to types.DataType) (any, bool, error) {
	return notation.JSON{}.ConvertValue(v, to)
}

// Serde reads and writes JSON text of one type.
type Serde struct {
	n      *Notation
	schema *Schema
	isKey  bool // the side, for the registry subject
}

// Serialize validates v and writes it as JSON text, with the schema id when
// the notation has a registry: in a header in Apicurio's headers mode (when
// the record carries headers), else in a payload frame. Nil is nil.
func (s *Serde) Serialize(topic string, headers *[]notation.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var sh *shape
	if s.schema != nil {
		sh = s.schema.shape
	}
	v, err := arrange(v, sh, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.n.name, err)
	}
	body, err := types.MarshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.n.name, err)
	}
	if s.schema != nil {
		if err := s.schema.validateText(body); err != nil {
			return nil, err
		}
	}
	if s.n.reg == nil {
		return body, nil
	}
	if s.schema == nil {
		return nil, fmt.Errorf("type %s has no schema name to register; declare it as %s:<SchemaName>", s.n.name, s.n.name)
	}
	id, err := s.n.schemaID(topic, s.isKey, s.schema)
	if err != nil {
		return nil, err
	}
	out := s.n.framing.Write(make([]byte, 0, 9+len(body)), headers, s.isKey, id)
	return append(out, body...), nil
}

func (n *Notation) schemaID(topic string, isKey bool, s *Schema) (int, error) {
	subject := topic + "-value"
	if isKey {
		subject = topic + "-key"
	}
	key := subject + "\x00" + s.Source
	if id, ok := n.ids.Load(key); ok {
		return id.(int), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	id, err := n.reg.Register(ctx, subject, s.Text)
	if err != nil {
		return 0, fmt.Errorf("registering JSON schema %s under subject %q: %w", s.Name, subject, err)
	}
	n.ids.Store(key, id)
	return id, nil
}

// Deserialize reads JSON text, after a registry frame when there is one
// (or with the id in headers), and validates it. Nil or empty bytes are nil.
func (s *Serde) Deserialize(topic string, headers []notation.Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	// JSON text never starts with a zero byte: one is a registry frame.
	if b[0] == 0 || s.n.framing.Headers {
		_, body, err := s.n.framing.Read(headers, b, s.isKey, "Apicurio JSON Schema")
		switch {
		case err == nil:
			b = body
		case b[0] == 0:
			return nil, fmt.Errorf("%s: %w", s.n.name, err)
		}
		// Otherwise plain JSON text without an id, which this notation
		// also reads.
	}
	v, err := types.DecodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.n.name, err)
	}
	if s.schema != nil {
		if err := s.schema.validateText(b); err != nil {
			return nil, err
		}
		if st, ok := v.(*types.Struct); ok {
			st.Schema = s.schema.StructSchema()
		}
	}
	return v, nil
}
