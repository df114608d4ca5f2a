package types

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// JSON text <-> data model. It lives here, not in a notation package, because
// the conversion rules themselves need it (string -> struct/list goes through
// JSON, as upstream). The output matches upstream's JSON mapper: compact (no
// spaces), non-ASCII written as UTF-8, only quotes, backslashes and control
// characters escaped, floats spelled as Java does (1.0, 1.0E20), NaN and
// infinities as strings, bytes as base64. One deliberate difference: fields
// are written in the struct's order (the document's, or the Python dict's),
// where upstream sorts them by name because its structs are sorted maps. JSON
// readers do not depend on field order, and keeping it lets records pass
// through byte for byte and agree with JSON the Python bridge writes itself.

// JSONMarshaler is implemented by values (typically Deferred ones, such as a
// live Python object) that can produce their own JSON text faster than a
// conversion to the data model would. AppendJSON writes the returned bytes
// verbatim, so they must be one valid, compact JSON value.
type JSONMarshaler interface {
	KSMLJSON() ([]byte, error)
}

// JSONError is malformed JSON text; Offset is the 0-based byte offset of the
// problem.
type JSONError struct {
	Offset int
	Msg    string
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// maxJSONDepth bounds nesting of decoded JSON so hostile input cannot exhaust
// memory through the stack.
const maxJSONDepth = 10000

// DecodeJSON parses one JSON value into the data model: objects become
// *Struct with the document's field order, arrays []any, integers int64 when
// integral and in range (otherwise float64), other numbers float64. Trailing
// non-space input is an error.
func DecodeJSON(b []byte) (any, error) {
	d := jsonDecoder{b: b}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i < len(d.b) {
		return nil, d.errf("unexpected %q after the JSON value", d.b[d.i])
	}
	return v, nil
}

type jsonDecoder struct {
	b    []byte
	i    int
	skip bool // only validate: build no values
}

// ValidateJSON checks that b holds exactly one well-formed JSON value without
// building it, and returns the first non-space byte of that value ('{', '[',
// '"', 't', 'f', 'n' or a number's first byte). It accepts exactly what
// DecodeJSON accepts; a rejection is a *JSONError with DecodeJSON's offset
// and message. Well-formed input takes the fast path (jsonvalid.go); anything
// else is judged by the exact validator.
func ValidateJSON(b []byte) (byte, error) {
	if first, ok := validJSON(b); ok {
		return first, nil
	}
	return validateJSONExact(b)
}

// validateJSONExact is ValidateJSON by the decoder itself, in skip mode.
func validateJSONExact(b []byte) (byte, error) {
	d := jsonDecoder{b: b, skip: true}
	d.space()
	start := d.i
	if _, err := d.value(0); err != nil {
		return 0, err
	}
	d.space()
	if d.i < len(d.b) {
		return 0, d.errf("unexpected %q after the JSON value", d.b[d.i])
	}
	return b[start], nil
}

func (d *jsonDecoder) errf(format string, args ...any) *JSONError {
	return &JSONError{Offset: d.i, Msg: fmt.Sprintf(format, args...)}
}

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, d.errf("unexpected end of input")
	}
	if depth > maxJSONDepth {
		return nil, d.errf("nested too deeply")
	}
	switch c := d.b[d.i]; c {
	case '{':
		return d.object(depth)
	case '[':
		return d.array(depth)
	case '"':
		return d.str()
	case 't':
		return true, d.lit("true")
	case 'f':
		return false, d.lit("false")
	case 'n':
		return nil, d.lit("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return d.number()
		}
		return nil, d.errf("unexpected %q", c)
	}
}

func (d *jsonDecoder) lit(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.errf("invalid literal, expected %s", word)
	}
	d.i += len(word)
	return nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	d.i++ // '{'
	var s *Struct
	if !d.skip {
		s = NewStruct(8)
	}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return s, nil
	}
	for {
		d.space()
		if d.i >= len(d.b) {
			return nil, d.errf("unexpected end of input in object")
		}
		if d.b[d.i] != '"' {
			return nil, d.errf("expected '\"' to start a field name, found %q", d.b[d.i])
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.errf("expected ':' after field name")
		}
		d.i++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if !d.skip {
			s.Set(k, v)
		}
		d.space()
		if d.i >= len(d.b) {
			return nil, d.errf("unexpected end of input in object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return s, nil
		default:
			return nil, d.errf("expected ',' or '}' in object, found %q", d.b[d.i])
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, error) {
	d.i++ // '['
	var out []any
	if !d.skip {
		out = make([]any, 0, 4)
	}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return out, nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if !d.skip {
			out = append(out, v)
		}
		d.space()
		if d.i >= len(d.b) {
			return nil, d.errf("unexpected end of input in array")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return out, nil
		default:
			return nil, d.errf("expected ',' or ']' in array, found %q", d.b[d.i])
		}
	}
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	// Fast path: no escapes.
	high := false
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			if high && !utf8.Valid(d.b[start:d.i]) {
				return "", &JSONError{Offset: start, Msg: "invalid UTF-8 in string"}
			}
			var s string
			if !d.skip {
				s = string(d.b[start:d.i])
			}
			d.i++
			return s, nil
		}
		if c >= utf8.RuneSelf {
			high = true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.errf("control character in string")
		}
		d.i++
	}
	buf := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", &JSONError{Offset: start, Msg: "invalid UTF-8 in string"}
			}
			d.i++
			return string(buf), nil
		case c < 0x20:
			return "", d.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4(d.i + 2)
			if !ok {
				return "", d.errf("invalid \\u escape")
			}
			d.i += 6
			if r >= 0xD800 && r < 0xDC00 {
				if r2, ok := d.hex4(d.i + 2); ok && d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' && r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					d.i += 6
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", d.errf("invalid escape '\\%c'", e)
		}
		d.i += 2
	}
	return "", d.errf("unterminated string")
}

func (d *jsonDecoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	if digits() == 0 {
		return nil, d.errf("invalid number")
	}
	if d.b[intStart] == '0' && d.i-intStart > 1 {
		return nil, &JSONError{Offset: intStart, Msg: "leading zero in number"}
	}
	integral := true
	if d.i < len(d.b) && d.b[d.i] == '.' {
		integral = false
		d.i++
		if digits() == 0 {
			return nil, d.errf("missing digits after decimal point")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		integral = false
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errf("missing digits in exponent")
		}
	}
	if d.skip {
		return nil, nil
	}
	text := string(d.b[start:d.i])
	if integral {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !isRangeErr(err) {
		return nil, &JSONError{Offset: start, Msg: "invalid number " + text}
	}
	return f, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// MarshalJSON returns v as compact JSON text; see AppendJSON.
func MarshalJSON(v any) ([]byte, error) { return AppendJSON(make([]byte, 0, 128), v) }

// AppendJSON appends v, a value of the data model, to dst as compact JSON.
// A JSONMarshaler writes itself; another Deferred is resolved first. Tuples
// are arrays; windowed keys are objects {start, end, startTime, endTime, key}
// as upstream flattens them. A Go type outside the data model is an error
// naming it.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	return appendJSON(dst, v, 0)
}

func appendJSON(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, fmt.Errorf("value nested too deeply for JSON")
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return AppendJSONString(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		return appendJSONFloat(dst, x, 64), nil
	case *Struct:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		var err error
		for i, k := range x.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, x.vals[i], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		return appendJSONArray(dst, x, depth)
	case Tuple:
		return appendJSONArray(dst, x, depth)
	case []byte:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case Windowed:
		return appendJSON(dst, WindowedStruct(x), depth)
	case JSONMarshaler:
		b, err := x.KSMLJSON()
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	case Deferred:
		r, err := x.Resolve()
		if err != nil {
			return dst, err
		}
		if _, again := r.(Deferred); again {
			return dst, fmt.Errorf("deferred value %T resolved to another deferred value", x)
		}
		return appendJSON(dst, r, depth)
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float32:
		return appendJSONFloat(dst, float64(x), 32), nil
	}
	return dst, fmt.Errorf("cannot encode %T as JSON", v)
}

func appendJSONArray(dst []byte, xs []any, depth int) ([]byte, error) {
	dst = append(dst, '[')
	var err error
	for i, e := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = appendJSON(dst, e, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return AppendJavaFloat(dst, f, bits)
}

// AppendJavaFloat appends f spelled as Java's Double.toString (bits 64) or
// Float.toString (bits 32) does: shortest digits, at least one fractional
// digit ("1.0"), and scientific notation with "E" outside [1e-3, 1e7).
func AppendJavaFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, bits)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, ".0"...)
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // e.g. 1.5e+20, 1e-05
	e := 0
	for e < len(s) && s[e] != 'e' {
		e++
	}
	mant, exp := s[:e], s[e+1:]
	dst = append(dst, mant...)
	hasDot := false
	for _, c := range mant {
		if c == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		dst = append(dst, ".0"...)
	}
	dst = append(dst, 'E')
	if exp[0] == '-' {
		dst = append(dst, '-')
	}
	exp = exp[1:]
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(dst, exp...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD so the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// WindowedStruct flattens a windowed key into the struct upstream uses when a
// windowed key is serialized or handed to Python: start and end in epoch
// millis, startTime and endTime as ISO-8601 instants, and the key.
func WindowedStruct(w Windowed) *Struct {
	s := NewStruct(5)
	s.Set("start", w.Start)
	s.Set("end", w.End)
	s.Set("startTime", FormatInstant(w.Start))
	s.Set("endTime", FormatInstant(w.End))
	s.Set("key", w.Key)
	return s
}

// FormatInstant spells epoch millis as Java's Instant.toString does:
// 2024-01-02T03:04:05Z, with .SSS only when the millis are not zero.
func FormatInstant(millis int64) string {
	t := time.UnixMilli(millis).UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}
