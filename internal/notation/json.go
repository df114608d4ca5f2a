package notation

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/types"
)

// JSONMarshaler is implemented by values that write their own JSON text (the
// Python bridge implements it on Python objects to dump JSON in C, RawJSON
// returns its bytes). The json serde writes the bytes verbatim, so they must
// be one valid, compact JSON value.
type JSONMarshaler = types.JSONMarshaler

// RawJSON is a JSON value kept as its text: what the json serde returns for
// objects and arrays, so that a value that only passes through (or goes to a
// Python function that json.loads it) is never converted to Go structures.
// The bytes were validated when deserialized. Resolve decodes them anew on
// every call, so the caller owns the result; KSMLJSON returns the bytes
// themselves.
type RawJSON []byte

// Resolve decodes the JSON text into the data model (see types.DecodeJSON).
func (r RawJSON) Resolve() (any, error) { return types.DecodeJSON(r) }

// KSMLJSON returns the JSON text.
func (r RawJSON) KSMLJSON() ([]byte, error) { return r, nil }

// KSMLShape tells struct (object) and list (array) from the first byte, so
// conversions to json, struct or [?] pass the value on unresolved.
func (r RawJSON) KSMLShape() types.Shape {
	switch firstByte(r) {
	case '{':
		return types.ShapeStruct
	case '[':
		return types.ShapeList
	}
	return types.ShapeOther
}

// JSON is the json notation: UTF-8 JSON text, written compact with struct
// fields in order (as upstream's mapper writes it). It holds structs, maps,
// lists, tuples (as arrays), windowed keys (as {start, end, startTime,
// endTime, key}) and unions of those; bare "json" is union(struct, list).
//
// Deserialize of an object or array for json, struct, map(?) or [?] returns a
// RawJSON after validating it; other types (typed lists and maps, tuples,
// windowed keys) are decoded and checked against the type. Nil or empty
// bytes are nil.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// Info says json stands for union(struct, list) and takes no schema.
func (JSON) Info() types.NotationInfo {
	i, _ := types.BuiltinNotation("json")
	return i
}

// Serde returns a JSON serde for t, or an error when t is not a JSON
// container (primitives belong to the binary notation).
func (JSON) Serde(t types.DataType, isKey bool) (Serde, error) {
	if t == nil {
		t = types.Any
	}
	s := jsonSerde{t: t}
	switch tt := t.(type) {
	case types.NotationType:
		if tt.Default == nil {
			return JSON{}.Serde(JSON{}.Info().Default, isKey)
		}
		return JSON{}.Serde(tt.Default, isKey)
	case types.AnyType:
		s.lazyObject, s.lazyArray, s.anyValue = true, true, true
	case types.UnionType:
		s.lazyObject = lazyFor(t, types.StructType{})
		s.lazyArray = lazyFor(t, types.ListType{Elem: types.Any})
	case types.StructType:
		s.lazyObject = tt.SchemaName == "" && tt.Schema == nil
	case types.MapType:
		_, s.lazyObject = elem(tt.Value).(types.AnyType)
	case types.ListType:
		_, s.lazyArray = elem(tt.Elem).(types.AnyType)
	case types.TupleType, types.WindowedType:
	default:
		return nil, fmt.Errorf("json: cannot hold values of type %s", t)
	}
	return s, nil
}

// lazyFor reports whether every value of the container form c is fine for
// union u, so a container of that form needs no element checks.
func lazyFor(u, c types.DataType) bool { return u.IsAssignableFrom(c) }

func elem(t types.DataType) types.DataType {
	if t == nil {
		return types.Any
	}
	return t
}

type jsonSerde struct {
	t          types.DataType
	lazyObject bool // an object needs no check beyond being valid JSON
	lazyArray  bool // an array needs no check beyond being valid JSON
	anyValue   bool // any JSON value is fine (type any)
}

func (s jsonSerde) Serialize(topic string, headers *[]Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if m, ok := v.(types.JSONMarshaler); ok {
		b, err := m.KSMLJSON()
		if err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
		if b == nil {
			return nil, nil
		}
		if s.fastAccept(firstByte(b)) {
			return b, nil
		}
	}
	r, err := types.Resolve(v)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if r == nil {
		return nil, nil
	}
	r = types.Normalize(r)
	if !types.Fits(r, s.t) {
		w, isWindowed := r.(types.Windowed)
		if !isWindowed || !types.Fits(types.WindowedStruct(w), s.t) {
			return nil, fmt.Errorf("json %s: cannot serialize %s", s.t, describeValue(r))
		}
	}
	b, err := types.AppendJSON(make([]byte, 0, 256), r)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	return b, nil
}

func (s jsonSerde) fastAccept(c byte) bool {
	switch c {
	case '{':
		return s.lazyObject
	case '[':
		return s.lazyArray
	}
	return s.anyValue
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

func (s jsonSerde) Deserialize(topic string, headers []Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	first, err := types.ValidateJSON(b)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if first == 'n' {
		return nil, nil // the JSON literal null
	}
	if (first == '{' || first == '[') && s.fastAccept(first) {
		return RawJSON(b), nil
	}
	v, err := types.DecodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if tt, ok := s.t.(types.TupleType); ok {
		if l, ok := v.([]any); ok && len(l) == len(tt.Elems) {
			v = types.Tuple(l) // tuples travel as JSON arrays
		}
	}
	if types.Fits(v, s.t) {
		return v, nil
	}
	if wt, ok := s.t.(types.WindowedType); ok {
		if w, ok := windowedFromStruct(v); ok && types.Fits(w.Key, elem(wt.Key)) {
			return w, nil
		}
	}
	return nil, fmt.Errorf("json %s: payload holds %s", s.t, describeValue(v))
}

// windowedFromStruct rebuilds a windowed key from its JSON form.
func windowedFromStruct(v any) (types.Windowed, bool) {
	st, ok := v.(*types.Struct)
	if !ok {
		return types.Windowed{}, false
	}
	start, ok1 := st.Get("start")
	end, ok2 := st.Get("end")
	key, ok3 := st.Get("key")
	s, ok4 := start.(int64)
	e, ok5 := end.(int64)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return types.Windowed{}, false
	}
	return types.Windowed{Key: key, Start: s, End: e}, true
}

// ConvertValue converts between JSON text and structured values: a struct,
// map or list (or RawJSON) to string gives compact JSON text; a string to a
// list, map, struct, union or json type parses it as JSON first.
func (JSON) ConvertValue(v any, to types.DataType) (any, bool, error) {
	if n, ok := to.(types.NotationType); ok {
		to = elem(n.Default)
	}
	if p, ok := to.(types.Primitive); ok && p.Kind == types.KindString {
		switch x := v.(type) {
		case RawJSON:
			return string(x), true, nil
		case types.JSONMarshaler:
			b, err := x.KSMLJSON()
			if err != nil {
				return nil, false, err
			}
			if c := firstByte(b); c == '{' || c == '[' {
				return string(b), true, nil
			}
			return nil, false, nil
		}
		r, err := types.Resolve(v)
		if err != nil {
			return nil, false, err
		}
		switch r.(type) {
		case *types.Struct, []any:
			b, err := types.MarshalJSON(r)
			if err != nil {
				return nil, false, err
			}
			return string(b), true, nil
		}
		return nil, false, nil
	}
	str, ok := v.(string)
	if !ok {
		return nil, false, nil
	}
	switch to.(type) {
	case types.ListType, types.MapType, types.StructType, types.UnionType:
	default:
		return nil, false, nil
	}
	parsed, err := types.DecodeJSON([]byte(str))
	if err != nil {
		return nil, false, &types.ConvertError{Value: str, To: to, Msg: err.Error()}
	}
	out, err := types.Convert(parsed, to)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
