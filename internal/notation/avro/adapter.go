package avro

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"ksml/internal/notation"
	"ksml/internal/types"
)

// This file plugs Notation into the notation registry (package notation):
// register it under `avro`, `confluent_avro` or `apicurio_avro`.

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.Converter      = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
	_ notation.Serde          = (*typeSerde)(nil)
)

// Info tells the type parser that the notation alone means a struct whose
// schema comes from the registry, and that it takes schema names.
func (n *Notation) Info() types.NotationInfo {
	return types.NotationInfo{Default: types.StructType{}, Schema: types.SchemaOptional}
}

// Serde implements notation.Notation. `avro:Name` (a StructType with a
// schema name) loads Name from the schema directories now, so a missing or
// broken schema fails at startup; the bare notation (`avro`) resolves the
// latest schema of `<topic>-key|-value` from the registry on first use. Other
// types are refused: Avro holds records only, as upstream.
func (n *Notation) Serde(t types.DataType, isKey bool) (notation.Serde, error) {
	switch tt := t.(type) {
	case types.StructType:
		if tt.SchemaName != "" {
			s, err := n.loader.Load(tt.SchemaName)
			if err != nil {
				return nil, err
			}
			if err := requireRecord(s, tt.SchemaName); err != nil {
				return nil, err
			}
			label := tt.String()
			return &typeSerde{key: &Serde{n: n, schema: s, isKey: true, label: label}, value: &Serde{n: n, schema: s, isKey: false, label: label}}, nil
		}
		return n.bareTypeSerde(tt.Notation), nil
	case types.NotationType:
		return n.bareTypeSerde(tt.Notation), nil
	case types.WindowedType:
		sc, err := n.windowedSchema(tt)
		if err != nil {
			return nil, err
		}
		label := "avro:" + tt.String()
		return &typeSerde{key: &Serde{n: n, schema: sc, isKey: true, label: label}, value: &Serde{n: n, schema: sc, isKey: false, label: label}}, nil
	case nil:
		return nil, errors.New("avro needs a record type")
	}
	return nil, fmt.Errorf("notation %s holds Avro records only, not %s", n.name, t)
}

func (n *Notation) bareTypeSerde(label string) *typeSerde {
	if label == "" {
		label = n.name
	}
	return &typeSerde{key: &Serde{n: n, isKey: true, label: label}, value: &Serde{n: n, isKey: false, label: label}}
}

// typeSerde serves one declared type on both sides; the side is chosen per
// call, as notation.Serde passes it.
type typeSerde struct {
	key, value *Serde
}

func (t *typeSerde) side(isKey bool) *Serde {
	if isKey {
		return t.key
	}
	return t.value
}

// Serialize implements notation.Serde. In the Apicurio headers mode the id
// header is appended to *headers; without headers to write to it fails.
func (t *typeSerde) Serialize(v any, topic string, isKey bool, headers *[]notation.Header) ([]byte, error) {
	s := t.side(isKey)
	data, hs, err := s.serialize(nil, topic, v)
	if err != nil {
		return nil, err
	}
	if len(hs) > 0 {
		if headers == nil {
			return nil, s.fail("serialize", topic, errors.New("apicurio.registry.headers.enabled is true but this record cannot carry headers"))
		}
		for _, h := range hs {
			*headers = append(*headers, notation.Header{Key: h.Key, Value: h.Value})
		}
	}
	return data, nil
}

// Deserialize implements notation.Serde.
func (t *typeSerde) Deserialize(b []byte, topic string, isKey bool) (any, error) {
	return t.side(isKey).Deserialize(topic, b)
}

// StructSchema implements notation.SchemaResolver: the StructSchema of the
// record schema t names, loaded from the schema directories.
func (n *Notation) StructSchema(t types.StructType) (*types.StructSchema, error) {
	s, err := n.loader.Load(t.SchemaName)
	if err != nil {
		return nil, err
	}
	if err := requireRecord(s, t.SchemaName); err != nil {
		return nil, err
	}
	return structSchemaOf(deref(s.Avro).(*avro.RecordSchema)), nil
}

// ConvertValue implements notation.Converter: a value converted to
// `avro:Name` is conformed to the schema by writing it and reading it back,
// so it gets exactly the shape a consumer of the topic would see (field
// order, defaults, decimal text, the StructSchema), and a value that does not
// fit fails here with the field named. Other targets are left to the generic
// conversion.
func (n *Notation) ConvertValue(v any, to types.DataType) (any, bool, error) {
	st, ok := to.(types.StructType)
	if !ok || st.SchemaName == "" {
		return nil, false, nil
	}
	s, err := n.loader.Load(st.SchemaName)
	if err != nil {
		return nil, false, err
	}
	if err := requireRecord(s, st.SchemaName); err != nil {
		return nil, false, err
	}
	if text, isText := v.(string); isText {
		// JSON text becomes a record, as upstream converts a string to a
		// struct type by parsing it.
		parsed, err := types.Convert(text, types.StructType{})
		if err != nil {
			return nil, false, err
		}
		v = parsed
	}
	// Callers name the target ("converting to avro:Name: ..."); the error
	// names the field.
	out, err := Conform(v, s)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// Conform returns v in the shape schema s gives it: encoded and decoded
// again. nil stays nil.
func Conform(v any, s *Schema) (any, error) {
	v, err := types.Resolve(v)
	if err != nil || v == nil {
		return v, err
	}
	data, err := encode(nil, s.Avro, v)
	if err != nil {
		return nil, err
	}
	var fn decodeFn
	if cached, ok := conformDecoders.Load(s.Avro); ok {
		fn = cached.(decodeFn)
	} else {
		if fn, err = compileDecoder(s.Avro, s.Avro); err != nil {
			return nil, err
		}
		conformDecoders.Store(s.Avro, fn)
	}
	return fn(&reader{b: data})
}

// conformDecoders caches Conform's decoders by schema.
var conformDecoders sync.Map // avro.Schema -> decodeFn

func requireRecord(s *Schema, name string) error {
	if _, ok := deref(s.Avro).(*avro.RecordSchema); !ok {
		return fmt.Errorf("%s: AVRO schema %s is a %s, not a record", s.Source, name, s.Avro.Type())
	}
	return nil
}
