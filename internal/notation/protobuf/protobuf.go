// Package protobuf is the protobuf notation (BETA upstream): records are
// Protocol Buffers messages described by a .proto file in the schema
// directories (`protobuf:sensor_data` compiles sensor_data.proto with
// bufbuild/protocompile and uses its message sensor_data, or its only
// top-level message).
//
// Without a schema registry, records are the bare message bytes. With one
// (the `apicurio_protobuf` type with apicurio.registry.url), records are
// framed as upstream's Apicurio serde pins them: a zero magic byte, the
// 4-byte big-endian content id of the .proto text registered under
// `<topic>-key` or `<topic>-value`, the length-delimited type reference
// (a message whose field 1 is the message name), then the message. With
// apicurio.registry.headers.enabled the id goes in Apicurio's
// apicurio.key|value.contentId header and the message name in
// apicurio.protobuf.type[.key] instead, and the payload starts at the type
// reference (see notation.SchemaIDFraming). Deserializing accepts all these
// forms.
//
// Values map as upstream maps them: a message is a struct of its set
// fields in field-number order (proto3 fields at their default value are
// not set), a oneof appears under the oneof's name, enums are their symbol
// names, integers int64, floats float64, bytes []byte, repeated fields
// lists and map fields schemaless structs keyed by the key's text. Writing
// ignores fields the message does not have and fails, naming the field,
// on a value of the wrong type. Bad input never panics.
package protobuf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// Names: the notation as types spell it and the registry-backed type.
const (
	NotationName = "protobuf"
	TypeApicurio = "apicurio_protobuf"
)

const registryTimeout = 30 * time.Second

// Schema is one message type of a compiled .proto file.
type Schema struct {
	Name    string // the schema name used in types
	Message protoreflect.MessageDescriptor
	Text    string // the .proto source, as registered
	Source  string
}

// StructSchema returns the schema as values carry it.
func (s *Schema) StructSchema() *types.StructSchema {
	return &types.StructSchema{Notation: NotationName, Name: string(s.Message.FullName()),
		Namespace: string(s.Message.ParentFile().Package()), Native: s}
}

// Loader compiles `protobuf:Name` schemas from Name.proto (for a dotted
// name a.b.C also b.C.proto and C.proto) in the schema directories, which
// are also the import paths. Safe for concurrent use.
//
// Its Load fails when no file matches, the file does not compile (the
// error names file:line:col), or the file has no message to use.
type Loader = notation.SchemaLoader[*Schema]

// NewLoader returns a loader over dirs; with none it reads the working
// directory.
func NewLoader(dirs ...string) *Loader {
	files := notation.NewSchemaFiles(NotationName, ".proto", dirs)
	return notation.NewSchemaLoader(files, func(name string, f notation.SchemaFile, text []byte) (*Schema, error) {
		imports := append([]string{f.Dir}, files.Dirs()...)
		c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: imports})}
		compiled, err := c.Compile(context.Background(), f.Base)
		if err != nil {
			return nil, fmt.Errorf("invalid protobuf schema: %w", relativize(err, f.Dir))
		}
		return pickMessage(name, compiled[0], string(text), f.Path)
	})
}

// relativize makes compile errors name the file under its directory.
func relativize(err error, dir string) error {
	msg := err.Error()
	if dir == "." || dir == "" {
		return err
	}
	return errors.New(filepath.Join(dir, msg))
}

// ParseSchema compiles .proto text held in memory (a schema from a
// registry); source names it in errors.
func ParseSchema(name, text, source string) (*Schema, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: func(path string) (io.ReadCloser, error) {
			if path == source {
				return io.NopCloser(strings.NewReader(text)), nil
			}
			return nil, fmt.Errorf("%s imports %s, which is not available", source, path)
		},
	})}
	files, err := c.Compile(context.Background(), source)
	if err != nil {
		return nil, fmt.Errorf("invalid protobuf schema: %w", err)
	}
	return pickMessage(name, files[0], text, source)
}

func pickMessage(name string, fd protoreflect.FileDescriptor, text, source string) (*Schema, error) {
	short := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		short = name[i+1:]
	}
	msgs := fd.Messages()
	if md := msgs.ByName(protoreflect.Name(short)); md != nil {
		return &Schema{Name: name, Message: md, Text: text, Source: source}, nil
	}
	if msgs.Len() == 1 {
		return &Schema{Name: name, Message: msgs.Get(0), Text: text, Source: source}, nil
	}
	var names []string
	for i := 0; i < msgs.Len(); i++ {
		names = append(names, string(msgs.Get(i).Name()))
	}
	return nil, fmt.Errorf("%s: no message %s (messages: %s)", source, short, strings.Join(names, ", "))
}

// Notation is the protobuf notation, with or without a registry.
type Notation struct {
	name   string
	loader *Loader
	reg    schemaregistry.Registry
	ids    sync.Map // subject + "\x00" + source -> int
	byID   sync.Map // id -> *Schema
	// framing is where the schema id goes with a registry: Apicurio's
	// payload frame, or its id header in the headers mode.
	framing notation.SchemaIDFraming
}

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
)

// New returns a notation named name over loader; reg may be nil (bare
// message bytes on the wire).
func New(name string, loader *Loader, reg schemaregistry.Registry) *Notation {
	return &Notation{name: name, loader: loader, reg: reg}
}

// Create builds the notation of a `ksml.notations` entry (or a built-in
// name). The plain type (c.Type "protobuf") has no registry; the Apicurio
// type uses c.SchemaRegistry when set, and otherwise, with
// apicurio.registry.url among the properties it frames records for that
// registry, else it writes bare messages.
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

// init makes `apicurio_protobuf` (and `protobuf`) available as
// `ksml.notations` types, as every notation package does.
func init() {
	notation.RegisterFactory(TypeApicurio, Create)
	notation.RegisterFactory(NotationName, Create)
}

// Name returns the name the notation was created under.
func (n *Notation) Name() string { return n.name }

// Info says protobuf stands for a struct with an optional schema name.
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

// Serde returns the serde of `protobuf:Name`, compiling the schema now so
// a broken .proto fails at startup. A bare protobuf type reads messages
// whose schema the registry names; it cannot write without one.
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
	case types.NotationType:
		return &Serde{n: n, isKey: isKey}, nil
	}
	return nil, fmt.Errorf("notation %s holds protobuf messages (structs) only, not %s", n.name, t)
}

// Serde reads and writes messages of one type.
type Serde struct {
	n      *Notation
	schema *Schema
	isKey  bool // the side, for the registry subject
}

// Serialize writes v (a struct) as a message, framed when the notation has
// a registry. Nil is nil.
func (s *Serde) Serialize(topic string, headers *[]notation.Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	st, ok := v.(*types.Struct)
	if !ok {
		return nil, fmt.Errorf("%s cannot write %s: it holds messages (structs) only", s.n.name, types.TypeOf(v))
	}
	schema := s.schema
	if schema == nil {
		if st.Schema != nil {
			schema, _ = st.Schema.Native.(*Schema)
		}
		if schema == nil {
			return nil, fmt.Errorf("can not convert a schemaless struct into a protobuf message; declare the type as %s:<SchemaName>", s.n.name)
		}
	}
	msg := dynamicpb.NewMessage(schema.Message)
	if err := fill(msg, st, 0); err != nil {
		return nil, fmt.Errorf("protobuf message %s: %w", schema.Message.FullName(), err)
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("protobuf message %s: %w", schema.Message.FullName(), err)
	}
	if s.n.reg == nil {
		return body, nil
	}
	id, err := s.n.schemaID(topic, s.isKey, schema)
	if err != nil {
		return nil, err
	}
	ref := protowire.AppendTag(nil, 1, protowire.BytesType)
	ref = protowire.AppendString(ref, string(schema.Message.Name()))
	out := s.n.framing.Write(make([]byte, 0, 9+len(ref)+binary.MaxVarintLen32+len(body)), headers, s.isKey, id)
	if s.n.framing.Headers && headers != nil {
		// Apicurio's headers mode also names the message type in a header;
		// its serializer (v3, as upstream uses) keeps the type reference in
		// the payload.
		name := "apicurio.protobuf.type"
		if s.isKey {
			name += ".key"
		}
		*headers = append(*headers, notation.Header{Key: name, Value: []byte(schema.Message.Name())})
	}
	out = protowire.AppendVarint(out, uint64(len(ref)))
	out = append(out, ref...)
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
		return 0, fmt.Errorf("registering protobuf schema %s under subject %q: %w", s.Name, subject, err)
	}
	n.ids.Store(key, id)
	n.byID.LoadOrStore(id, s)
	return id, nil
}

// Deserialize reads a message, after a registry frame (or with the id in
// Apicurio's id header) when there is one. Nil or empty bytes are nil.
func (s *Serde) Deserialize(topic string, headers []notation.Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	schema := s.schema
	id, rest, framed, err := s.frame(headers, b)
	if err != nil {
		return nil, err
	}
	if framed {
		refLen, n := protowire.ConsumeVarint(rest)
		if n < 0 || refLen > uint64(len(rest)-n) {
			return nil, fmt.Errorf("%s: the type reference after the schema id is truncated", s.n.name)
		}
		ref := rest[n : n+int(refLen)]
		b = rest[n+int(refLen):]
		if schema == nil {
			var err error
			if schema, err = s.n.writerSchema(id, refName(ref)); err != nil {
				return nil, err
			}
		}
	} else if schema == nil {
		return nil, fmt.Errorf("%s: the record has no schema registry frame and the type names no schema", s.n.name)
	}
	msg := dynamicpb.NewMessage(schema.Message)
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, fmt.Errorf("protobuf message %s: %w", schema.Message.FullName(), err)
	}
	st := toStruct(msg)
	st.Schema = schema.StructSchema()
	return st, nil
}

// frame finds the schema id of a record: in Apicurio's id header (headers
// mode) or in a payload frame. A message never starts with a zero byte
// (field number 0 is invalid), so a leading zero is the frame's magic byte;
// framed is false for a bare message. rest is what follows the id: the
// type reference and the message.
func (s *Serde) frame(headers []notation.Header, b []byte) (id int, rest []byte, framed bool, err error) {
	if b[0] != 0 && !s.n.framing.Headers {
		return 0, b, false, nil
	}
	id, rest, err = s.n.framing.Read(headers, b, s.isKey, "Apicurio Protobuf")
	switch {
	case err == nil:
		return id, rest, true, nil
	case b[0] == 0:
		return 0, nil, false, fmt.Errorf("%s: %w", s.n.name, err)
	}
	return 0, b, false, nil // a bare message in headers mode
}

// refName reads field 1 of the type reference; "" when absent.
func refName(ref []byte) string {
	for len(ref) > 0 {
		num, typ, n := protowire.ConsumeTag(ref)
		if n < 0 {
			return ""
		}
		ref = ref[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(ref)
			if m < 0 {
				return ""
			}
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, ref)
		if m < 0 {
			return ""
		}
		ref = ref[m:]
	}
	return ""
}

// writerSchema fetches and compiles the schema registered under id.
func (n *Notation) writerSchema(id int, message string) (*Schema, error) {
	if s, ok := n.byID.Load(id); ok {
		return s.(*Schema), nil
	}
	if n.reg == nil {
		return nil, fmt.Errorf("%s: the record names schema id %d but there is no schema registry", n.name, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	text, err := n.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetching protobuf schema %d: %w", id, err)
	}
	s, err := ParseSchema(message, text, fmt.Sprintf("schema-%d.proto", id))
	if err != nil {
		return nil, err
	}
	n.byID.Store(id, s)
	return s, nil
}

// toStruct converts a message to the data model.
func toStruct(m protoreflect.Message) *types.Struct {
	type entry struct {
		num  protoreflect.FieldNumber
		name string
		v    any
	}
	var entries []entry
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := string(fd.Name())
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			name = string(od.Name())
		}
		entries = append(entries, entry{fd.Number(), name, fieldValue(fd, v)})
		return true
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].num < entries[j].num })
	st := types.NewStruct(len(entries))
	for _, e := range entries {
		st.Set(e.name, e.v)
	}
	return st
}

func fieldValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = scalar(fd, l.Get(i))
		}
		return out
	case fd.IsMap():
		mp := v.Map()
		type kv struct {
			k string
			v any
		}
		var kvs []kv
		mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			kvs = append(kvs, kv{k.Value().String(), scalar(fd.MapValue(), mv)})
			return true
		})
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		st := types.NewStruct(len(kvs))
		for _, e := range kvs {
			st.Set(e.k, e.v)
		}
		return st
	}
	return scalar(fd, v)
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return append([]byte(nil), v.Bytes()...)
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return toStruct(v.Message())
	}
	return nil
}

const maxDepth = 100

// fill sets the fields of msg from st.
func fill(msg protoreflect.Message, st *types.Struct, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("value nests deeper than %d", maxDepth)
	}
	md := msg.Descriptor()
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			continue
		}
		v, ok := st.Get(string(fd.Name()))
		if !ok || v == nil {
			continue
		}
		if err := setField(msg, fd, v, depth); err != nil {
			return err
		}
	}
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		v, ok := st.Get(string(od.Name()))
		if !ok || v == nil {
			continue
		}
		assigned := false
		for j := 0; j < od.Fields().Len() && !assigned; j++ {
			fd := od.Fields().Get(j)
			if _, err := toProto(fd, v, depth, msg); err == nil {
				if err := setField(msg, fd, v, depth); err != nil {
					return err
				}
				assigned = true
			}
		}
		if !assigned {
			return fmt.Errorf("value of type %s does not match any branch of oneof '%s'", types.TypeOf(v), od.Name())
		}
	}
	return nil
}

func setField(msg protoreflect.Message, fd protoreflect.FieldDescriptor, v any, depth int) error {
	v, err := types.Resolve(v)
	if err != nil {
		return err
	}
	switch {
	case fd.IsList():
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("field '%s' is repeated and needs a list, not %s", fd.Name(), types.TypeOf(v))
		}
		l := msg.Mutable(fd).List()
		for i, e := range items {
			pv, err := toProto(fd, e, depth, msg)
			if err != nil {
				return fmt.Errorf("field '%s'[%d]: %w", fd.Name(), i, err)
			}
			l.Append(pv)
		}
		return nil
	case fd.IsMap():
		m, ok := v.(*types.Struct)
		if !ok {
			return fmt.Errorf("field '%s' is a map and needs a struct, not %s", fd.Name(), types.TypeOf(v))
		}
		mp := msg.Mutable(fd).Map()
		var ferr error
		m.Range(func(k string, e any) bool {
			mk, err := mapKey(fd.MapKey(), k)
			if err != nil {
				ferr = fmt.Errorf("field '%s' key %q: %w", fd.Name(), k, err)
				return false
			}
			if e == nil {
				return true
			}
			pv, err := toProto(fd.MapValue(), e, depth, nil)
			if err != nil {
				ferr = fmt.Errorf("field '%s'[%q]: %w", fd.Name(), k, err)
				return false
			}
			mp.Set(mk, pv)
			return true
		})
		return ferr
	}
	pv, err := toProto(fd, v, depth, msg)
	if err != nil {
		return fmt.Errorf("field '%s': %w", fd.Name(), err)
	}
	msg.Set(fd, pv)
	return nil
}

func mapKey(fd protoreflect.FieldDescriptor, k string) (protoreflect.MapKey, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(k).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(k)
		return protoreflect.ValueOfBool(b).MapKey(), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := strconv.ParseInt(k, 10, 32)
		return protoreflect.ValueOfInt32(int32(i)).MapKey(), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := strconv.ParseInt(k, 10, 64)
		return protoreflect.ValueOfInt64(i).MapKey(), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		i, err := strconv.ParseUint(k, 10, 32)
		return protoreflect.ValueOfUint32(uint32(i)).MapKey(), err
	default:
		i, err := strconv.ParseUint(k, 10, 64)
		return protoreflect.ValueOfUint64(i).MapKey(), err
	}
}

// toProto converts one (non-repeated) value for field fd. parent is the
// message a nested message is created in (nil for map values).
func toProto(fd protoreflect.FieldDescriptor, v any, depth int, parent protoreflect.Message) (protoreflect.Value, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return protoreflect.Value{}, err
	}
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("cannot write %s as protobuf %s", types.TypeOf(v), fd.Kind())
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
	case protoreflect.StringKind:
		if s, ok := v.(string); ok {
			return protoreflect.ValueOfString(s), nil
		}
	case protoreflect.BytesKind:
		switch x := v.(type) {
		case []byte:
			return protoreflect.ValueOfBytes(x), nil
		case string:
			return protoreflect.ValueOfBytes([]byte(x)), nil
		}
	case protoreflect.FloatKind:
		if f, ok := number(v); ok {
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
	case protoreflect.DoubleKind:
		if f, ok := number(v); ok {
			return protoreflect.ValueOfFloat64(f), nil
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if i, ok := integer(v); ok && i >= math.MinInt32 && i <= math.MaxInt32 {
			return protoreflect.ValueOfInt32(int32(i)), nil
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if i, ok := integer(v); ok {
			return protoreflect.ValueOfInt64(i), nil
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if i, ok := integer(v); ok && i >= 0 && i <= math.MaxUint32 {
			return protoreflect.ValueOfUint32(uint32(i)), nil
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if i, ok := integer(v); ok {
			return protoreflect.ValueOfUint64(uint64(i)), nil
		}
	case protoreflect.EnumKind:
		switch x := v.(type) {
		case string:
			ev := fd.Enum().Values().ByName(protoreflect.Name(x))
			if ev == nil {
				return protoreflect.Value{}, fmt.Errorf("value '%s' not found in enum type '%s'", x, fd.Enum().Name())
			}
			return protoreflect.ValueOfEnum(ev.Number()), nil
		case int64:
			if x >= math.MinInt32 && x <= math.MaxInt32 {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(x)), nil
			}
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		st, ok := v.(*types.Struct)
		if !ok {
			return bad()
		}
		var m protoreflect.Message
		if parent != nil && !fd.IsList() {
			m = parent.NewField(fd).Message()
		} else {
			m = dynamicpb.NewMessage(fd.Message())
		}
		if err := fill(m, st, depth+1); err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfMessage(m), nil
	}
	return bad()
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}
