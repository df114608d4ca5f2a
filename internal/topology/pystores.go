package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Python access to window and session stores, with upstream's API:
// put/fetch/fetchAll/all (and their backward variants) on window stores,
// fetch/findSessions/fetchSession/put/remove on session stores. Iterators
// are materialized lists, so user code may write to the store while it
// iterates.

// pyVersioned is the Python API of a versioned key/value store:
// get(key[, asOf]) -> {value, timestamp, validTo}, put(key, value,
// timestamp), delete(key, timestamp).
type pyVersioned struct{ *store.Versioned }

var _ python.VersionedKeyValueStore = pyVersioned{}

func (s pyVersioned) IsOpen() bool { return true }

func (s pyVersioned) GetVersioned(key any, asOf *int64) (any, error) {
	r, err := s.Get(key, asOf)
	if err != nil || r == nil {
		return nil, err
	}
	return r.Struct(), nil
}

func (s pyVersioned) PutVersioned(key, value any, timestamp int64) error {
	_, err := s.Put(key, value, timestamp)
	return err
}

func (s pyVersioned) DeleteVersioned(key any, timestamp int64) (any, error) {
	r, err := s.Delete(key, timestamp)
	if err != nil || r == nil {
		return nil, err
	}
	return r.Struct(), nil
}

type pyWindow struct {
	windowState
	size int64
}

var _ python.WindowStore = (*pyWindow)(nil)

func (s *pyWindow) Name() string     { return s.name }
func (s *pyWindow) Persistent() bool { return s.st.Persistent() }
func (s *pyWindow) IsOpen() bool     { return true }
func (s *pyWindow) Flush() error     { return s.st.Flush() }

func (s *pyWindow) Put(key, value any, windowStart int64) error {
	if key == nil {
		return fmt.Errorf("store %q: key must not be null", s.name)
	}
	kb, err := s.keyBytes(key)
	if err != nil {
		return err
	}
	vb, err := s.encode(value)
	if err != nil {
		return err
	}
	return s.st.Put(kb, windowStart, vb)
}

func (s *pyWindow) Fetch(key any, t int64) (any, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, err
	}
	vb, err := s.st.Fetch(kb, t)
	if err != nil {
		return nil, err
	}
	return s.decode(vb)
}

func (s *pyWindow) collect(keyFrom, keyTo []byte, from, to int64, backward, byTime bool) (python.Iterator, error) {
	var out []python.KeyValue
	var ferr error
	err := s.st.FetchRange(keyFrom, keyTo, from, to, backward, func(kb []byte, start int64, vb []byte) bool {
		v, err := s.decode(vb)
		if err != nil {
			ferr = err
			return false
		}
		if byTime {
			out = append(out, python.KeyValue{Key: start, Value: v})
			return true
		}
		k, err := s.ks.Deserialize(s.name, nil, kb)
		if err != nil {
			ferr = err
			return false
		}
		out = append(out, python.KeyValue{Key: types.Windowed{Key: k, Start: start, End: start + s.size}, Value: v})
		return true
	})
	if err = firstErr(err, ferr); err != nil {
		return nil, err
	}
	return &listIterator{items: out}, nil
}

func (s *pyWindow) optKey(k any) ([]byte, error) {
	if k == nil {
		return nil, nil
	}
	return s.keyBytes(k)
}

func (s *pyWindow) FetchRange(key any, from, to int64, backward bool) (python.Iterator, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, err
	}
	return s.collect(kb, kb, from, to, backward, true)
}

func (s *pyWindow) FetchKeyRange(keyFrom, keyTo any, from, to int64, backward bool) (python.Iterator, error) {
	kf, err := s.optKey(keyFrom)
	if err != nil {
		return nil, err
	}
	kt, err := s.optKey(keyTo)
	if err != nil {
		return nil, err
	}
	return s.collect(kf, kt, from, to, backward, false)
}

func (s *pyWindow) FetchAll(from, to int64, backward bool) (python.Iterator, error) {
	return s.collect(nil, nil, from, to, backward, false)
}

func (s *pyWindow) All(backward bool) (python.Iterator, error) {
	return s.collect(nil, nil, minTime, maxTime, backward, false)
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

type pySession struct {
	name   string
	st     streams.SessionStore
	ks, vs streams.Serde
}

var _ python.SessionStore = (*pySession)(nil)

func (s *pySession) Name() string     { return s.name }
func (s *pySession) Persistent() bool { return s.st.Persistent() }
func (s *pySession) IsOpen() bool     { return true }
func (s *pySession) Flush() error     { return s.st.Flush() }

func (s *pySession) keyBytes(k any) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("store %q: key must not be null", s.name)
	}
	return s.ks.Serialize(s.name, nil, k)
}

func (s *pySession) find(keyFrom, keyTo []byte, earliestEnd, latestStart int64, backward bool) (python.Iterator, error) {
	var out []python.KeyValue
	var ferr error
	err := s.st.FindSessions(keyFrom, keyTo, earliestEnd, latestStart, backward, func(kb []byte, start, end int64, vb []byte) bool {
		k, err := s.ks.Deserialize(s.name, nil, kb)
		if err != nil {
			ferr = err
			return false
		}
		var v any
		if vb != nil {
			if v, err = s.vs.Deserialize(s.name, nil, vb); err != nil {
				ferr = err
				return false
			}
		}
		out = append(out, python.KeyValue{Key: types.Windowed{Key: k, Start: start, End: end}, Value: v})
		return true
	})
	if err = firstErr(err, ferr); err != nil {
		return nil, err
	}
	return &listIterator{items: out}, nil
}

func (s *pySession) Fetch(key any, backward bool) (python.Iterator, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, err
	}
	return s.find(kb, kb, minTime, maxTime, backward)
}

func (s *pySession) FetchKeyRange(keyFrom, keyTo any, backward bool) (python.Iterator, error) {
	var kf, kt []byte
	var err error
	if keyFrom != nil {
		if kf, err = s.keyBytes(keyFrom); err != nil {
			return nil, err
		}
	}
	if keyTo != nil {
		if kt, err = s.keyBytes(keyTo); err != nil {
			return nil, err
		}
	}
	return s.find(kf, kt, minTime, maxTime, backward)
}

func (s *pySession) FindSessions(key any, earliestSessionEnd, latestSessionStart int64, backward bool) (python.Iterator, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, err
	}
	return s.find(kb, kb, earliestSessionEnd, latestSessionStart, backward)
}

func (s *pySession) FetchSession(key any, start, end int64) (any, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, err
	}
	vb, err := s.st.FetchSession(kb, start, end)
	if err != nil || vb == nil {
		return nil, err
	}
	return s.vs.Deserialize(s.name, nil, vb)
}

func (s *pySession) Put(session types.Windowed, value any) error {
	kb, err := s.keyBytes(session.Key)
	if err != nil {
		return err
	}
	if value == nil {
		return s.st.Remove(kb, session.Start, session.End)
	}
	vb, err := s.vs.Serialize(s.name, nil, value)
	if err != nil {
		return err
	}
	return s.st.Put(kb, session.Start, session.End, vb)
}

func (s *pySession) Remove(session types.Windowed) error {
	kb, err := s.keyBytes(session.Key)
	if err != nil {
		return err
	}
	return s.st.Remove(kb, session.Start, session.End)
}

type listIterator struct {
	items []python.KeyValue
	i     int
}

func (it *listIterator) Next() (python.KeyValue, bool) {
	if it.i >= len(it.items) {
		return python.KeyValue{}, false
	}
	kv := it.items[it.i]
	it.i++
	return kv, true
}

func (it *listIterator) Close() error { return nil }
