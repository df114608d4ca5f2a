package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/types"
)

// The encoder writes a data-model value as Avro binary for a schema, with the
// conversions upstream KSML applies on the write path: numbers widen and
// narrow with range checks, enum symbols must be declared, a decimal is given
// as a string and must fit the precision and scale, uuid and time values are
// validated, a missing record field takes its default (or null when the field
// is nullable), and a union takes the branch that matches the value's kind.
// A value that does not fit is an error naming the field.

// Encode appends the Avro binary encoding of v under schema s to dst.
func Encode(dst []byte, s avro.Schema, v any) ([]byte, error) {
	return encode(dst, s, v)
}

func encode(dst []byte, s avro.Schema, v any) ([]byte, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return dst, err
	}
	switch s := deref(s).(type) {
	case *avro.NullSchema:
		if v != nil {
			return dst, fmt.Errorf("expected null, got %s", types.KindName(v))
		}
		return dst, nil
	case *avro.PrimitiveSchema:
		return encodePrimitive(dst, s, v)
	case *avro.RecordSchema:
		return encodeRecord(dst, s, v)
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return dst, fmt.Errorf("cannot convert %s to Avro enum %s", types.KindName(v), s.FullName())
		}
		for i, sym := range s.Symbols() {
			if sym == str {
				return appendLong(dst, int64(i)), nil
			}
		}
		return dst, fmt.Errorf("value %q is not a valid symbol of Avro enum %s (allowed: %s)", str, s.FullName(), strings.Join(s.Symbols(), ", "))
	case *avro.ArraySchema:
		var items []any
		switch a := v.(type) {
		case []any:
			items = a
		case types.Tuple:
			items = a
		default:
			return dst, fmt.Errorf("cannot convert %s to Avro array", types.KindName(v))
		}
		if len(items) > 0 {
			dst = appendLong(dst, int64(len(items)))
			for i, e := range items {
				if dst, err = encode(dst, s.Items(), e); err != nil {
					return dst, inIndex(i, err)
				}
			}
		}
		return appendLong(dst, 0), nil
	case *avro.MapSchema:
		switch m := v.(type) {
		case *types.Struct:
			if m.Len() > 0 {
				dst = appendLong(dst, int64(m.Len()))
				m.Range(func(k string, e any) bool {
					dst = appendBytes(dst, []byte(k))
					dst, err = encode(dst, s.Values(), e)
					if err != nil {
						err = inField(k, err)
						return false
					}
					return true
				})
				if err != nil {
					return dst, err
				}
			}
		case map[string]any:
			if len(m) > 0 {
				dst = appendLong(dst, int64(len(m)))
				// Sorted, so the same map always encodes to the same bytes.
				for _, k := range slices.Sorted(maps.Keys(m)) {
					e := m[k]
					dst = appendBytes(dst, []byte(k))
					if dst, err = encode(dst, s.Values(), e); err != nil {
						return dst, inField(k, err)
					}
				}
			}
		default:
			return dst, fmt.Errorf("cannot convert %s to Avro map", types.KindName(v))
		}
		return appendLong(dst, 0), nil
	case *avro.FixedSchema:
		b, ok := v.([]byte)
		if !ok {
			return dst, fmt.Errorf("cannot convert %s to Avro fixed %s", types.KindName(v), s.FullName())
		}
		if len(b) != s.Size() {
			return dst, fmt.Errorf("Avro fixed %s needs %d bytes, got %d", s.FullName(), s.Size(), len(b))
		}
		return append(dst, b...), nil
	case *avro.UnionSchema:
		return encodeUnion(dst, s, v)
	}
	return dst, fmt.Errorf("unsupported Avro schema type %s", s.Type())
}

func encodeRecord(dst []byte, s *avro.RecordSchema, v any) ([]byte, error) {
	var get func(string) (any, bool)
	if w, ok := v.(types.Windowed); ok {
		v = types.WindowedStruct(w) // a windowed key under its generated schema
	}
	switch r := v.(type) {
	case *types.Struct:
		get = r.Get
	case map[string]any:
		get = func(k string) (any, bool) { e, ok := r[k]; return e, ok }
	default:
		return dst, fmt.Errorf("cannot convert %s to Avro record %s", types.KindName(v), s.FullName())
	}
	var err error
	for _, f := range s.Fields() {
		fv, ok := get(f.Name())
		if !ok {
			switch {
			case f.HasDefault():
				if fv, err = defaultValue(f.Type(), f.Default()); err != nil {
					return dst, inField(f.Name(), err)
				}
			case nullable(f.Type()):
				fv = nil
			default:
				return dst, inField(f.Name(), fmt.Errorf("missing value for required field of type %s", typeName(f.Type())))
			}
		}
		if dst, err = encode(dst, f.Type(), fv); err != nil {
			return dst, inField(f.Name(), err)
		}
	}
	return dst, nil
}

func nullable(s avro.Schema) bool {
	switch s := deref(s).(type) {
	case *avro.NullSchema:
		return true
	case *avro.UnionSchema:
		return s.Nullable() || s.Contains(avro.Null)
	}
	return false
}

// encodeUnion writes v in the first branch that suits its kind; when that
// fails it tries the other branches in order and reports the first error.
func encodeUnion(dst []byte, u *avro.UnionSchema, v any) ([]byte, error) {
	branches := u.Types()
	if v == nil {
		for i, b := range branches {
			if deref(b).Type() == avro.Null {
				return appendLong(dst, int64(i)), nil
			}
		}
		return dst, errors.New("null is not allowed: the union has no null branch")
	}
	order := branchOrder(branches, v)
	var firstErr error
	for _, i := range order {
		out, err := encode(appendLong(dst, int64(i)), branches[i], v)
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no branch of union %s accepts %s", u.String(), types.KindName(v))
	}
	return dst, firstErr
}

// branchOrder ranks the non-null union branches for v: branches of the
// preferred Avro types for v's kind first, then the rest in schema order.
func branchOrder(branches avro.Schemas, v any) []int {
	var prefer []avro.Type
	var recordName string
	switch x := v.(type) {
	case bool:
		prefer = []avro.Type{avro.Boolean}
	case int64, int, int32:
		prefer = []avro.Type{avro.Long, avro.Int, avro.Double, avro.Float}
	case float64, float32:
		prefer = []avro.Type{avro.Double, avro.Float}
	case string:
		prefer = []avro.Type{avro.String, avro.Enum, avro.Bytes}
	case []byte:
		prefer = []avro.Type{avro.Bytes, avro.Fixed}
	case []any, types.Tuple:
		prefer = []avro.Type{avro.Array}
	case *types.Struct:
		if x.Schema != nil {
			recordName = x.Schema.Name
		}
		prefer = []avro.Type{avro.Record, avro.Map}
	case map[string]any:
		prefer = []avro.Type{avro.Record, avro.Map}
	}
	var order []int
	used := make([]bool, len(branches))
	add := func(i int) {
		if !used[i] {
			used[i] = true
			order = append(order, i)
		}
	}
	if recordName != "" {
		for i, b := range branches {
			if rs, ok := deref(b).(*avro.RecordSchema); ok && (rs.FullName() == recordName || rs.Name() == recordName) {
				add(i)
			}
		}
	}
	for _, t := range prefer {
		for i, b := range branches {
			if deref(b).Type() == t {
				add(i)
			}
		}
	}
	for i, b := range branches {
		if deref(b).Type() != avro.Null {
			add(i)
		}
	}
	return order
}

func encodePrimitive(dst []byte, s *avro.PrimitiveSchema, v any) ([]byte, error) {
	var logical avro.LogicalType
	if l := s.Logical(); l != nil {
		logical = l.Type()
	}
	switch s.Type() {
	case avro.Boolean:
		b, ok := v.(bool)
		if str, isStr := v.(string); isStr {
			// "true"/"false" in any case, as upstream parses them.
			b, ok = strings.EqualFold(str, "true"), strings.EqualFold(str, "true") || strings.EqualFold(str, "false")
		}
		if !ok {
			return dst, fmt.Errorf("cannot convert %s to Avro boolean", types.KindName(v))
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case avro.Int:
		n, err := asInt(v, math.MinInt32, math.MaxInt32, "int")
		if err != nil {
			return dst, err
		}
		if logical == avro.TimeMillis && (n < 0 || n > 86_399_999) {
			return dst, fmt.Errorf("value %d is out of range for time-millis [0, 86399999]", n)
		}
		return appendLong(dst, n), nil
	case avro.Long:
		n, err := asInt(v, math.MinInt64, math.MaxInt64, "long")
		if err != nil {
			return dst, err
		}
		if logical == avro.TimeMicros && (n < 0 || n > 86_399_999_999) {
			return dst, fmt.Errorf("value %d is out of range for time-micros [0, 86399999999]", n)
		}
		return appendLong(dst, n), nil
	case avro.Float:
		f, err := asFloat(v, "float")
		if err != nil {
			return dst, err
		}
		if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
			return dst, fmt.Errorf("value %v is out of range for float", f)
		}
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
	case avro.Double:
		f, err := asFloat(v, "double")
		if err != nil {
			return dst, err
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case avro.String:
		str, ok := v.(string)
		if !ok {
			return dst, fmt.Errorf("cannot convert %s to Avro string", types.KindName(v))
		}
		if logical == avro.UUID && !validUUID(str) {
			return dst, fmt.Errorf("value %q is not a valid uuid", str)
		}
		return appendBytes(dst, []byte(str)), nil
	case avro.Bytes:
		if dec, ok := decimalOf(s); ok {
			str, ok := v.(string)
			if !ok {
				return dst, fmt.Errorf("decimal value must be a string, but was %s", types.KindName(v))
			}
			b, err := decimalBytes(str, dec.Precision(), dec.Scale())
			if err != nil {
				return dst, err
			}
			return appendBytes(dst, b), nil
		}
		b, ok := v.([]byte)
		if !ok {
			return dst, fmt.Errorf("cannot convert %s to Avro bytes", types.KindName(v))
		}
		return appendBytes(dst, b), nil
	}
	return dst, fmt.Errorf("unsupported Avro type %s", s.Type())
}

func asInt(v any, lo, hi int64, what string) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) || x < float64(lo) || x >= -float64(lo) {
			return 0, fmt.Errorf("value %v cannot be converted to %s", x, what)
		}
		n = int64(x)
	case float32:
		return asInt(float64(x), lo, hi, what)
	case string:
		// Upstream converts a string to the field's number type by parsing
		// it ("1700000000000" for a long timestamp); other text fails.
		p, err := strconv.ParseInt(strings.TrimPrefix(x, "+"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot convert string to Avro %s", what)
		}
		n = p
	default:
		return 0, fmt.Errorf("cannot convert %s to Avro %s", types.KindName(v), what)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("value %d is out of range for %s", n, what)
	}
	return n, nil
}

func asFloat(v any, what string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case string:
		// Parsed as upstream does; other text fails.
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("cannot convert %s to Avro %s", types.KindName(v), what)
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// decimalBytes converts decimal text to the two's-complement big-endian
// unscaled value at scale, checking scale and precision as upstream does.
func decimalBytes(text string, precision, scale int) ([]byte, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(text))
	if !ok || strings.ContainsAny(text, "/") {
		return nil, fmt.Errorf("value %q is not a valid decimal", text)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("decimal value %q has more fraction digits than the schema scale of %d", text, scale)
	}
	n := r.Num()
	if digits := len(new(big.Int).Abs(n).String()); n.Sign() != 0 && digits > precision {
		return nil, fmt.Errorf("decimal value %q needs %d digits of precision, but the schema allows only %d", text, digits, precision)
	}
	return twosComplement(n), nil
}

// twosComplement returns n as minimal big-endian two's complement, as Java's
// BigInteger.toByteArray does.
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n - 1, bit-inverted, in enough bytes to keep the sign bit set.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

func appendLong(dst []byte, v int64) []byte {
	ux := uint64(v<<1) ^ uint64(v>>63)
	for ux >= 0x80 {
		dst = append(dst, byte(ux)|0x80)
		ux >>= 7
	}
	return append(dst, byte(ux))
}

func appendBytes(dst, b []byte) []byte {
	return append(appendLong(dst, int64(len(b))), b...)
}
