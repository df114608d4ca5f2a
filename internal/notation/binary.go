package notation

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ksml-dev/ksml/internal/types"
)

// Binary is the binary notation (also the "default" notation): primitives
// with Kafka's own serializers, so records interoperate with any Kafka
// client, and complex types (struct, list, map, tuple, union, windowed) as
// JSON text, as upstream wires a JSON serde into its binary notation.
//
// Wire forms: string UTF-8; byte 1 byte; short 2, int 4, long 8 bytes
// big-endian two's complement; float and double IEEE-754 big-endian; boolean
// one byte 0 or 1; bytes raw; null no bytes. Nil bytes deserialize to nil for
// every type; empty bytes are "" for string and an empty slice for bytes, and
// nil (a tombstone) for the fixed-width types.
//
// The type any (bare "binary") serializes by the value's own type (int64 as
// long, float64 as double, complex values as JSON) and deserializes to the
// raw bytes, since nothing says how to read them.
type Binary struct{}

// Name returns "binary".
func (Binary) Name() string { return "binary" }

// Info says binary stands for any and takes no schema.
func (Binary) Info() types.NotationInfo {
	i, _ := types.BuiltinNotation("binary")
	return i
}

// Serde returns the Kafka serde of a primitive, string serde of an enum, or
// the JSON serde of a complex type.
func (Binary) Serde(t types.DataType, isKey bool) (Serde, error) {
	switch tt := t.(type) {
	case types.Primitive:
		if tt.Kind < types.KindNull || tt.Kind > types.KindBytes {
			return nil, fmt.Errorf("binary: invalid primitive kind %d", tt.Kind)
		}
		return primitiveSerde{tt.Kind}, nil
	case types.EnumType:
		return enumSerde{tt}, nil
	case nil, types.AnyType:
		return anyBinarySerde{}, nil
	case types.NotationType:
		if _, ok := tt.Default.(types.AnyType); ok || tt.Default == nil {
			return anyBinarySerde{}, nil
		}
		return JSON{}.Serde(tt.Default, isKey)
	}
	return JSON{}.Serde(t, isKey)
}

type primitiveSerde struct{ kind types.Kind }

var fixedWidth = [...]int{
	types.KindBoolean: 1,
	types.KindByte:    1,
	types.KindShort:   2,
	types.KindInt:     4,
	types.KindLong:    8,
	types.KindFloat:   4,
	types.KindDouble:  8,
}

func (s primitiveSerde) Serialize(topic string, headers *[]Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	b, err := appendPrimitive(nil, s.kind, types.Normalize(v))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func appendPrimitive(dst []byte, k types.Kind, v any) ([]byte, error) {
	mismatch := func() error {
		return fmt.Errorf("binary %s: cannot serialize %s", k, describeValue(v))
	}
	switch k {
	case types.KindNull:
		return nil, mismatch()
	case types.KindString:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		if dst == nil {
			return append(make([]byte, 0, len(s)), s...), nil // "" is not a tombstone
		}
		return append(dst, s...), nil
	case types.KindBytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, mismatch()
		}
		if dst == nil {
			return append(make([]byte, 0, len(b)), b...), nil
		}
		return append(dst, b...), nil
	case types.KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case types.KindFloat, types.KindDouble:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		default:
			return nil, mismatch()
		}
		if k == types.KindFloat {
			if !math.IsInf(f, 0) && math.IsInf(float64(float32(f)), 0) {
				return nil, fmt.Errorf("binary float: %v is out of range", f)
			}
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
	}
	n, ok := v.(int64)
	if !ok || !types.Fits(n, types.Primitive{Kind: k}) {
		if ok {
			return nil, fmt.Errorf("binary %s: %d is out of range", k, n)
		}
		return nil, mismatch()
	}
	switch k {
	case types.KindByte:
		return append(dst, byte(n)), nil
	case types.KindShort:
		return binary.BigEndian.AppendUint16(dst, uint16(n)), nil
	case types.KindInt:
		return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
	}
	return binary.BigEndian.AppendUint64(dst, uint64(n)), nil
}

func (s primitiveSerde) Deserialize(topic string, headers []Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	switch s.kind {
	case types.KindString:
		return string(b), nil
	case types.KindBytes:
		return append([]byte{}, b...), nil
	case types.KindNull:
		if len(b) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("binary null: expected no bytes, got %d", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	if w := fixedWidth[s.kind]; len(b) != w {
		return nil, fmt.Errorf("binary %s: expected %d bytes, got %d", s.kind, w, len(b))
	}
	switch s.kind {
	case types.KindBoolean:
		switch b[0] {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, fmt.Errorf("binary boolean: unexpected byte %d (expected 0 or 1)", b[0])
	case types.KindByte:
		return int64(int8(b[0])), nil
	case types.KindShort:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case types.KindInt:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case types.KindLong:
		return int64(binary.BigEndian.Uint64(b)), nil
	case types.KindFloat:
		return types.FloatValue(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// enumSerde writes enum symbols as UTF-8 strings and checks them both ways.
type enumSerde struct{ t types.EnumType }

func (s enumSerde) Serialize(topic string, headers *[]Header, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil || v == nil {
		return nil, err
	}
	sym, ok := v.(string)
	if !ok || !s.t.Has(sym) {
		return nil, fmt.Errorf("binary %s: cannot serialize %s", s.t, describeValue(v))
	}
	return []byte(sym), nil
}

func (s enumSerde) Deserialize(topic string, headers []Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	if !s.t.Has(string(b)) {
		return nil, fmt.Errorf("binary %s: %q is not one of the symbols", s.t, b)
	}
	return string(b), nil
}

// anyBinarySerde serves the type any under binary.
type anyBinarySerde struct{}

func (anyBinarySerde) Serialize(topic string, headers *[]Header, v any) ([]byte, error) {
	if m, ok := v.(types.JSONMarshaler); ok {
		return m.KSMLJSON()
	}
	v, err := types.Resolve(v)
	if err != nil || v == nil {
		return nil, err
	}
	v = types.Normalize(v)
	switch v.(type) {
	case string:
		return appendPrimitive(nil, types.KindString, v)
	case []byte:
		return appendPrimitive(nil, types.KindBytes, v)
	case int64:
		return appendPrimitive(nil, types.KindLong, v)
	case float64:
		return appendPrimitive(nil, types.KindDouble, v)
	case bool:
		return appendPrimitive(nil, types.KindBoolean, v)
	}
	return types.MarshalJSON(v)
}

func (anyBinarySerde) Deserialize(topic string, headers []Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return append([]byte{}, b...), nil
}

func describeValue(v any) string {
	s := types.Format(v)
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	if _, ok := v.(string); ok {
		s = fmt.Sprintf("%q", s)
	}
	return types.TypeOf(v).String() + " " + s
}
