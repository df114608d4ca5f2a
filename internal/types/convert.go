package types

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ConvertError is a value that does not fit a type and cannot be converted
// to it.
type ConvertError struct {
	Value any      // the value, after resolving a Deferred
	To    DataType // the target type
	Msg   string   // why, when more can be said than "cannot convert"
}

func (e *ConvertError) Error() string {
	s := "cannot convert " + describe(e.Value) + " to " + typeString(e.To)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

func describe(v any) string {
	t := TypeOf(v)
	f := Format(v)
	if len(f) > 200 {
		f = f[:200] + "..."
	}
	if _, ok := v.(string); ok {
		f = strconv.Quote(f)
	}
	return t.String() + " " + f
}

func convErr(v any, to DataType, format string, args ...any) error {
	return &ConvertError{Value: v, To: to, Msg: fmt.Sprintf(format, args...)}
}

// Normalize returns v with Go types outside the data model mapped into it:
// other integer types become int64, float32 becomes float64, map[string]any
// becomes a *Struct with sorted keys (Go maps have no order). Values already in
// the model are returned as is; unknown types are returned unchanged.
func Normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s := NewStruct(len(keys))
		for _, k := range keys {
			s.Set(k, Normalize(x[k]))
		}
		return s
	}
	return v
}

// Convert converts v to type to following upstream's rules for function
// results (and convertKey/convertValue after notation converters ran):
//
//   - a value that already fits is returned unchanged; null stays null;
//   - anything converts to string (Format's spelling: structs as
//     {"a": 1, "b": "x"}, lists as [1, 2]);
//   - numbers convert to any numeric type with a range check; a fraction is
//     truncated when converting to an integer type; strings parse to numbers
//     and to boolean (true/false, any case);
//   - strings holding JSON convert to lists, maps and structs, and to tuples
//     (also "(a, b)"); a string converts to an enum when it is a symbol;
//   - lists and tuples convert element-wise to lists and tuples of the same
//     size; maps and structs convert into each other;
//   - a union takes the value as is when a member accepts it, else the first
//     member it converts to.
//
// A Deferred value is resolved first unless to is any. The result may share
// structure with v (a struct that already fits is returned as is). The error
// is a *ConvertError naming the value and the type, wrapped with the path
// (list element, map entry, tuple element) when it is nested.
func Convert(v any, to DataType) (any, error) {
	if to == nil {
		return v, nil
	}
	if _, ok := to.(AnyType); ok {
		return v, nil
	}
	if d, ok := v.(Deferred); ok {
		if shapeFits(v, to) {
			return v, nil
		}
		r, err := d.Resolve()
		if err != nil {
			return nil, err
		}
		v = r
	}
	return convert(Normalize(v), to, 0)
}

// Shape is the top-level form of a value.
type Shape uint8

// Shapes a Shaped value reports.
const (
	ShapeOther  Shape = iota // not known, or neither a struct nor a list
	ShapeStruct              // a struct (object, dict)
	ShapeList                // a list (array)
)

// Shaped is implemented by Deferred values that know their top-level form
// without resolving (raw JSON text by its first byte, a Python dict or list
// by its type). Convert and Fits use it to pass such a value unchanged to a
// type that accepts every struct or every list (json, struct, map(?), [?])
// instead of converting it to Go structures and back.
type Shaped interface {
	KSMLShape() Shape
}

// shapeFits reports whether v's shape alone proves it fits t.
func shapeFits(v any, t DataType) bool {
	sh, ok := v.(Shaped)
	if !ok {
		return false
	}
	switch sh.KSMLShape() {
	case ShapeStruct:
		return acceptsEvery(t, StructType{})
	case ShapeList:
		return acceptsEvery(t, ListType{Elem: Any})
	}
	return false
}

// acceptsEvery reports whether every value of form (schemaless struct or
// list of any) fits t without conversion.
func acceptsEvery(t DataType, form DataType) bool {
	switch tt := t.(type) {
	case nil, AnyType:
		return true
	case NotationType:
		return acceptsEvery(elemOrAny(tt.Default), form)
	case StructType:
		_, isStruct := form.(StructType)
		return isStruct && tt.SchemaName == "" && tt.Schema == nil
	case MapType:
		_, isStruct := form.(StructType)
		_, anyValue := elemOrAny(tt.Value).(AnyType)
		return isStruct && anyValue
	case ListType:
		_, isList := form.(ListType)
		_, anyElem := elemOrAny(tt.Elem).(AnyType)
		return isList && anyElem
	case UnionType:
		for _, m := range tt.Members {
			if acceptsEvery(m, form) {
				return true
			}
		}
	}
	return false
}

const maxConvertDepth = 1000

func convert(v any, to DataType, depth int) (any, error) {
	if depth > maxConvertDepth {
		return nil, convErr(v, to, "value nested too deeply")
	}
	if v == nil {
		return nil, nil
	}
	switch t := to.(type) {
	case nil, AnyType:
		return v, nil
	case NotationType:
		return convert(v, elemOrAny(t.Default), depth)
	case Primitive:
		return convertPrimitive(v, t)
	case EnumType:
		s, ok := v.(string)
		if !ok {
			return nil, convErr(v, to, "")
		}
		if !t.Has(s) {
			return nil, convErr(v, to, "%q is not one of the symbols", s)
		}
		return s, nil
	case UnionType:
		if Fits(v, t) {
			return v, nil
		}
		for _, m := range t.Members {
			if r, err := convert(v, m, depth+1); err == nil {
				return r, nil
			}
		}
		return nil, convErr(v, to, "no member of the union accepts it")
	case ListType:
		switch x := v.(type) {
		case []any:
			return convertElems(x, elemOrAny(t.Elem), to, depth)
		case Tuple:
			return convertElems(x, elemOrAny(t.Elem), to, depth)
		case string:
			parsed, err := DecodeJSON([]byte(x))
			if err != nil {
				return nil, convErr(v, to, "%v", err)
			}
			if l, ok := parsed.([]any); ok {
				return convertElems(l, elemOrAny(t.Elem), to, depth)
			}
			return nil, convErr(v, to, "the string does not hold a JSON array")
		}
	case TupleType:
		var elems []any
		switch x := v.(type) {
		case Tuple:
			elems = x
		case []any:
			elems = x
		case string:
			text := strings.TrimSpace(x)
			if strings.HasPrefix(text, "(") && strings.HasSuffix(text, ")") {
				text = "[" + text[1:len(text)-1] + "]"
			}
			parsed, err := DecodeJSON([]byte(text))
			if err != nil {
				return nil, convErr(v, to, "%v", err)
			}
			l, ok := parsed.([]any)
			if !ok {
				return nil, convErr(v, to, "the string does not hold a tuple or JSON array")
			}
			elems = l
		default:
			return nil, convErr(v, to, "")
		}
		if len(elems) != len(t.Elems) {
			return nil, convErr(v, to, "it has %d elements, the tuple type %d", len(elems), len(t.Elems))
		}
		out := make(Tuple, len(elems))
		for i, e := range elems {
			r, err := convert(Normalize(e), elemOrAny(t.Elems[i]), depth+1)
			if err != nil {
				return nil, fmt.Errorf("tuple element %d: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case MapType:
		s, err := structFrom(v, to)
		if err != nil {
			return nil, err
		}
		val := elemOrAny(t.Value)
		if _, ok := val.(AnyType); ok {
			return s, nil
		}
		out := NewStruct(s.Len())
		for i, k := range s.keys {
			r, err := convert(Normalize(s.vals[i]), val, depth+1)
			if err != nil {
				return nil, fmt.Errorf("map entry %q: %w", k, err)
			}
			out.Set(k, r)
		}
		return out, nil
	case StructType:
		s, err := structFrom(v, to)
		if err != nil {
			return nil, err
		}
		if t.SchemaName == "" && t.Schema == nil {
			return s, nil
		}
		if s.Schema != nil {
			if sameSchemaName(t.schemaIdentity(), s.Schema.Name) {
				return s, nil
			}
			return nil, convErr(v, to, "it has schema %s", s.Schema.Name)
		}
		if t.Schema == nil {
			return s, nil // schemaless struct, unresolved target: the notation checks fields
		}
		out := s.Clone()
		out.Schema = t.Schema
		return out, nil
	case WindowedType:
		w, ok := v.(Windowed)
		if !ok {
			return nil, convErr(v, to, "")
		}
		k, err := convert(Normalize(w.Key), elemOrAny(t.Key), depth+1)
		if err != nil {
			return nil, fmt.Errorf("windowed key: %w", err)
		}
		w.Key = k
		return w, nil
	}
	return nil, convErr(v, to, "")
}

func convertElems(xs []any, elem, to DataType, depth int) (any, error) {
	out := make([]any, len(xs))
	for i, e := range xs {
		r, err := convert(Normalize(e), elem, depth+1)
		if err != nil {
			return nil, fmt.Errorf("list element %d: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}

// structFrom returns v as a struct: a struct itself, or a string holding a
// JSON object.
func structFrom(v any, to DataType) (*Struct, error) {
	switch x := v.(type) {
	case *Struct:
		return x, nil
	case Windowed:
		return WindowedStruct(x), nil
	case string:
		parsed, err := DecodeJSON([]byte(x))
		if err != nil {
			return nil, convErr(v, to, "%v", err)
		}
		if s, ok := parsed.(*Struct); ok {
			return s, nil
		}
		return nil, convErr(v, to, "the string does not hold a JSON object")
	}
	return nil, convErr(v, to, "")
}

var intRanges = [...]struct{ min, max int64 }{
	KindByte:  {math.MinInt8, math.MaxInt8},
	KindShort: {math.MinInt16, math.MaxInt16},
	KindInt:   {math.MinInt32, math.MaxInt32},
	KindLong:  {math.MinInt64, math.MaxInt64},
}

func convertPrimitive(v any, to Primitive) (any, error) {
	k := to.Kind
	switch k {
	case KindNull:
		if _, ok := v.(string); ok {
			return nil, nil // upstream turns any string into null for a null type
		}
		return nil, convErr(v, to, "")
	case KindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return Format(v), nil
	case KindBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch {
			case strings.EqualFold(x, "true"):
				return true, nil
			case strings.EqualFold(x, "false"):
				return false, nil
			}
			return nil, convErr(v, to, "expected true or false")
		}
		return nil, convErr(v, to, "")
	case KindBytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		return nil, convErr(v, to, "")
	}
	// Numbers.
	switch x := v.(type) {
	case int64:
		if k.IsInteger() {
			r := intRanges[k]
			if x < r.min || x > r.max {
				return nil, convErr(v, to, "out of range for %s", k)
			}
			return x, nil
		}
		if k == KindFloat {
			return FloatValue(float32(x)), nil
		}
		return float64(x), nil
	case float64:
		if k.IsInteger() {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, convErr(v, to, "not a finite number")
			}
			t := math.Trunc(x)
			r := intRanges[k]
			if t < float64(r.min) || t >= -float64(r.min) {
				return nil, convErr(v, to, "out of range for %s", k)
			}
			return int64(t), nil
		}
		if k == KindFloat {
			if !math.IsInf(x, 0) && math.IsInf(float64(float32(x)), 0) {
				return nil, convErr(v, to, "out of range for float")
			}
			return FloatValue(float32(x)), nil
		}
		return x, nil
	case string:
		if k.IsInteger() {
			s := x
			if strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "+-") {
				s = s[1:]
			}
			bits := map[Kind]int{KindByte: 8, KindShort: 16, KindInt: 32, KindLong: 64}[k]
			n, err := strconv.ParseInt(s, 10, bits)
			if err != nil {
				return nil, convErr(v, to, "not a valid %s", k)
			}
			return n, nil
		}
		s := strings.TrimSpace(x)
		s = strings.TrimRight(s, "dDfF")
		bits := 64
		if k == KindFloat {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil || strings.ContainsAny(s, "xXpP_") {
			if s == "NaN" || s == "Infinity" || s == "+Infinity" || s == "-Infinity" {
				f, _ = strconv.ParseFloat(s, 64)
				return f, nil
			}
			return nil, convErr(v, to, "not a valid %s", k)
		}
		if k == KindFloat {
			return FloatValue(float32(f)), nil
		}
		return f, nil
	}
	return nil, convErr(v, to, "")
}

// FloatValue returns a float (32-bit) value in the data model: the float64
// with the shortest decimal spelling that rounds to f, so 0.1f is 0.1 and
// prints as upstream prints a Java float, not as 0.10000000149011612.
func FloatValue(f float32) float64 {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) || f == 0 {
		return float64(f)
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return float64(f)
	}
	return v
}

// Fits reports whether value v may be used as type t without conversion:
// the value-level counterpart of IsAssignableFrom. Null fits every type, as
// upstream allows; an integer fits a narrower integer type when in range;
// a string fits an enum when it is one of the symbols.
// A Deferred value is resolved unless t is any.
func Fits(v any, t DataType) bool {
	if _, ok := t.(AnyType); ok || t == nil {
		return true
	}
	if d, ok := v.(Deferred); ok {
		if shapeFits(v, t) {
			return true
		}
		r, err := d.Resolve()
		if err != nil {
			return false
		}
		v = r
	}
	return fits(Normalize(v), t, 0)
}

func fits(v any, t DataType, depth int) bool {
	if v == nil || depth > maxConvertDepth {
		return v == nil
	}
	switch tt := t.(type) {
	case nil, AnyType:
		return true
	case NotationType:
		return fits(v, elemOrAny(tt.Default), depth)
	case Primitive:
		switch x := v.(type) {
		case bool:
			return tt.Kind == KindBoolean
		case int64:
			if !tt.Kind.IsInteger() {
				return false
			}
			r := intRanges[tt.Kind]
			return x >= r.min && x <= r.max
		case float64:
			return tt.Kind == KindDouble || tt.Kind == KindFloat
		case string:
			return tt.Kind == KindString
		case []byte:
			return tt.Kind == KindBytes
		}
		return false
	case EnumType:
		s, ok := v.(string)
		return ok && tt.Has(s)
	case UnionType:
		for _, m := range tt.Members {
			if fits(v, m, depth+1) {
				return true
			}
		}
		return false
	case ListType:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range l {
			if !fits(e, elemOrAny(tt.Elem), depth+1) {
				return false
			}
		}
		return true
	case TupleType:
		tu, ok := v.(Tuple)
		if !ok || len(tu) != len(tt.Elems) {
			return false
		}
		for i, e := range tu {
			if !fits(e, elemOrAny(tt.Elems[i]), depth+1) {
				return false
			}
		}
		return true
	case MapType:
		s, ok := v.(*Struct)
		if !ok {
			return false
		}
		for _, e := range s.vals {
			if !fits(e, elemOrAny(tt.Value), depth+1) {
				return false
			}
		}
		return true
	case StructType:
		s, ok := v.(*Struct)
		if !ok {
			return false
		}
		if tt.SchemaName == "" && tt.Schema == nil {
			return true
		}
		return s.Schema != nil && sameSchemaName(tt.schemaIdentity(), s.Schema.Name)
	case WindowedType:
		w, ok := v.(Windowed)
		return ok && fits(w.Key, elemOrAny(tt.Key), depth+1)
	}
	return false
}

// TypeOf infers the type of a data-model value: int64 is long, float64
// double, a list's element type is the common type of its elements (any when
// they differ or the list is empty), a struct with a schema is that schema's
// struct type. A Deferred value is resolved (any when that fails); Go types
// outside the model are any.
func TypeOf(v any) DataType {
	switch x := Normalize(v).(type) {
	case nil:
		return Null
	case bool:
		return Boolean
	case int64:
		return Long
	case float64:
		return Double
	case string:
		return String
	case []byte:
		return Bytes
	case []any:
		var elem DataType
		for _, e := range x {
			et := TypeOf(e)
			if elem == nil {
				elem = et
			} else if elem.String() != et.String() {
				elem = Any
				break
			}
		}
		if elem == nil {
			elem = Any
		}
		return ListType{Elem: elem}
	case Tuple:
		elems := make([]DataType, len(x))
		for i, e := range x {
			elems[i] = TypeOf(e)
		}
		return TupleType{Elems: elems}
	case *Struct:
		if x != nil && x.Schema != nil {
			return StructType{Notation: x.Schema.Notation, SchemaName: x.Schema.Name, Schema: x.Schema}
		}
		return StructType{}
	case Windowed:
		return WindowedType{Key: TypeOf(x.Key)}
	case Deferred:
		r, err := x.Resolve()
		if err != nil {
			return Any
		}
		if _, again := r.(Deferred); again {
			return Any
		}
		return TypeOf(r)
	}
	return Any
}

// TypesEqual reports whether two types are the same type, compared by their
// canonical spelling (a resolved schema compares by name).
func TypesEqual(a, b DataType) bool {
	return typeString(a) == typeString(b)
}

// Clone returns a shallow copy of s: the fields are copied, their values
// shared.
func (s *Struct) Clone() *Struct {
	out := &Struct{
		Schema: s.Schema,
		keys:   append([]string(nil), s.keys...),
		vals:   append([]any(nil), s.vals...),
	}
	if s.index != nil {
		out.index = make(map[string]int, len(s.index))
		for k, i := range s.index {
			out.index[k] = i
		}
	}
	return out
}

// Equal reports whether a and b are the same value. Structs compare by their
// set of fields regardless of field order (upstream structs are maps), and
// ignore the schema; numbers compare by numeric value across int64 and
// float64 (as Python does: 1 == 1.0); tuples equal only tuples and lists
// only lists. Deferred values are resolved; a value that fails to resolve is
// equal to nothing.
func Equal(a, b any) bool {
	return equal(Normalize(a), Normalize(b), 0)
}

func equal(a, b any, depth int) bool {
	if depth > maxConvertDepth {
		return false
	}
	if d, ok := a.(Deferred); ok {
		r, err := d.Resolve()
		if err != nil {
			return false
		}
		a = Normalize(r)
	}
	if d, ok := b.(Deferred); ok {
		r, err := d.Resolve()
		if err != nil {
			return false
		}
		b = Normalize(r)
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y && int64(y) == x
		}
		return false
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y || math.IsNaN(x) && math.IsNaN(y)
		case int64:
			return x == float64(y) && int64(x) == y
		}
		return false
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && equalSlices(x, y, depth)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && equalSlices(x, y, depth)
	case *Struct:
		y, ok := b.(*Struct)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		if x.Len() != y.Len() {
			return false
		}
		for i, k := range x.keys {
			yv, ok := y.Get(k)
			if !ok || !equal(Normalize(x.vals[i]), Normalize(yv), depth+1) {
				return false
			}
		}
		return true
	case Windowed:
		y, ok := b.(Windowed)
		return ok && x.Start == y.Start && x.End == y.End && equal(Normalize(x.Key), Normalize(y.Key), depth+1)
	}
	return false
}

func equalSlices(x, y []any, depth int) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !equal(Normalize(x[i]), Normalize(y[i]), depth+1) {
			return false
		}
	}
	return true
}

// Format spells a value as upstream's toString does, which is also what a
// conversion to string produces: a top-level string as is, nested strings
// quoted, structs as {"a": 1, "b": "x"} with fields sorted by name as
// upstream's sorted structs print them, lists as [1, 2], tuples as (1, 2),
// floats as Java prints them (1.0), bytes as hex [01, FF], null as null.
func Format(v any) string {
	var b []byte
	b = appendFormat(b, Normalize(v), false, 0)
	return string(b)
}

func appendFormat(dst []byte, v any, nested bool, depth int) []byte {
	if depth > maxConvertDepth {
		return append(dst, "..."...)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return AppendJavaFloat(dst, x, 64)
	case string:
		if nested {
			return AppendJSONString(dst, x)
		}
		return append(dst, x...)
	case []byte:
		dst = append(dst, '[')
		for i, c := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, upperHex[c>>4], upperHex[c&0xF])
		}
		return append(dst, ']')
	case []any:
		return appendFormatSeq(dst, x, '[', ']', depth)
	case Tuple:
		return appendFormatSeq(dst, x, '(', ')', depth)
	case *Struct:
		if x == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '{')
		for i, k := range upstreamKeyOrder(x.keys) {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			v, _ := x.Get(k)
			dst = AppendJSONString(dst, k)
			dst = append(dst, ": "...)
			dst = appendFormat(dst, Normalize(v), true, depth+1)
		}
		return append(dst, '}')
	case Windowed:
		return appendFormat(dst, WindowedStruct(x), nested, depth)
	case Deferred:
		r, err := x.Resolve()
		if err != nil {
			return fmt.Appendf(dst, "<unresolvable %T: %v>", x, err)
		}
		if _, again := r.(Deferred); again {
			return fmt.Appendf(dst, "<%T>", r)
		}
		return appendFormat(dst, Normalize(r), nested, depth)
	}
	return fmt.Appendf(dst, "%v", v)
}

const upperHex = "0123456789ABCDEF"

// upstreamKeyOrder returns keys in the order upstream's structs (sorted maps)
// iterate them: the empty key first, then names in lexical order, then names
// starting with "@" (metadata, as XML attributes) in lexical order.
func upstreamKeyOrder(keys []string) []string {
	out := append([]string(nil), keys...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a == "" || b == "" {
			return a == "" && b != ""
		}
		ma, mb := a[0] == '@', b[0] == '@'
		if ma != mb {
			return mb
		}
		return a < b
	})
	return out
}

func appendFormatSeq(dst []byte, xs []any, open, close byte, depth int) []byte {
	dst = append(dst, open)
	for i, e := range xs {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendFormat(dst, Normalize(e), true, depth+1)
	}
	return append(dst, close)
}
