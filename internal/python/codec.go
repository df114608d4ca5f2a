package python

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ksml-dev/ksml/internal/types"
)

// The value encoding between Go and C. It is private to the bridge: a tag
// byte, then a fixed-size payload or a little-endian uint32 length or count.
//
//	N T F            None, True, False
//	I <int64>        int          D <float64 bits>  float
//	S <n> <utf8>     str          B <n> <bytes>     bytes
//	J <n> <json>     raw JSON, decoded into Python objects by the C scanner
//	L <n> items      list         U <n> items       tuple
//	M <n> (<n> key, value)*       dict with str keys, in order
//	P <pointer>      a Python object reference (bridge internal)
const (
	tagNone  = 'N'
	tagTrue  = 'T'
	tagFalse = 'F'
	tagInt   = 'I'
	tagFloat = 'D'
	tagStr   = 'S'
	tagBytes = 'B'
	tagJSON  = 'J'
	tagList  = 'L'
	tagTuple = 'U'
	tagMap   = 'M'
	tagRef   = 'P'
)

type encoder struct {
	buf   []byte
	depth int
}

func (e *encoder) tag(t byte) { e.buf = append(e.buf, t) }

func (e *encoder) u32(n int) { e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n)) }

func (e *encoder) i64(v int64) {
	e.buf = append(e.buf, tagInt)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(v))
}

func (e *encoder) str(s string) {
	e.buf = append(e.buf, tagStr)
	e.u32(len(s))
	e.buf = append(e.buf, s...)
}

func (e *encoder) key(s string) {
	e.u32(len(s))
	e.buf = append(e.buf, s...)
}

// value appends v in the data model of internal/types.
func (e *encoder) value(v any) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > 200 {
		return errors.New("value nests too deeply")
	}
	switch x := v.(type) {
	case nil:
		e.tag(tagNone)
	case bool:
		if x {
			e.tag(tagTrue)
		} else {
			e.tag(tagFalse)
		}
	case int64:
		e.i64(x)
	case int:
		e.i64(int64(x))
	case int32:
		e.i64(int64(x))
	case int16:
		e.i64(int64(x))
	case int8:
		e.i64(int64(x))
	case uint8:
		e.i64(int64(x))
	case uint16:
		e.i64(int64(x))
	case uint32:
		e.i64(int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return fmt.Errorf("integer %d does not fit in 64 bits", x)
		}
		e.i64(int64(x))
	case float64:
		e.tag(tagFloat)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
	case float32:
		e.tag(tagFloat)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(float64(x)))
	case string:
		e.str(x)
	case []byte:
		e.tag(tagBytes)
		e.u32(len(x))
		e.buf = append(e.buf, x...)
	case []any:
		e.tag(tagList)
		e.u32(len(x))
		for _, item := range x {
			if err := e.value(item); err != nil {
				return err
			}
		}
	case types.Tuple:
		e.tag(tagTuple)
		e.u32(len(x))
		for _, item := range x {
			if err := e.value(item); err != nil {
				return err
			}
		}
	case *types.Struct:
		return e.structValue(x)
	case types.Windowed:
		e.tag(tagMap)
		e.u32(5)
		e.key("start")
		e.i64(x.Start)
		e.key("end")
		e.i64(x.End)
		e.key("startTime")
		e.str(types.FormatInstant(x.Start))
		e.key("endTime")
		e.str(types.FormatInstant(x.End))
		e.key("key")
		return e.value(x.Key)
	case *Object:
		x.mu.Lock()
		ref := x.ref
		x.mu.Unlock()
		if ref == nil || ref.p == nil {
			return errReleased
		}
		p := ref.p
		e.tag(tagRef)
		e.buf = append(e.buf, (*[8]byte)(unsafe.Pointer(&p))[:]...)
	case *pyRef:
		e.tag(tagRef)
		p := x.p
		e.buf = append(e.buf, (*[8]byte)(unsafe.Pointer(&p))[:]...)
	case types.JSONMarshaler:
		// Raw JSON (a notation's deferred value) goes to Python's C scanner.
		b, err := x.KSMLJSON()
		if err != nil {
			return err
		}
		e.tag(tagJSON)
		e.u32(len(b))
		e.buf = append(e.buf, b...)
	case types.Deferred:
		r, err := x.Resolve()
		if err != nil {
			return err
		}
		return e.value(r)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.tag(tagMap)
		e.u32(len(keys))
		for _, k := range keys {
			e.key(k)
			if err := e.value(x[k]); err != nil {
				return err
			}
		}
	case []string:
		e.tag(tagList)
		e.u32(len(x))
		for _, s := range x {
			e.str(s)
		}
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.tag(tagMap)
		e.u32(len(keys))
		for _, k := range keys {
			e.key(k)
			e.str(x[k])
		}
	default:
		return fmt.Errorf("cannot pass a Go %s to Python", reflect.TypeOf(v))
	}
	return nil
}

// structValue writes a struct as a dict. A schema-backed struct passed as a
// whole argument also carries "@type" and "@schema", as upstream gives them
// to Python; both are dropped again when a dict comes back.
func (e *encoder) structValue(s *types.Struct) error {
	if s == nil {
		e.tag(tagNone)
		return nil
	}
	e.tag(tagMap)
	// As upstream, only a top-level struct (a whole argument) gets markers.
	markers := s.Schema != nil && e.depth == 1
	n := s.Len()
	if markers {
		n += 2
	}
	e.u32(n)
	var err error
	s.Range(func(k string, v any) bool {
		e.key(k)
		err = e.value(v)
		return err == nil
	})
	if err != nil {
		return err
	}
	if markers {
		meta := host().schemaMeta
		if meta == nil {
			meta = types.DescribeSchema
		}
		if typeName, schema, ok := meta(s.Schema); ok {
			e.key("@type")
			e.str(typeName)
			e.key("@schema")
			return e.value(schema)
		}
		name := s.Schema.Name
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		e.key("@type")
		e.str(name)
		e.key("@schema")
		if desc, ok := s.Schema.Native.(*types.Struct); ok {
			// A schema that carries its own KSML description (the
			// record metadata and context structs do).
			return e.value(desc)
		}
		e.str(s.Schema.Name)
	}
	return nil
}

type decoder struct {
	b        []byte
	pos      int
	allowRef bool
	refs     []*pyRef // references decoded so far, released on failure
}

var errTruncated = errors.New("python: truncated value from the bridge")

func decodeValue(b []byte, allowRef bool) (any, error) {
	d := decoder{b: b, allowRef: allowRef}
	v, err := d.value()
	if err != nil {
		for _, r := range d.refs {
			r.release()
		}
		return nil, err
	}
	return v, nil
}

// releaseRefs drops the object references inside a decoded value that its
// receiver does not keep.
func releaseRefs(v any) {
	switch x := v.(type) {
	case *pyRef:
		x.release()
	case []any:
		for _, it := range x {
			releaseRefs(it)
		}
	case types.Tuple:
		for _, it := range x {
			releaseRefs(it)
		}
	case *types.Struct:
		x.Range(func(_ string, it any) bool {
			releaseRefs(it)
			return true
		})
	}
}

func (d *decoder) u32() (int, error) {
	if len(d.b)-d.pos < 4 {
		return 0, errTruncated
	}
	n := binary.LittleEndian.Uint32(d.b[d.pos:])
	d.pos += 4
	return int(n), nil
}

func (d *decoder) u64() (uint64, error) {
	if len(d.b)-d.pos < 8 {
		return 0, errTruncated
	}
	n := binary.LittleEndian.Uint64(d.b[d.pos:])
	d.pos += 8
	return n, nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if len(d.b)-d.pos < n {
		return nil, errTruncated
	}
	s := d.b[d.pos : d.pos+n]
	d.pos += n
	return s, nil
}

func (d *decoder) value() (any, error) {
	if d.pos >= len(d.b) {
		return nil, errTruncated
	}
	t := d.b[d.pos]
	d.pos++
	switch t {
	case tagNone:
		return nil, nil
	case tagTrue:
		return true, nil
	case tagFalse:
		return false, nil
	case tagInt:
		n, err := d.u64()
		return int64(n), err
	case tagFloat:
		n, err := d.u64()
		return math.Float64frombits(n), err
	case tagStr:
		s, err := d.bytes()
		return string(s), err
	case tagBytes:
		s, err := d.bytes()
		if err != nil {
			return nil, err
		}
		out := make([]byte, len(s)) // empty bytes stay non-nil (nil is None)
		copy(out, s)
		return out, nil
	case tagList, tagTuple:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if n > len(d.b)-d.pos {
			return nil, errTruncated
		}
		items := make([]any, n)
		for i := range items {
			if items[i], err = d.value(); err != nil {
				return nil, err
			}
		}
		if t == tagTuple {
			return types.Tuple(items), nil
		}
		return items, nil
	case tagMap:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if n > len(d.b)-d.pos {
			return nil, errTruncated
		}
		s := types.NewStruct(n)
		for i := 0; i < n; i++ {
			k, err := d.bytes()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			s.Set(string(k), v)
		}
		return s, nil
	case tagRef:
		if len(d.b)-d.pos < 8 {
			return nil, errTruncated
		}
		ref := &pyRef{}
		copy((*[8]byte)(unsafe.Pointer(&ref.p))[:], d.b[d.pos:d.pos+8])
		d.pos += 8
		if !d.allowRef {
			ref.release()
			return nil, errors.New("python: unexpected object reference")
		}
		d.refs = append(d.refs, ref)
		return ref, nil
	}
	return nil, fmt.Errorf("python: unknown value tag %q", t)
}

func itoa(n int) string { return strconv.Itoa(n) }
