package streams

import (
	"encoding/binary"
	"fmt"
)

// Changelog logging and restoration of window and session stores. Records
// use Kafka Streams' changelog key layouts, so the topics look the same as
// upstream's:
//
//	window:  key bytes | window start (8 bytes, big endian) | sequence number (4 bytes)
//	session: key bytes | session end (8 bytes) | session start (8 bytes)
//
// The sequence number keeps duplicates apart in stores that retain them
// (stream-stream joins); stores that do not retain duplicates log 0. A nil
// value is a tombstone.

// WindowChangelogKey is the changelog key of a window store entry.
func WindowChangelogKey(key []byte, windowStart int64, seq uint32) []byte {
	out := make([]byte, len(key)+12)
	copy(out, key)
	binary.BigEndian.PutUint64(out[len(key):], uint64(windowStart))
	binary.BigEndian.PutUint32(out[len(key)+8:], seq)
	return out
}

// SplitWindowChangelogKey splits a window changelog key.
func SplitWindowChangelogKey(b []byte) (key []byte, windowStart int64, err error) {
	if len(b) < 12 {
		return nil, 0, fmt.Errorf("window changelog key of %d bytes is too short", len(b))
	}
	n := len(b) - 12
	return b[:n], int64(binary.BigEndian.Uint64(b[n:])), nil
}

// SessionChangelogKey is the changelog key of a session store entry.
func SessionChangelogKey(key []byte, start, end int64) []byte {
	out := make([]byte, len(key)+16)
	copy(out, key)
	binary.BigEndian.PutUint64(out[len(key):], uint64(end))
	binary.BigEndian.PutUint64(out[len(key)+8:], uint64(start))
	return out
}

// SplitSessionChangelogKey splits a session changelog key.
func SplitSessionChangelogKey(b []byte) (key []byte, start, end int64, err error) {
	if len(b) < 16 {
		return nil, 0, 0, fmt.Errorf("session changelog key of %d bytes is too short", len(b))
	}
	n := len(b) - 16
	return b[:n], int64(binary.BigEndian.Uint64(b[n+8:])), int64(binary.BigEndian.Uint64(b[n:])), nil
}

// changelogValue returns the value and timestamp of the changelog record
// for a store write. A timestamped store's value (ValueAndTimestamp: an
// 8-byte big-endian timestamp, then the value) goes out as the value alone
// with its own timestamp, as Kafka Streams' ChangeLoggingTimestamped stores
// write it; other values, and tombstones, go out as they are with the
// current record's timestamp.
func changelogValue(store string, value []byte, timestamped bool, recordTime int64) ([]byte, int64, error) {
	if !timestamped || value == nil {
		return value, recordTime, nil
	}
	ts, v, ok := SplitTimestamp(value)
	if !ok {
		return nil, 0, fmt.Errorf("store %q: a value of %d bytes has no timestamp in front", store, len(value))
	}
	return v, ts, nil
}

// storedValue is the inverse of changelogValue, for restoring: a
// timestamped store gets the changelog record's timestamp back in front of
// its value.
func storedValue(value []byte, timestamped bool, recordTime int64) []byte {
	if !timestamped || value == nil {
		return value
	}
	return WithTimestamp(recordTime, value)
}

// WithTimestamp returns value in Kafka Streams' ValueAndTimestamp layout,
// the layout of timestamped stores: the 8-byte big-endian timestamp, then
// the value's bytes.
func WithTimestamp(ts int64, value []byte) []byte {
	out := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(out, uint64(ts))
	copy(out[8:], value)
	return out
}

// SplitTimestamp splits a ValueAndTimestamp (see WithTimestamp) into its
// timestamp and the value's bytes; ok is false when b is too short to hold
// a timestamp.
func SplitTimestamp(b []byte) (ts int64, value []byte, ok bool) {
	if len(b) < 8 {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], true
}

// loggedWindowStore sends every write of a window store to its changelog.
type loggedWindowStore struct {
	WindowStore
	task        *Task
	topic       string
	seq         uint32
	timestamped bool
}

func (l *loggedWindowStore) Put(key []byte, windowStart int64, value []byte) error {
	if err := l.WindowStore.Put(key, windowStart, value); err != nil {
		return err
	}
	return l.log(key, windowStart, value)
}

func (l *loggedWindowStore) log(key []byte, windowStart int64, value []byte) error {
	var seq uint32
	if d, ok := l.WindowStore.(interface{ RetainsDuplicates() bool }); ok && d.RetainsDuplicates() {
		l.seq++
		seq = l.seq
	}
	v, ts, err := changelogValue(l.Name(), value, l.timestamped, l.task.rc.Timestamp)
	if err != nil {
		return err
	}
	return l.task.collector.Send(l.topic, l.task.id.Partition, WindowChangelogKey(key, windowStart, seq), v, ts, nil)
}

// SkippedPutLogger is implemented by logged window stores. LogSkippedPut
// writes to the changelog a put that the caller does not make to the store
// because the store would skip it (a null value in a store that keeps
// duplicates, a record older than the retention): Kafka Streams' logging
// window store logs every put it is handed, whatever the store under it
// keeps, and counts it in the sequence numbers of a store that keeps
// duplicates.
type SkippedPutLogger interface {
	LogSkippedPut(key []byte, windowStart int64, value []byte) error
}

// LogSkippedPut implements SkippedPutLogger.
func (l *loggedWindowStore) LogSkippedPut(key []byte, windowStart int64, value []byte) error {
	return l.log(key, windowStart, value)
}

// loggedSessionStore sends every write of a session store to its changelog.
type loggedSessionStore struct {
	SessionStore
	task  *Task
	topic string
}

func (l *loggedSessionStore) log(key []byte, start, end int64, value []byte) error {
	return l.task.collector.Send(l.topic, l.task.id.Partition, SessionChangelogKey(key, start, end), value, l.task.rc.Timestamp, nil)
}

func (l *loggedSessionStore) Put(key []byte, start, end int64, value []byte) error {
	if err := l.SessionStore.Put(key, start, end, value); err != nil {
		return err
	}
	return l.log(key, start, end, value)
}

func (l *loggedSessionStore) Remove(key []byte, start, end int64) error {
	if err := l.SessionStore.Remove(key, start, end); err != nil {
		return err
	}
	return l.log(key, start, end, nil)
}

// ExpireBefore passes retention through to the store (expiry is not
// logged: the changelog topic has its own retention).
func (l *loggedSessionStore) ExpireBefore(t int64) {
	if e, ok := l.SessionStore.(interface{ ExpireBefore(int64) }); ok {
		e.ExpireBefore(t)
	}
}

// logged wraps a store so its writes go to the changelog topic; stores of
// other kinds are returned unchanged.
func (t *Task) logged(st StateStore, topic string, timestamped bool) StateStore {
	switch s := st.(type) {
	case KeyValueStore:
		return &loggedKeyValueStore{KeyValueStore: s, task: t, topic: topic, timestamped: timestamped}
	case WindowStore:
		return &loggedWindowStore{WindowStore: s, task: t, topic: topic, timestamped: timestamped}
	case SessionStore:
		return &loggedSessionStore{SessionStore: s, task: t, topic: topic}
	}
	return st
}

// restoreWindowed applies a changelog record to a window or session store,
// bypassing logging. handled is false for other store kinds.
func restoreWindowed(st StateStore, key, value []byte, timestamp int64) (handled bool, err error) {
	switch s := st.(type) {
	case *loggedWindowStore:
		return restoreWindowed(s.WindowStore, key, storedValue(value, s.timestamped, timestamp), timestamp)
	case *loggedSessionStore:
		return restoreWindowed(s.SessionStore, key, value, timestamp)
	case WindowStore:
		k, start, err := SplitWindowChangelogKey(key)
		if err != nil {
			return true, err
		}
		return true, s.Put(k, start, value)
	case SessionStore:
		k, start, end, err := SplitSessionChangelogKey(key)
		if err != nil {
			return true, err
		}
		if value == nil {
			return true, s.Remove(k, start, end)
		}
		return true, s.Put(k, start, end, value)
	}
	return false, nil
}
