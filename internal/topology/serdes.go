package topology

import (
	"encoding/binary"
	"fmt"
	"math"

	"ksml/internal/streams"
	"ksml/internal/types"
)

// BuiltinSerdes provides serdes for the schemaless notations every setup
// has: binary (the default; Kafka's primitive serializations, complex
// values as JSON text) and json. Schema notations (avro, ...) come from the
// notation registry; asking BuiltinSerdes for one is an error.
type BuiltinSerdes struct{}

// Serde implements SerdeProvider.
func (BuiltinSerdes) Serde(t types.UserType, isKey bool) (streams.Serde, error) {
	switch t.Notation {
	case "", types.DefaultNotation, "binary":
		dt := t.Type
		if nt, ok := dt.(types.NotationType); ok {
			dt = nt.Default
		}
		return binarySerde{t: dt}, nil
	case "json":
		return jsonSerde{}, nil
	}
	return nil, fmt.Errorf("notation %q is not available", t.Notation)
}

type jsonSerde struct{}

func (jsonSerde) Serialize(_ string, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return types.MarshalJSON(v)
}

func (jsonSerde) Deserialize(_ string, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return types.DecodeJSON(b)
}

// binarySerde writes primitives as Kafka's serializers do (big-endian
// numbers, UTF-8 strings, raw bytes) and anything else as JSON text.
type binarySerde struct{ t types.DataType }

func (s binarySerde) Serialize(_ string, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil || v == nil {
		return nil, err
	}
	if p, ok := s.t.(types.Primitive); ok {
		cv, err := types.Convert(v, p)
		if err != nil {
			return nil, err
		}
		v = cv
		switch p.Kind {
		case types.KindByte:
			return []byte{byte(v.(int64))}, nil
		case types.KindShort:
			return binary.BigEndian.AppendUint16(nil, uint16(v.(int64))), nil
		case types.KindInt:
			return binary.BigEndian.AppendUint32(nil, uint32(v.(int64))), nil
		case types.KindLong:
			return binary.BigEndian.AppendUint64(nil, uint64(v.(int64))), nil
		case types.KindFloat:
			return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(v.(float64)))), nil
		case types.KindDouble:
			return binary.BigEndian.AppendUint64(nil, math.Float64bits(v.(float64))), nil
		case types.KindBoolean:
			if v.(bool) {
				return []byte{1}, nil
			}
			return []byte{0}, nil
		case types.KindNull:
			return nil, nil
		}
	}
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case int64:
		return binary.BigEndian.AppendUint64(nil, uint64(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(x)), nil
	case bool:
		if x {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	}
	return types.MarshalJSON(v)
}

func (s binarySerde) Deserialize(_ string, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	want := func(n int, name string) error {
		if len(b) != n {
			return fmt.Errorf("a %s needs %d bytes, got %d", name, n, len(b))
		}
		return nil
	}
	switch t := s.t.(type) {
	case types.Primitive:
		switch t.Kind {
		case types.KindString:
			return string(b), nil
		case types.KindBytes:
			return b, nil
		case types.KindByte:
			if err := want(1, "byte"); err != nil {
				return nil, err
			}
			return int64(int8(b[0])), nil
		case types.KindShort:
			if err := want(2, "short"); err != nil {
				return nil, err
			}
			return int64(int16(binary.BigEndian.Uint16(b))), nil
		case types.KindInt:
			if err := want(4, "int"); err != nil {
				return nil, err
			}
			return int64(int32(binary.BigEndian.Uint32(b))), nil
		case types.KindLong:
			if err := want(8, "long"); err != nil {
				return nil, err
			}
			return int64(binary.BigEndian.Uint64(b)), nil
		case types.KindFloat:
			if err := want(4, "float"); err != nil {
				return nil, err
			}
			return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
		case types.KindDouble:
			if err := want(8, "double"); err != nil {
				return nil, err
			}
			return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
		case types.KindBoolean:
			if err := want(1, "boolean"); err != nil {
				return nil, err
			}
			return b[0] != 0, nil
		case types.KindNull:
			return nil, nil
		}
	case types.AnyType, nil:
		return b, nil
	}
	return types.DecodeJSON(b)
}
