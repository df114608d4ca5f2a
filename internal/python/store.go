package python

/*
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"

	"github.com/ksml-dev/ksml/internal/types"
)

// CallContext carries what differs per task or record: the state stores a
// function may use, by name. A nil *CallContext means no stores.
type CallContext struct {
	// Stores maps store names to KeyValueStore, WindowStore or SessionStore
	// implementations.
	Stores map[string]Store
}

// Store is what every state store offers to Python code.
type Store interface {
	Name() string
	Persistent() bool
	IsOpen() bool
	Flush() error
}

// KeyValue is one store entry. For window stores Key is a types.Windowed
// (or the window start time in epoch millis for single-key range fetches);
// for session stores it is a types.Windowed.
type KeyValue struct {
	Key   any
	Value any
}

// Iterator walks store entries. The bridge drains it into a Python iterator
// when user code asks for one, and closes it.
type Iterator interface {
	Next() (KeyValue, bool)
	Close() error
}

// KeyValueStore is the Python API of a key/value store.
type KeyValueStore interface {
	Store
	Get(key any) (any, error)
	Put(key, value any) error
	PutIfAbsent(key, value any) (any, error)
	Delete(key any) (any, error)
	All() (Iterator, error)
	ApproximateNumEntries() (int64, error)
}

// TimestampedKeyValueStore is a key/value store whose values carry a
// timestamp: Get returns a {value, timestamp} struct, and Python's
// put(key, value, timestamp) and putIfAbsent(key, value, timestamp) reach the
// methods below.
type TimestampedKeyValueStore interface {
	KeyValueStore
	PutWithTimestamp(key, value any, timestamp int64) error
	PutIfAbsentWithTimestamp(key, value any, timestamp int64) (any, error)
}

// VersionedKeyValueStore is the Python API of a versioned key/value store:
// get(key[, asOf]) returns {value, timestamp, validTo} or None,
// put(key, value, timestamp) and delete(key, timestamp).
type VersionedKeyValueStore interface {
	Store
	GetVersioned(key any, asOf *int64) (any, error)
	PutVersioned(key, value any, timestamp int64) error
	DeleteVersioned(key any, timestamp int64) (any, error)
}

// TimestampedWindowStore is a window store whose values carry a timestamp;
// Python's put(key, value, windowStart, timestamp) reaches PutWithTimestamp.
type TimestampedWindowStore interface {
	WindowStore
	PutWithTimestamp(key, value any, windowStart, timestamp int64) error
}

// WindowStore is the Python API of a window store. Time arguments are epoch
// millis; backward asks for descending time order.
type WindowStore interface {
	Store
	Put(key, value any, windowStart int64) error
	Fetch(key any, time int64) (any, error)
	FetchRange(key any, from, to int64, backward bool) (Iterator, error)
	FetchKeyRange(keyFrom, keyTo any, from, to int64, backward bool) (Iterator, error)
	FetchAll(from, to int64, backward bool) (Iterator, error)
	All(backward bool) (Iterator, error)
}

// SessionStore is the Python API of a session store. Sessions are keyed by
// types.Windowed (Start and End are the session bounds); Python passes them
// as dicts {key, start, end}.
type SessionStore interface {
	Store
	Fetch(key any, backward bool) (Iterator, error)
	FetchKeyRange(keyFrom, keyTo any, backward bool) (Iterator, error)
	FindSessions(key any, earliestSessionEnd, latestSessionStart int64, backward bool) (Iterator, error)
	FetchSession(key any, start, end int64) (any, error)
	Put(session types.Windowed, value any) error
	Remove(session types.Windowed) error
}

// Store operation codes. storeOps hands them to bootstrap.py as its OP_
// constants when the interpreter starts, so both sides read one table.
const (
	opName = iota
	opPersistent
	opIsOpen
	opFlush
	opGet
	opPut
	opPutIfAbsent
	opDelete
	opAll
	opCount
	opFetch
	opBackwardFetch
	opFetchAll
	opBackwardFetchAll
	opBackwardAll
	opFindSessions
	opBackwardFindSessions
	opFetchSession
	opRemove
)

// storeOps names the operation codes as bootstrap.py uses them.
var storeOps = map[string]any{
	"OP_NAME": int64(opName), "OP_PERSISTENT": int64(opPersistent), "OP_ISOPEN": int64(opIsOpen),
	"OP_FLUSH": int64(opFlush), "OP_GET": int64(opGet), "OP_PUT": int64(opPut),
	"OP_PUTIFABSENT": int64(opPutIfAbsent), "OP_DELETE": int64(opDelete), "OP_ALL": int64(opAll),
	"OP_COUNT": int64(opCount), "OP_FETCH": int64(opFetch), "OP_BFETCH": int64(opBackwardFetch),
	"OP_FETCHALL": int64(opFetchAll), "OP_BFETCHALL": int64(opBackwardFetchAll), "OP_BALL": int64(opBackwardAll),
	"OP_FIND": int64(opFindSessions), "OP_BFIND": int64(opBackwardFindSessions),
	"OP_FETCHSESSION": int64(opFetchSession), "OP_REMOVE": int64(opRemove),
}

// errUnknownStore makes Python raise KeyError.
var errUnknownStore = errors.New("unknown store")

//export ksmlHostStore
func ksmlHostStore(ctx C.uintptr_t, name *C.char, n C.size_t, op C.int, args *C.char, alen C.size_t, nargs C.int, out *C.ksml_buf) (rc C.int) {
	// A panic must not unwind through C frames (that ends the process);
	// it becomes a Python RuntimeError instead.
	defer func() {
		if r := recover(); r != nil {
			out.len = 0
			putBuf(out, []byte(fmt.Sprintf("state store operation failed: %v", r)))
			rc = 1
		}
	}()
	cc, _ := cgo.Handle(ctx).Value().(*CallContext)
	storeName := C.GoStringN(name, C.int(n))
	var in []byte
	if alen > 0 {
		in = C.GoBytes(unsafePtr(args), C.int(alen))
	}
	d := decoder{b: in}
	vals := make([]any, int(nargs))
	for i := range vals {
		v, err := d.value()
		if err != nil {
			putBuf(out, []byte(err.Error()))
			return 1
		}
		vals[i] = v
	}
	var st Store
	if cc != nil {
		st = cc.Stores[storeName]
	}
	if st == nil {
		putBuf(out, []byte("state store "+storeName+" is not available to this function"))
		return 2
	}
	res, err := storeOp(st, int(op), vals)
	if err != nil {
		putBuf(out, []byte(fmt.Sprintf("state store %s: %v", storeName, err)))
		return 1
	}
	var enc encoder
	if err := enc.value(res); err != nil {
		putBuf(out, []byte(fmt.Sprintf("state store %s: %v", storeName, err)))
		return 1
	}
	putBuf(out, enc.buf)
	return 0
}

func argInt(vals []any, i int) (int64, error) {
	switch x := vals[i].(type) {
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("argument %d must be a timestamp (int), got %T", i+1, vals[i])
}

func argWindow(v any) (types.Windowed, error) {
	s, ok := v.(*types.Struct)
	if !ok {
		return types.Windowed{}, fmt.Errorf("a session key must be a dict {key, start, end}, got %T", v)
	}
	var w types.Windowed
	w.Key, _ = s.Get("key")
	st, ok1 := s.Get("start")
	en, ok2 := s.Get("end")
	si, ok3 := st.(int64)
	ei, ok4 := en.(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return w, errors.New("a session key needs int fields start and end")
	}
	w.Start, w.End = si, ei
	return w, nil
}

// drain turns an iterator into the list of {key, value} dicts Python sees.
func drain(it Iterator, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	if it == nil {
		return []any{}, nil
	}
	defer it.Close()
	list := []any{}
	for {
		kv, ok := it.Next()
		if !ok {
			break
		}
		s := types.NewStruct(2)
		s.Set("key", kv.Key)
		s.Set("value", kv.Value)
		list = append(list, s)
	}
	return list, nil
}

func storeOp(st Store, op int, v []any) (any, error) {
	need := func(n int) error {
		if len(v) != n {
			return fmt.Errorf("expected %d arguments, got %d", n, len(v))
		}
		return nil
	}
	ints := func(idx ...int) ([]int64, error) {
		out := make([]int64, len(idx))
		for i, at := range idx {
			n, err := argInt(v, at)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	switch op {
	case opName:
		return st.Name(), nil
	case opPersistent:
		return st.Persistent(), nil
	case opIsOpen:
		return st.IsOpen(), nil
	case opFlush:
		return nil, st.Flush()
	}
	switch s := st.(type) {
	case VersionedKeyValueStore:
		switch op {
		case opGet:
			switch len(v) {
			case 1:
				return s.GetVersioned(v[0], nil)
			case 2:
				t, err := ints(1)
				if err != nil {
					return nil, err
				}
				return s.GetVersioned(v[0], &t[0])
			}
			return nil, errors.New("get takes (key) or (key, asOfTimestamp)")
		case opPut:
			if err := need(3); err != nil {
				return nil, err
			}
			t, err := ints(2)
			if err != nil {
				return nil, err
			}
			return nil, s.PutVersioned(v[0], v[1], t[0])
		case opDelete:
			if err := need(2); err != nil {
				return nil, err
			}
			t, err := ints(1)
			if err != nil {
				return nil, err
			}
			return s.DeleteVersioned(v[0], t[0])
		}
		return nil, errors.New("operation not supported by a versioned key/value store")
	case KeyValueStore:
		ts, timestamped := st.(TimestampedKeyValueStore)
		switch op {
		case opGet:
			if err := need(1); err != nil {
				return nil, err
			}
			return s.Get(v[0])
		case opPut:
			if len(v) == 3 && timestamped {
				t, err := ints(2)
				if err != nil {
					return nil, err
				}
				return nil, ts.PutWithTimestamp(v[0], v[1], t[0])
			}
			if err := need(2); err != nil {
				return nil, err
			}
			return nil, s.Put(v[0], v[1])
		case opPutIfAbsent:
			if len(v) == 3 && timestamped {
				t, err := ints(2)
				if err != nil {
					return nil, err
				}
				return ts.PutIfAbsentWithTimestamp(v[0], v[1], t[0])
			}
			if err := need(2); err != nil {
				return nil, err
			}
			return s.PutIfAbsent(v[0], v[1])
		case opDelete:
			if err := need(1); err != nil {
				return nil, err
			}
			return s.Delete(v[0])
		case opAll:
			return drain(s.All())
		case opCount:
			return s.ApproximateNumEntries()
		}
		return nil, errors.New("operation not supported by a key/value store")
	case WindowStore:
		switch op {
		case opPut:
			if tw, ok := st.(TimestampedWindowStore); ok && len(v) == 4 {
				t, err := ints(2, 3)
				if err != nil {
					return nil, err
				}
				return nil, tw.PutWithTimestamp(v[0], v[1], t[0], t[1])
			}
			if err := need(3); err != nil {
				return nil, err
			}
			t, err := ints(2)
			if err != nil {
				return nil, err
			}
			return nil, s.Put(v[0], v[1], t[0])
		case opFetch, opBackwardFetch:
			backward := op == opBackwardFetch
			var res any
			var err error
			switch {
			case len(v) == 2 && !backward:
				t, err := ints(1)
				if err != nil {
					return nil, err
				}
				one, err := s.Fetch(v[0], t[0])
				return types.Tuple{false, one}, err
			case len(v) == 3:
				t, e := ints(1, 2)
				if e != nil {
					return nil, e
				}
				res, err = drain(s.FetchRange(v[0], t[0], t[1], backward))
			case len(v) == 4:
				t, e := ints(2, 3)
				if e != nil {
					return nil, e
				}
				res, err = drain(s.FetchKeyRange(v[0], v[1], t[0], t[1], backward))
			default:
				return nil, errors.New("fetch takes (key, time), (key, timeFrom, timeTo) or (keyFrom, keyTo, timeFrom, timeTo)")
			}
			if backward {
				return res, err
			}
			return types.Tuple{true, res}, err
		case opFetchAll, opBackwardFetchAll:
			if err := need(2); err != nil {
				return nil, err
			}
			t, err := ints(0, 1)
			if err != nil {
				return nil, err
			}
			return drain(s.FetchAll(t[0], t[1], op == opBackwardFetchAll))
		case opAll, opBackwardAll:
			return drain(s.All(op == opBackwardAll))
		}
		return nil, errors.New("operation not supported by a window store")
	case SessionStore:
		switch op {
		case opFetch, opBackwardFetch:
			backward := op == opBackwardFetch
			var res any
			var err error
			switch len(v) {
			case 1:
				res, err = drain(s.Fetch(v[0], backward))
			case 2:
				res, err = drain(s.FetchKeyRange(v[0], v[1], backward))
			default:
				return nil, errors.New("fetch takes (key) or (keyFrom, keyTo)")
			}
			if backward {
				return res, err
			}
			return types.Tuple{true, res}, err
		case opFindSessions, opBackwardFindSessions:
			if err := need(3); err != nil {
				return nil, err
			}
			t, err := ints(1, 2)
			if err != nil {
				return nil, err
			}
			return drain(s.FindSessions(v[0], t[0], t[1], op == opBackwardFindSessions))
		case opFetchSession:
			if err := need(3); err != nil {
				return nil, err
			}
			t, err := ints(1, 2)
			if err != nil {
				return nil, err
			}
			return s.FetchSession(v[0], t[0], t[1])
		case opPut:
			if err := need(2); err != nil {
				return nil, err
			}
			w, err := argWindow(v[0])
			if err != nil {
				return nil, err
			}
			return nil, s.Put(w, v[1])
		case opRemove:
			if err := need(1); err != nil {
				return nil, err
			}
			w, err := argWindow(v[0])
			if err != nil {
				return nil, err
			}
			return nil, s.Remove(w)
		}
		return nil, errors.New("operation not supported by a session store")
	}
	return nil, fmt.Errorf("store type %T offers no Python API", st)
}
