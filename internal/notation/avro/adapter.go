package avro

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/types"
)

// This file plugs Notation into the notation registry (package notation):
// register it under `avro`, `confluent_avro` or `apicurio_avro`.

var (
	_ notation.Notation       = (*Notation)(nil)
	_ notation.Converter      = (*Notation)(nil)
	_ notation.SchemaResolver = (*Notation)(nil)
	_ notation.Serde          = (*Serde)(nil)
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
			return &Serde{n: n, schema: s, isKey: isKey, label: tt.String()}, nil
		}
		return n.bareSerde(tt.Notation, isKey), nil
	case types.NotationType:
		return n.bareSerde(tt.Notation, isKey), nil
	case types.WindowedType:
		sc, err := n.windowedSchema(tt)
		if err != nil {
			return nil, err
		}
		return &Serde{n: n, schema: sc, isKey: isKey, label: "avro:" + tt.String()}, nil
	case nil:
		return nil, errors.New("avro needs a record type")
	}
	return nil, fmt.Errorf("notation %s holds Avro records only, not %s", n.name, t)
}

// bareSerde is the serde of a type without a schema name, labelled as
// declared for messages.
func (n *Notation) bareSerde(label string, isKey bool) *Serde {
	if label == "" {
		label = n.name
	}
	return &Serde{n: n, isKey: isKey, label: label}
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
