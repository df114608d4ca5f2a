package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/ksml-dev/ksml/internal/types"
)

// The decoder turns Avro binary into the data model. A decoder is compiled
// once per (writer schema, reader schema) pair and reused: it applies Avro
// schema resolution (fields added with defaults, fields removed, numeric
// promotion, enum symbols, union branches), so a consumer reads records
// written with an older or newer compatible schema in the shape of its own
// schema. Malformed input is an error, never a panic.

// errTruncated is wrapped by every error about input that ends too soon.
var errTruncated = errors.New("unexpected end of Avro data")

// maxCollection bounds the elements of one array or map block, so that a
// corrupt length cannot make the decoder allocate without bound.
const maxCollection = 1 << 24

type reader struct {
	b   []byte
	off int
	// log receives warnings about values read (a logical type's value out
	// of range); nil drops them.
	log *slog.Logger
}

func (d *reader) remaining() int { return len(d.b) - d.off }

func (d *reader) long() (int64, error) {
	var ux uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.off >= len(d.b) {
			return 0, errTruncated
		}
		c := d.b[d.off]
		d.off++
		ux |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(ux>>1) ^ -int64(ux&1), nil
		}
	}
	return 0, errors.New("Avro long is longer than 10 bytes")
}

func (d *reader) int() (int64, error) {
	v, err := d.long()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("Avro int %d is out of range", v)
	}
	return v, nil
}

func (d *reader) fixed(n int) ([]byte, error) {
	if n < 0 || n > d.remaining() {
		return nil, errTruncated
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *reader) bytes() ([]byte, error) {
	n, err := d.long()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("negative Avro length %d", n)
	}
	if n > int64(d.remaining()) {
		return nil, errTruncated
	}
	return d.fixed(int(n))
}

func (d *reader) float() (float64, error) {
	b, err := d.fixed(4)
	if err != nil {
		return 0, err
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
}

func (d *reader) double() (float64, error) {
	b, err := d.fixed(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// blockCount reads the next block header of an array or map; 0 ends it.
func (d *reader) blockCount(minItemSize int) (int, error) {
	n, err := d.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, errors.New("invalid Avro block count")
		}
		n = -n
		if _, err := d.long(); err != nil { // block size in bytes
			return 0, err
		}
	}
	if n > maxCollection || (minItemSize > 0 && n*int64(minItemSize) > int64(d.remaining())) {
		return 0, fmt.Errorf("Avro block of %d items exceeds the data", n)
	}
	return int(n), nil
}

type decodeFn func(d *reader) (any, error)

// FieldError locates a value error inside a record: Field is the dotted path
// from the top-level value ("order.items[2].price").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// inField prefixes err's field path with name.
func inField(name string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) && fe == err {
		sep := "."
		if len(fe.Field) > 0 && fe.Field[0] == '[' {
			sep = ""
		}
		return &FieldError{Field: name + sep + fe.Field, Err: fe.Err}
	}
	return &FieldError{Field: name, Err: err}
}

func inIndex(i int, err error) error {
	return inField(fmt.Sprintf("[%d]", i), err)
}

type pair struct{ w, r avro.Schema }

type compiler struct {
	named map[pair]*decodeFn
	// strict makes every writer union branch and enum symbol resolve at
	// compile time, for compatibility checks; decoders defer those errors
	// to the records that actually use the branch or symbol.
	strict bool
}

// CheckCompatible reports whether every record written with writer can be
// read with reader under Avro schema resolution; the error names the first
// field that cannot.
func CheckCompatible(reader, writer *Schema) error {
	c := &compiler{named: make(map[pair]*decodeFn), strict: true}
	_, err := c.compile(writer.Avro, reader.Avro)
	return err
}

// compileDecoder returns a decoder for data written with writer, producing
// values shaped by reader (writer itself when reader is nil). It fails when
// the schemas cannot be resolved against each other.
func compileDecoder(writer, reader avro.Schema) (decodeFn, error) {
	if reader == nil {
		reader = writer
	}
	c := &compiler{named: make(map[pair]*decodeFn)}
	return c.compile(writer, reader)
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func (c *compiler) compile(w, r avro.Schema) (decodeFn, error) {
	w, r = deref(w), deref(r)
	if wu, ok := w.(*avro.UnionSchema); ok {
		return c.compileWriterUnion(wu, r)
	}
	if ru, ok := r.(*avro.UnionSchema); ok {
		i := matchBranch(w, ru)
		if i < 0 {
			return nil, fmt.Errorf("writer type %s matches no branch of reader union %s", typeName(w), ru.String())
		}
		return c.compile(w, ru.Types()[i])
	}
	switch ws := w.(type) {
	case *avro.RecordSchema:
		rs, ok := r.(*avro.RecordSchema)
		if !ok {
			return nil, mismatch(w, r)
		}
		return c.compileRecord(ws, rs)
	case *avro.EnumSchema:
		rs, ok := r.(*avro.EnumSchema)
		if !ok {
			return nil, mismatch(w, r)
		}
		return compileEnum(ws, rs, c.strict)
	case *avro.ArraySchema:
		rs, ok := r.(*avro.ArraySchema)
		if !ok {
			return nil, mismatch(w, r)
		}
		item, err := c.compile(ws.Items(), rs.Items())
		if err != nil {
			return nil, fmt.Errorf("array items: %w", err)
		}
		minSize := minEncodedSize(ws.Items())
		return func(d *reader) (any, error) {
			out := []any{}
			for {
				n, err := d.blockCount(minSize)
				if err != nil {
					return nil, err
				}
				if n == 0 {
					return out, nil
				}
				for range n {
					v, err := item(d)
					if err != nil {
						return nil, inIndex(len(out), err)
					}
					out = append(out, v)
				}
			}
		}, nil
	case *avro.MapSchema:
		rs, ok := r.(*avro.MapSchema)
		if !ok {
			return nil, mismatch(w, r)
		}
		val, err := c.compile(ws.Values(), rs.Values())
		if err != nil {
			return nil, fmt.Errorf("map values: %w", err)
		}
		minSize := 1 + minEncodedSize(ws.Values())
		return func(d *reader) (any, error) {
			out := types.NewStruct(4)
			for {
				n, err := d.blockCount(minSize)
				if err != nil {
					return nil, err
				}
				if n == 0 {
					return out, nil
				}
				for range n {
					k, err := d.bytes()
					if err != nil {
						return nil, err
					}
					v, err := val(d)
					if err != nil {
						return nil, inField(string(k), err)
					}
					out.Set(string(k), v)
				}
			}
		}, nil
	case *avro.FixedSchema:
		rs, ok := r.(*avro.FixedSchema)
		if !ok || rs.Size() != ws.Size() {
			return nil, mismatch(w, r)
		}
		size := ws.Size()
		return func(d *reader) (any, error) {
			b, err := d.fixed(size)
			if err != nil {
				return nil, err
			}
			return append([]byte(nil), b...), nil
		}, nil
	case *avro.NullSchema:
		if r.Type() != avro.Null {
			return nil, mismatch(w, r)
		}
		return func(*reader) (any, error) { return nil, nil }, nil
	case *avro.PrimitiveSchema:
		rs, ok := r.(*avro.PrimitiveSchema)
		if !ok {
			return nil, mismatch(w, r)
		}
		return compilePrimitive(ws, rs)
	}
	return nil, mismatch(w, r)
}

func mismatch(w, r avro.Schema) error {
	return fmt.Errorf("reader type %s cannot read writer type %s", typeName(r), typeName(w))
}

func typeName(s avro.Schema) string {
	s = deref(s)
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

// minEncodedSize is the least number of bytes a value of s takes, used to
// reject block counts that cannot fit in the input.
func minEncodedSize(s avro.Schema) int {
	switch s := deref(s).(type) {
	case *avro.NullSchema:
		return 0
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Float:
			return 4
		case avro.Double:
			return 8
		}
		return 1
	case *avro.FixedSchema:
		return s.Size()
	case *avro.RecordSchema:
		n := 0
		for _, f := range s.Fields() {
			n += minEncodedSize(f.Type())
			if n > 0 {
				return n
			}
		}
		return n
	}
	return 1
}

// matchBranch finds the reader union branch for writer type w: the same named
// type (full name, then short name), then the same type, then a promotion.
func matchBranch(w avro.Schema, ru *avro.UnionSchema) int {
	w = deref(w)
	if wn, ok := w.(avro.NamedSchema); ok {
		for i, b := range ru.Types() {
			if bn, ok := deref(b).(avro.NamedSchema); ok && bn.Type() == w.Type() && bn.FullName() == wn.FullName() {
				return i
			}
		}
		for i, b := range ru.Types() {
			if bn, ok := deref(b).(avro.NamedSchema); ok && bn.Type() == w.Type() && bn.Name() == wn.Name() {
				return i
			}
		}
	}
	for i, b := range ru.Types() {
		b = deref(b)
		if b.Type() == w.Type() {
			if _, named := b.(avro.NamedSchema); !named {
				return i
			}
		}
	}
	for i, b := range ru.Types() {
		if promotable(w.Type(), deref(b).Type()) {
			return i
		}
	}
	return -1
}

func promotable(w, r avro.Type) bool {
	switch w {
	case avro.Int:
		return r == avro.Long || r == avro.Float || r == avro.Double
	case avro.Long:
		return r == avro.Float || r == avro.Double
	case avro.Float:
		return r == avro.Double
	case avro.String:
		return r == avro.Bytes
	case avro.Bytes:
		return r == avro.String
	}
	return false
}

func (c *compiler) compileWriterUnion(wu *avro.UnionSchema, r avro.Schema) (decodeFn, error) {
	branches := make([]decodeFn, len(wu.Types()))
	errs := make([]error, len(wu.Types()))
	ok := false
	for i, b := range wu.Types() {
		fn, err := c.compile(b, r)
		if err != nil {
			if c.strict {
				return nil, fmt.Errorf("writer union branch %s: %w", typeName(b), err)
			}
			// Resolution fails only when this branch is actually written.
			errs[i] = err
			continue
		}
		branches[i] = fn
		ok = true
	}
	if !ok {
		return nil, fmt.Errorf("no branch of writer union %s can be read as %s", wu.String(), typeName(r))
	}
	return func(d *reader) (any, error) {
		idx, err := d.long()
		if err != nil {
			return nil, err
		}
		if idx < 0 || idx >= int64(len(branches)) {
			return nil, fmt.Errorf("Avro union index %d out of range [0, %d)", idx, len(branches))
		}
		if branches[idx] == nil {
			return nil, errs[idx]
		}
		return branches[idx](d)
	}, nil
}

func compileEnum(w, r *avro.EnumSchema, strict bool) (decodeFn, error) {
	symbols := w.Symbols()
	// Map writer symbol index to the reader's symbol; "" = not in reader.
	mapped := make([]string, len(symbols))
	for i, s := range symbols {
		for _, rs := range r.Symbols() {
			if rs == s {
				mapped[i] = s
			}
		}
		if mapped[i] == "" && r.HasDefault() {
			mapped[i] = r.Default()
		}
		if mapped[i] == "" && strict {
			return nil, fmt.Errorf("enum symbol %s is not in reader enum %s and it has no default", s, r.FullName())
		}
	}
	name := r.FullName()
	return func(d *reader) (any, error) {
		idx, err := d.long()
		if err != nil {
			return nil, err
		}
		if idx < 0 || idx >= int64(len(symbols)) {
			return nil, fmt.Errorf("Avro enum index %d out of range for %s", idx, name)
		}
		if mapped[idx] == "" {
			return nil, fmt.Errorf("enum symbol %s is not in reader enum %s and it has no default", symbols[idx], name)
		}
		return mapped[idx], nil
	}, nil
}

func compilePrimitive(w, r *avro.PrimitiveSchema) (decodeFn, error) {
	fn, err := compileBase(w, r)
	if err != nil || r.Logical() == nil {
		return fn, err
	}
	check := logicalCheck(r)
	if check == nil {
		return fn, nil
	}
	name := string(r.Logical().Type())
	return func(d *reader) (any, error) {
		v, err := fn(d)
		if err == nil {
			if verr := check(v); verr != nil {
				// As upstream: a bad value from the topic is somebody else's
				// data problem, so it is reported, not fatal. Writes fail.
				if d.log != nil {
					d.log.Warn("value read from Kafka does not match its logical type", "logicalType", name, "error", verr.Error())
				}
			}
		}
		return v, err
	}, nil
}

// logicalCheck returns the read-side validation of r's logical type, nil when
// there is nothing to check.
func logicalCheck(r *avro.PrimitiveSchema) func(any) error {
	if _, isDec := r.Logical().(*avro.DecimalLogicalSchema); isDec {
		l, ok := decimalOf(r)
		if !ok {
			return nil
		}
		prec := l.Precision()
		return func(v any) error {
			str, _ := v.(string)
			digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(str), "0")
			if len(digits) > prec {
				return fmt.Errorf("decimal value %q needs %d digits of precision, but the schema allows only %d", str, len(digits), prec)
			}
			return nil
		}
	}
	switch r.Logical().Type() {
	case avro.UUID:
		return func(v any) error {
			if str, ok := v.(string); ok && !validUUID(str) {
				return fmt.Errorf("value %q is not a valid uuid", str)
			}
			return nil
		}
	case avro.TimeMillis:
		return rangeCheck("time-millis", 86_399_999)
	case avro.TimeMicros:
		return rangeCheck("time-micros", 86_399_999_999)
	}
	return nil
}

func rangeCheck(name string, hi int64) func(any) error {
	return func(v any) error {
		if n, ok := v.(int64); ok && (n < 0 || n > hi) {
			return fmt.Errorf("value %d is out of range for %s [0, %d]", n, name, hi)
		}
		return nil
	}
}

func compileBase(w, r *avro.PrimitiveSchema) (decodeFn, error) {
	wt, rt := w.Type(), r.Type()
	if wt != rt && !promotable(wt, rt) {
		return nil, mismatch(w, r)
	}
	switch wt {
	case avro.Boolean:
		return func(d *reader) (any, error) {
			b, err := d.fixed(1)
			if err != nil {
				return nil, err
			}
			switch b[0] {
			case 0:
				return false, nil
			case 1:
				return true, nil
			}
			return nil, fmt.Errorf("invalid Avro boolean byte %d", b[0])
		}, nil
	case avro.Int:
		if rt == avro.Float || rt == avro.Double {
			return decodeAs(promoted((*reader).int)), nil
		}
		return decodeAs((*reader).int), nil
	case avro.Long:
		if rt == avro.Float || rt == avro.Double {
			return decodeAs(promoted((*reader).long)), nil
		}
		return decodeAs((*reader).long), nil
	case avro.Float:
		return decodeAs((*reader).float), nil
	case avro.Double:
		return decodeAs((*reader).double), nil
	case avro.String, avro.Bytes:
		if dec, ok := decimalOf(r); ok && wt == avro.Bytes {
			scale := dec.Scale()
			return func(d *reader) (any, error) {
				b, err := d.bytes()
				if err != nil {
					return nil, err
				}
				return decimalString(b, scale), nil
			}, nil
		}
		if rt == avro.String {
			return func(d *reader) (any, error) {
				b, err := d.bytes()
				if err != nil {
					return nil, err
				}
				return string(b), nil
			}, nil
		}
		return func(d *reader) (any, error) {
			b, err := d.bytes()
			if err != nil {
				return nil, err
			}
			return append([]byte(nil), b...), nil
		}, nil
	}
	return nil, mismatch(w, r)
}

// decimalOf returns the decimal logical type of a bytes schema. Upstream maps
// only bytes-backed decimals to strings; a fixed-backed decimal stays bytes.
func decimalOf(s avro.Schema) (*avro.DecimalLogicalSchema, bool) {
	p, ok := deref(s).(*avro.PrimitiveSchema)
	if !ok || p.Type() != avro.Bytes || p.Logical() == nil {
		return nil, false
	}
	dec, ok := p.Logical().(*avro.DecimalLogicalSchema)
	if !ok || dec.Precision() <= 0 || dec.Scale() < 0 || dec.Scale() > dec.Precision() {
		// An invalid decimal is ignored, as Avro's Java parser ignores it.
		return nil, false
	}
	return dec, true
}

// decimalString formats a two's-complement big-endian unscaled value with
// scale as plain decimal text ("123.45", "-0.05"), as Java's
// BigDecimal.toPlainString does.
func decimalString(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = string(repeatZero(scale-len(digits)+1)) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func repeatZero(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return b
}

func (c *compiler) compileRecord(w, r *avro.RecordSchema) (decodeFn, error) {
	key := pair{w, r}
	if fn, ok := c.named[key]; ok {
		// Recursive type: call through the slot filled below.
		return func(d *reader) (any, error) { return (*fn)(d) }, nil
	}
	slot := new(decodeFn)
	c.named[key] = slot

	rFields := r.Fields()
	type step struct {
		target int // reader field index, -1 to skip
		name   string
		fn     decodeFn
	}
	steps := make([]step, 0, len(w.Fields()))
	written := make([]bool, len(rFields))
	for _, wf := range w.Fields() {
		ri := findField(rFields, wf)
		var (
			fn  decodeFn
			err error
		)
		if ri >= 0 {
			fn, err = c.compile(wf.Type(), rFields[ri].Type())
			written[ri] = true
		} else {
			fn, err = c.compile(wf.Type(), wf.Type())
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", wf.Name(), err)
		}
		steps = append(steps, step{target: ri, name: wf.Name(), fn: fn})
	}
	// Reader fields the writer does not have take their defaults.
	type fill struct {
		target int
		value  any
	}
	var fills []fill
	for i, rf := range rFields {
		if written[i] {
			continue
		}
		if !rf.HasDefault() {
			return nil, fmt.Errorf("field %s: reader field is missing in the writer schema and has no default", rf.Name())
		}
		v, err := defaultValue(rf.Type(), rf.Default())
		if err != nil {
			return nil, fmt.Errorf("field %s: default: %w", rf.Name(), err)
		}
		fills = append(fills, fill{target: i, value: v})
	}
	schema := structSchemaOf(r)
	names := make([]string, len(rFields))
	for i, f := range rFields {
		names[i] = f.Name()
	}
	inOrder := len(fills) == 0 && len(steps) == len(names)
	for i, s := range steps {
		inOrder = inOrder && s.target == i
	}
	if inOrder {
		// Same fields in the same order (the usual case): no staging.
		*slot = func(d *reader) (any, error) {
			out := types.NewStruct(len(names))
			out.Schema = schema
			for i, s := range steps {
				v, err := s.fn(d)
				if err != nil {
					return nil, inField(s.name, err)
				}
				out.Set(names[i], v)
			}
			return out, nil
		}
		return *slot, nil
	}
	*slot = func(d *reader) (any, error) {
		vals := make([]any, len(names))
		for _, s := range steps {
			v, err := s.fn(d)
			if err != nil {
				return nil, inField(s.name, err)
			}
			if s.target >= 0 {
				vals[s.target] = v
			}
		}
		for _, f := range fills {
			vals[f.target] = cloneDefault(f.value)
		}
		out := types.NewStruct(len(names))
		out.Schema = schema
		for i, n := range names {
			out.Set(n, vals[i])
		}
		return out, nil
	}
	return *slot, nil
}

// findField returns the reader field matching writer field wf by name or
// by a reader alias, or -1.
func findField(rFields []*avro.Field, wf *avro.Field) int {
	for i, rf := range rFields {
		if rf.Name() == wf.Name() {
			return i
		}
	}
	for i, rf := range rFields {
		for _, a := range rf.Aliases() {
			if a == wf.Name() {
				return i
			}
		}
	}
	return -1
}

// cloneDefault copies mutable default values so records do not share them.
func cloneDefault(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneDefault(e)
		}
		return out
	case *types.Struct:
		out := types.NewStruct(v.Len())
		out.Schema = v.Schema
		v.Range(func(k string, e any) bool {
			out.Set(k, cloneDefault(e))
			return true
		})
		return out
	case []byte:
		return append([]byte(nil), v...)
	}
	return v
}

// decodeAs makes a decoder of a primitive read: the value as any, nil on
// error.
func decodeAs[T any](read func(*reader) (T, error)) func(*reader) (any, error) {
	return func(d *reader) (any, error) {
		v, err := read(d)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// promoted reads an int or long written value that the reader's schema
// declares float or double (Avro's schema promotion).
func promoted(read func(*reader) (int64, error)) func(*reader) (float64, error) {
	return func(d *reader) (float64, error) {
		v, err := read(d)
		return float64(v), err
	}
}
