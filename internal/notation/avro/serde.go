package avro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// NotationName is the notation of Avro struct schemas and values, whichever
// registry vendor carries them.
const NotationName = "avro"

// Vendor is the schema registry wire format a Notation speaks.
type Vendor int

const (
	// Confluent: magic byte 0, 4-byte big-endian schema id, Avro binary.
	Confluent Vendor = iota
	// Apicurio: the same payload framing with a content (or global) id by
	// default, as upstream pins it; or, with headers enabled, the id in a
	// record header and bare Avro binary as the payload.
	Apicurio
)

func (v Vendor) String() string {
	if v == Apicurio {
		return "apicurio"
	}
	return "confluent"
}

// registryTimeout bounds one registry call made on behalf of a record.
const registryTimeout = 30 * time.Second

// Notation is one registered Avro notation (`avro`, `confluent_avro`,
// `apicurio_avro` or an alias): a vendor wire format, a registry, the schema
// loader and the serde settings. It caches what it learns from the registry
// (schemas by id, ids by subject and schema, compiled decoders), so the
// registry is called once per schema, not per record. Safe for concurrent
// use.
type Notation struct {
	name   string
	vendor Vendor
	reg    schemaregistry.Registry
	loader *Loader

	autoRegister bool
	useLatest    bool
	findLatest   bool // Apicurio: resolve the artifact by coordinates
	framing      notation.SchemaIDFraming
	log          *slog.Logger // warnings about values read; nil drops them
	keyStrategy  subjectStrategy
	valStrategy  subjectStrategy

	byID     sync.Map // int -> *Schema
	ids      sync.Map // idKey -> idEntry
	decoders sync.Map // decoderKey -> decodeFn
	latest   sync.Map // subject -> *Schema, for bare types
	ofRecord sync.Map // *avro.RecordSchema -> *Schema, for values carrying their schema
}

type subjectStrategy int

const (
	topicName subjectStrategy = iota
	recordName
	topicRecordName
)

type idKey struct {
	subject string
	schema  avro.Schema
}

type idEntry struct {
	id     int
	writer *Schema // the schema the value is written with
}

type decoderKey struct {
	id     int
	reader avro.Schema
}

// NewNotation returns a notation for vendor over reg, loading `avro:Name`
// schemas with loader. name is the notation's registered name, used in
// messages. props are the serde properties (the notation's `config` merged
// over the registry's), read as upstream's serdes read them:
//
//	Confluent: auto.register.schemas (default true), use.latest.version
//	  (default false), key.subject.name.strategy / value.subject.name.strategy
//	  (TopicNameStrategy default, RecordNameStrategy, TopicRecordNameStrategy)
//	Apicurio: apicurio.registry.auto-register (default false),
//	  apicurio.registry.find-latest (default true, as KSML pins it),
//	  apicurio.registry.headers.enabled (default false),
//	  apicurio.registry.use-id (contentId default, globalId),
//	  apicurio.registry.id-handler (Default4ByteIdHandler default)
//
// reg may be nil when no registry is configured; the notation then fails on
// first use with a message saying so. A setting it cannot honour is an error.
func NewNotation(name string, vendor Vendor, reg schemaregistry.Registry, loader *Loader, props map[string]any) (*Notation, error) {
	if loader == nil {
		loader = NewLoader()
	}
	if props == nil {
		props = map[string]any{}
	}
	n := &Notation{name: name, vendor: vendor, reg: reg, loader: loader}
	var err error
	switch vendor {
	case Confluent:
		if n.autoRegister, err = schemaregistry.BoolProp(props, "auto.register.schemas", true); err != nil {
			return nil, err
		}
		if n.useLatest, err = schemaregistry.BoolProp(props, "use.latest.version", false); err != nil {
			return nil, err
		}
		if n.keyStrategy, err = strategy(props, "key.subject.name.strategy"); err != nil {
			return nil, err
		}
		if n.valStrategy, err = strategy(props, "value.subject.name.strategy"); err != nil {
			return nil, err
		}
	case Apicurio:
		if err := schemaregistry.RejectApicurioV2(props); err != nil {
			return nil, err
		}
		if n.autoRegister, err = schemaregistry.BoolProp(props, "apicurio.registry.auto-register", false); err != nil {
			return nil, err
		}
		if n.findLatest, err = schemaregistry.BoolProp(props, "apicurio.registry.find-latest", true); err != nil {
			return nil, err
		}
		if n.framing, err = notation.ApicurioFraming(props); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("notation %s: unknown Avro vendor %d", name, vendor)
	}
	return n, nil
}

func propOr(props map[string]any, key string, def any) any {
	if v, ok := props[key]; ok && v != nil {
		return v
	}
	return def
}

func strategy(props map[string]any, key string) (subjectStrategy, error) {
	v := fmt.Sprint(propOr(props, key, ""))
	switch {
	case v == "" || strings.HasSuffix(v, "TopicNameStrategy"):
		return topicName, nil
	case strings.HasSuffix(v, "TopicRecordNameStrategy"):
		return topicRecordName, nil
	case strings.HasSuffix(v, "RecordNameStrategy"):
		return recordName, nil
	}
	return 0, fmt.Errorf("%s %q is not supported (TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy)", key, v)
}

// Name returns the notation's registered name.
func (n *Notation) Name() string { return n.name }

// Vendor returns the wire format.
func (n *Notation) Vendor() Vendor { return n.vendor }

// Loader returns the schema loader.
func (n *Notation) Loader() *Loader { return n.loader }

// Registry returns the registry, nil when none is configured.
func (n *Notation) Registry() schemaregistry.Registry { return n.reg }

// Subject returns the TopicNameStrategy subject of topic: `<topic>-key` or
// `<topic>-value`.
func Subject(topic string, isKey bool) string {
	if isKey {
		return topic + "-key"
	}
	return topic + "-value"
}

func (n *Notation) subject(topic string, isKey bool, s *Schema) string {
	st := n.valStrategy
	if isKey {
		st = n.keyStrategy
	}
	switch st {
	case recordName:
		return s.Name()
	case topicRecordName:
		return topic + "-" + s.Name()
	}
	return Subject(topic, isKey)
}

func (n *Notation) registry() (schemaregistry.Registry, error) {
	if n.reg == nil {
		return nil, fmt.Errorf("notation %s: no schema registry is configured (set ksml.schemaRegistries and the notation's schemaRegistry)", n.name)
	}
	return n.reg, nil
}

// SerdeFor returns the serde for values of `<notation>:<schemaName>` on topic.
// With a schema name the schema is loaded from the schema directories; it is
// the reader schema and the schema values are written with. Without one (bare
// `avro`), the latest schema of the topic's subject is fetched from the
// registry now, as upstream does at startup; it fails when the registry has no
// such subject.
func (n *Notation) SerdeFor(schemaName, topic string, isKey bool) (*Serde, error) {
	if schemaName != "" {
		s, err := n.loader.Load(schemaName)
		if err != nil {
			return nil, err
		}
		if err := requireRecord(s, schemaName); err != nil {
			return nil, err
		}
		return &Serde{n: n, schema: s, isKey: isKey}, nil
	}
	s, err := n.FetchSchema(topic, isKey)
	if err != nil {
		return nil, err
	}
	return &Serde{n: n, schema: s, isKey: isKey}, nil
}

// SerdeWithSchema returns a serde for an already parsed schema.
func (n *Notation) SerdeWithSchema(s *Schema, isKey bool) *Serde {
	return &Serde{n: n, schema: s, isKey: isKey}
}

// FetchSchema returns the latest schema of the topic's subject
// (TopicNameStrategy) from the registry.
func (n *Notation) FetchSchema(topic string, isKey bool) (*Schema, error) {
	return n.fetchSchema(n.name, topic, isKey)
}

// fetchSchema is FetchSchema naming the type as label in errors.
func (n *Notation) fetchSchema(label, topic string, isKey bool) (*Schema, error) {
	subject := Subject(topic, isKey)
	reg, err := n.registry()
	if err != nil {
		return nil, fmt.Errorf("type %s has no schema name and %w", label, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	latest, err := reg.Latest(ctx, subject)
	if err != nil {
		if errors.Is(err, schemaregistry.ErrNotFound) {
			return nil, fmt.Errorf("type %s has no schema name and the schema registry has no subject %q; declare the type as %s:<SchemaName> or register the schema", label, subject, label)
		}
		return nil, fmt.Errorf("fetching the schema of subject %q: %w", subject, err)
	}
	s, err := ParseSchema(latest.Schema, fmt.Sprintf("subject %s version %d", subject, latest.Version))
	if err != nil {
		return nil, err
	}
	n.byID.LoadOrStore(latest.ID, s)
	return s, nil
}

// Preregister registers the schema named schemaName under the topic's subject
// (TopicNameStrategy), as the test runner does with its in-memory registry
// for every stream declared with an Avro schema.
func (n *Notation) Preregister(topic string, isKey bool, schemaName string) (int, error) {
	s, err := n.loader.Load(schemaName)
	if err != nil {
		return 0, err
	}
	reg, err := n.registry()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	id, err := reg.Register(ctx, Subject(topic, isKey), s.Text)
	if err != nil {
		return 0, fmt.Errorf("registering %s under subject %q: %w", schemaName, Subject(topic, isKey), err)
	}
	n.byID.LoadOrStore(id, s)
	return id, nil
}

// writerID returns the registry id for writing a value of s to subject, and
// the schema to write it with (the registry's latest when so configured).
func (n *Notation) writerID(subject string, s *Schema) (idEntry, error) {
	key := idKey{subject: subject, schema: s.Avro}
	if e, ok := n.ids.Load(key); ok {
		return e.(idEntry), nil
	}
	reg, err := n.registry()
	if err != nil {
		return idEntry{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	entry := idEntry{writer: s}
	switch {
	case n.autoRegister:
		entry.id, err = reg.Register(ctx, subject, s.Text)
	case n.useLatest || n.findLatest:
		var latest schemaregistry.SubjectSchema
		latest, err = reg.Latest(ctx, subject)
		if err == nil {
			entry.id = latest.ID
			entry.writer, err = n.schemaForID(latest.ID, latest.Schema, subject)
		}
	default:
		entry.id, err = reg.Lookup(ctx, subject, s.Text)
	}
	if err != nil {
		if errors.Is(err, schemaregistry.ErrNotFound) {
			return idEntry{}, fmt.Errorf("schema %s is not registered under subject %q and auto-registration is off: %w", s.Name(), subject, err)
		}
		return idEntry{}, fmt.Errorf("schema registry, subject %q: %w", subject, err)
	}
	n.ids.Store(key, entry)
	return entry, nil
}

func (n *Notation) schemaForID(id int, text, source string) (*Schema, error) {
	if s, ok := n.byID.Load(id); ok {
		return s.(*Schema), nil
	}
	s, err := ParseSchema(text, fmt.Sprintf("%s (schema id %d)", source, id))
	if err != nil {
		return nil, err
	}
	v, _ := n.byID.LoadOrStore(id, s)
	return v.(*Schema), nil
}

// writerSchema returns the schema with registry id id.
func (n *Notation) writerSchema(id int) (*Schema, error) {
	if s, ok := n.byID.Load(id); ok {
		return s.(*Schema), nil
	}
	reg, err := n.registry()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	text, err := reg.SchemaByID(ctx, id)
	if err != nil {
		if errors.Is(err, schemaregistry.ErrNotFound) {
			return nil, fmt.Errorf("unknown schema id %d: %w", id, err)
		}
		return nil, fmt.Errorf("fetching schema id %d: %w", id, err)
	}
	s, err := n.schemaForID(id, text, "registry")
	if err == nil {
		return s, nil
	}
	// The schema may use named types of other subjects (schema references).
	rr, ok := reg.(schemaregistry.ReferenceResolver)
	if !ok {
		return nil, err
	}
	refs, rerr := rr.References(ctx, id)
	if rerr != nil || len(refs) == 0 {
		if rerr != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, rerr)
		}
		return nil, err
	}
	cache := &avro.SchemaCache{}
	for i, ref := range refs {
		if _, perr := avro.ParseWithCache(ref, "", cache); perr != nil {
			return nil, fmt.Errorf("schema id %d: reference %d: invalid Avro schema: %w", id, i+1, perr)
		}
	}
	parsed, perr := avro.ParseWithCache(text, "", cache)
	if perr != nil {
		return nil, fmt.Errorf("registry (schema id %d): invalid Avro schema: %w", id, perr)
	}
	v, _ := n.byID.LoadOrStore(id, &Schema{Avro: parsed, Text: text, Source: fmt.Sprintf("registry (schema id %d)", id)})
	return v.(*Schema), nil
}

func (n *Notation) decoder(id int, writer *Schema, reader avro.Schema) (decodeFn, error) {
	key := decoderKey{id: id, reader: reader}
	if fn, ok := n.decoders.Load(key); ok {
		return fn.(decodeFn), nil
	}
	fn, err := compileDecoder(writer.Avro, reader)
	if err != nil {
		return nil, fmt.Errorf("schema id %d (%s) cannot be read as %s: %w", id, writer.Name(), typeName(reader), err)
	}
	n.decoders.Store(key, fn)
	return fn, nil
}

// Serde serializes and deserializes one Avro type on the key or value side;
// it is the engine's serde (streams.Serde). Nil maps to nil both ways
// (tombstones).
//
// A serde without a schema (a bare `avro` type, made by NewBareSerde) reads
// records in their writer schema and writes a value with the schema it
// carries (a struct decoded from Avro), else with the latest schema of the
// topic's subject.
type Serde struct {
	n      *Notation
	schema *Schema // nil for a bare type
	isKey  bool
	label  string // the type as declared, for messages; "" = the notation name
}

// NewBareSerde returns a serde for the bare notation type, which resolves
// schemas per topic when used.
func (n *Notation) NewBareSerde(isKey bool) *Serde {
	return &Serde{n: n, isKey: isKey}
}

func (s *Serde) name() string {
	if s.label != "" {
		return s.label
	}
	return s.n.name
}

// Schema returns the serde's schema (the declared or fetched one), nil for a
// bare serde.
func (s *Serde) Schema() *Schema { return s.schema }

// StructSchema returns the StructSchema values of this serde carry, nil for a
// bare serde.
func (s *Serde) StructSchema() *types.StructSchema {
	if s.schema == nil {
		return nil
	}
	if rs, ok := deref(s.schema.Avro).(*avro.RecordSchema); ok {
		return structSchemaOf(rs)
	}
	return nil
}

// bareWriterSchema picks the schema a bare serde writes v with.
func (n *Notation) bareWriterSchema(label, topic string, isKey bool, v any) (*Schema, error) {
	if st, ok := v.(*types.Struct); ok && st.Schema != nil {
		if rs, ok := st.Schema.Native.(*avro.RecordSchema); ok {
			if s, ok := n.ofRecord.Load(rs); ok {
				return s.(*Schema), nil
			}
			text, err := SchemaJSON(rs)
			if err != nil {
				return nil, fmt.Errorf("schema of %s: %w", rs.FullName(), err)
			}
			s, _ := n.ofRecord.LoadOrStore(rs, &Schema{Avro: rs, Text: text, Source: rs.FullName()})
			return s.(*Schema), nil
		}
	}
	subject := Subject(topic, isKey)
	if s, ok := n.latest.Load(subject); ok {
		return s.(*Schema), nil
	}
	s, err := n.fetchSchema(label, topic, isKey)
	if err != nil {
		return nil, err
	}
	n.latest.Store(subject, s)
	return s, nil
}

// SerdeError is a failed serialization or deserialization. The engine adds
// partition and offset when it knows them.
type SerdeError struct {
	Op       string // "serialize" or "deserialize"
	Notation string
	Topic    string
	// Partition and Offset are -1 until the caller fills them in.
	Partition int32
	Offset    int64
	Field     string // dotted path of the offending field, "" for the whole value
	Err       error
}

func (e *SerdeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: topic %s", e.Notation, e.Op, e.Topic)
	if e.Partition >= 0 {
		fmt.Fprintf(&b, ", partition %d", e.Partition)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ", offset %d", e.Offset)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	b.WriteString(": ")
	var fe *FieldError
	if errors.As(e.Err, &fe) {
		b.WriteString(fe.Err.Error())
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *SerdeError) Unwrap() error { return e.Err }

// SetPosition records where the failing record sits; the engine calls it
// (errors.As) because serdes see only the topic.
func (e *SerdeError) SetPosition(partition int32, offset int64) {
	e.Partition, e.Offset = partition, offset
}

func (s *Serde) fail(op, topic string, err error) error {
	se := &SerdeError{Op: op, Notation: s.name(), Topic: topic, Partition: -1, Offset: -1, Err: err}
	var fe *FieldError
	if errors.As(err, &fe) {
		se.Field = fe.Field
	}
	return se
}

// Serialize encodes v for topic in the notation's wire format. In
// Apicurio's headers mode (apicurio.registry.headers.enabled) the schema id
// is appended to *headers and the payload is bare Avro binary; with nil
// headers (a record that carries none, such as a store's changelog value)
// the id is framed in the payload instead, as Apicurio's serializer does.
// Failures are *SerdeError.
func (s *Serde) Serialize(topic string, headers *[]notation.Header, v any) ([]byte, error) {
	return s.AppendSerialize(nil, topic, headers, v)
}

// AppendSerialize is Serialize appending the payload to dst.
func (s *Serde) AppendSerialize(dst []byte, topic string, headers *[]notation.Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, s.fail("serialize", topic, err)
	}
	if v == nil {
		return nil, nil
	}
	schema := s.schema
	if schema == nil {
		if schema, err = s.n.bareWriterSchema(s.name(), topic, s.isKey, v); err != nil {
			return nil, s.fail("serialize", topic, err)
		}
	}
	subject := s.n.subject(topic, s.isKey, schema)
	entry, err := s.n.writerID(subject, schema)
	if err != nil {
		return nil, s.fail("serialize", topic, err)
	}
	dst = s.n.framing.Write(dst, headers, s.isKey, entry.id)
	out, err := encode(dst, entry.writer.Avro, v)
	if err != nil {
		return nil, s.fail("serialize", topic, err)
	}
	return out, nil
}

// Deserialize decodes a record for topic written in the notation's wire
// format, resolving the writer schema (by the id in the headers in
// Apicurio's headers mode, else in the payload) against the serde's schema.
// Unknown ids, truncated payloads and values that do not fit are *SerdeError.
func (s *Serde) Deserialize(topic string, headers []notation.Header, data []byte) (any, error) {
	if data == nil {
		return nil, nil
	}
	id, body, err := s.frame(headers, data)
	if err != nil {
		return nil, s.fail("deserialize", topic, err)
	}
	writer, err := s.n.writerSchema(id)
	if err != nil {
		return nil, s.fail("deserialize", topic, err)
	}
	readAs := writer.Avro
	if s.schema != nil {
		readAs = s.schema.Avro
	}
	fn, err := s.n.decoder(id, writer, readAs)
	if err != nil {
		return nil, s.fail("deserialize", topic, err)
	}
	v, err := fn(&reader{b: body, log: s.n.log})
	if err != nil {
		return nil, s.fail("deserialize", topic, err)
	}
	return v, nil
}

// frame splits the schema id from the Avro body.
func (s *Serde) frame(headers []notation.Header, data []byte) (int, []byte, error) {
	return s.n.framing.Read(headers, data, s.isKey, s.n.vendor.String()+" Avro")
}

// SchemaJSON returns the JSON text of an Avro schema (with docs and
// defaults), for registering schemas built in code.
func SchemaJSON(s avro.Schema) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
