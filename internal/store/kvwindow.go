package store

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Window and session stores laid over an ordered byte key/value store (the
// persistent variants use Pebble). Keys are length-prefixed so the entries
// of one key are contiguous and ordered by time:
//
//	window:  uvarint(len(key)) | key | start (8 bytes, sign flipped) | seq (4 bytes)
//	session: uvarint(len(key)) | key | end (8 bytes, sign flipped) | start (8 bytes, sign flipped)
//
// Scans over several keys therefore visit keys by length first, then by
// bytes.

func keyPrefix(key []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, len(key)+2), uint64(len(key)))
	return append(out, key...)
}

func appendTime(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^(1<<63))
}

func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func splitPrefixed(b []byte) (key, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, false
	}
	return b[w : w+int(n)], b[w+int(n):], true
}

func inKeyRange(k, from, to []byte) bool {
	return (from == nil || bytes.Compare(k, from) >= 0) && (to == nil || bytes.Compare(k, to) <= 0)
}

// KVWindow is a window store over an ordered key/value store.
type KVWindow struct {
	kv         streams.KeyValueStore
	duplicates bool
	seq        uint32
}

var _ streams.WindowStore = (*KVWindow)(nil)

// NewKVWindow lays a window store over kv.
func NewKVWindow(kv streams.KeyValueStore, retainDuplicates bool) *KVWindow {
	return &KVWindow{kv: kv, duplicates: retainDuplicates, seq: uint32(time.Now().UnixNano())}
}

// Name returns the store name.
func (w *KVWindow) Name() string { return w.kv.Name() }

// Persistent reports whether the underlying store is on disk.
func (w *KVWindow) Persistent() bool { return w.kv.Persistent() }

// RetainsDuplicates reports whether Put appends instead of replacing.
func (w *KVWindow) RetainsDuplicates() bool { return w.duplicates }

// Flush flushes the underlying store.
func (w *KVWindow) Flush() error { return w.kv.Flush() }

// Close closes the underlying store.
func (w *KVWindow) Close() error { return w.kv.Close() }

func (w *KVWindow) entryKey(key []byte, start int64, seq uint32) []byte {
	return binary.BigEndian.AppendUint32(appendTime(keyPrefix(key), start), seq)
}

// Put stores value for key and window start; nil deletes (ignored when
// duplicates are retained).
func (w *KVWindow) Put(key []byte, windowStart int64, value []byte) error {
	if w.duplicates {
		if value == nil {
			return nil
		}
		w.seq++
		return w.kv.Put(w.entryKey(key, windowStart, w.seq), value)
	}
	return w.kv.Put(w.entryKey(key, windowStart, 0), value)
}

// Fetch returns the value of one window, nil when absent.
func (w *KVWindow) Fetch(key []byte, windowStart int64) ([]byte, error) {
	if !w.duplicates {
		return w.kv.Get(w.entryKey(key, windowStart, 0))
	}
	var out []byte
	from := appendTime(keyPrefix(key), windowStart)
	err := w.kv.Range(from, prefixEnd(from), false, func(_, v []byte) bool { out = v; return false })
	return out, err
}

// FetchRange calls fn for windows of keys in [keyFrom, keyTo] starting in
// [timeFrom, timeTo].
func (w *KVWindow) FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64, reverse bool, fn func(key []byte, windowStart int64, value []byte) bool) error {
	var from, to []byte
	if keyFrom != nil && keyTo != nil && bytes.Equal(keyFrom, keyTo) {
		p := keyPrefix(keyFrom)
		from = appendTime(bytes.Clone(p), timeFrom)
		to = prefixEnd(appendTime(p, timeTo))
	}
	return w.kv.Range(from, to, reverse, func(k, v []byte) bool {
		key, rest, ok := splitPrefixed(k)
		if !ok || len(rest) < 12 || !inKeyRange(key, keyFrom, keyTo) {
			return true
		}
		start := readTime(rest)
		if start < timeFrom || start > timeTo {
			return true
		}
		return fn(key, start, v)
	})
}

// ExpireBefore drops windows that start before t.
func (w *KVWindow) ExpireBefore(t int64) error {
	var dead [][]byte
	err := w.kv.Range(nil, nil, false, func(k, _ []byte) bool {
		if _, rest, ok := splitPrefixed(k); ok && len(rest) >= 8 && readTime(rest) < t {
			dead = append(dead, k)
		}
		return true
	})
	for _, k := range dead {
		if err == nil {
			_, err = w.kv.Delete(k)
		}
	}
	return err
}

// KVSession is a session store over an ordered key/value store.
type KVSession struct {
	kv streams.KeyValueStore
}

var _ streams.SessionStore = (*KVSession)(nil)

// NewKVSession lays a session store over kv.
func NewKVSession(kv streams.KeyValueStore) *KVSession { return &KVSession{kv: kv} }

// Name returns the store name.
func (s *KVSession) Name() string { return s.kv.Name() }

// Persistent reports whether the underlying store is on disk.
func (s *KVSession) Persistent() bool { return s.kv.Persistent() }

// Flush flushes the underlying store.
func (s *KVSession) Flush() error { return s.kv.Flush() }

// Close closes the underlying store.
func (s *KVSession) Close() error { return s.kv.Close() }

func sessionKey(key []byte, start, end int64) []byte {
	return appendTime(appendTime(keyPrefix(key), end), start)
}

// Put stores a session aggregate; nil removes it.
func (s *KVSession) Put(key []byte, start, end int64, value []byte) error {
	return s.kv.Put(sessionKey(key, start, end), value)
}

// Remove deletes a session.
func (s *KVSession) Remove(key []byte, start, end int64) error {
	_, err := s.kv.Delete(sessionKey(key, start, end))
	return err
}

// FetchSession returns one session's aggregate, nil when absent.
func (s *KVSession) FetchSession(key []byte, start, end int64) ([]byte, error) {
	return s.kv.Get(sessionKey(key, start, end))
}

// FindSessions calls fn for sessions of keys in [keyFrom, keyTo] ending at
// or after earliestEnd and starting at or before latestStart.
func (s *KVSession) FindSessions(keyFrom, keyTo []byte, earliestEnd, latestStart int64, reverse bool, fn func(key []byte, start, end int64, value []byte) bool) error {
	var from, to []byte
	if keyFrom != nil && keyTo != nil && bytes.Equal(keyFrom, keyTo) {
		p := keyPrefix(keyFrom)
		from = appendTime(bytes.Clone(p), earliestEnd)
		to = prefixEnd(p)
	}
	return s.kv.Range(from, to, reverse, func(k, v []byte) bool {
		key, rest, ok := splitPrefixed(k)
		if !ok || len(rest) < 16 || !inKeyRange(key, keyFrom, keyTo) {
			return true
		}
		end, start := readTime(rest), readTime(rest[8:])
		if end < earliestEnd || start > latestStart {
			return true
		}
		return fn(key, start, end, v)
	})
}

// ExpireBefore drops sessions that ended before t.
func (s *KVSession) ExpireBefore(t int64) {
	var dead [][]byte
	s.kv.Range(nil, nil, false, func(k, _ []byte) bool {
		if _, rest, ok := splitPrefixed(k); ok && len(rest) >= 16 && readTime(rest) < t {
			dead = append(dead, k)
		}
		return true
	})
	for _, k := range dead {
		s.kv.Delete(k)
	}
}
