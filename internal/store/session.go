package store

import (
	"fmt"
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// MemorySession is an in-memory session store: one value per key and
// session (start, end). Sessions are iterated by key bytes, then by end and
// start, the order of Kafka Streams' session stores.
type MemorySession struct {
	name  string
	data  map[string][]sessionEntry
	keys  []string
	dirty bool
}

type sessionEntry struct {
	start, end int64
	value      []byte
}

var _ streams.SessionStore = (*MemorySession)(nil)

// NewMemorySession returns an empty session store.
func NewMemorySession(name string) *MemorySession {
	return &MemorySession{name: name, data: map[string][]sessionEntry{}}
}

// Name returns the store name.
func (m *MemorySession) Name() string { return m.name }

// Persistent reports false.
func (m *MemorySession) Persistent() bool { return false }

// Flush does nothing.
func (m *MemorySession) Flush() error { return nil }

// Close drops the data.
func (m *MemorySession) Close() error {
	m.data = map[string][]sessionEntry{}
	m.keys = nil
	return nil
}

func sessionLess(a, b sessionEntry) bool {
	if a.end != b.end {
		return a.end < b.end
	}
	return a.start < b.start
}

// Put stores the aggregate of a session; a nil value removes it.
func (m *MemorySession) Put(key []byte, start, end int64, value []byte) error {
	if value == nil {
		return m.Remove(key, start, end)
	}
	k := string(key)
	entries := m.data[k]
	e := sessionEntry{start: start, end: end, value: append([]byte(nil), value...)}
	i := sort.Search(len(entries), func(i int) bool { return !sessionLess(entries[i], e) })
	if i < len(entries) && entries[i].start == start && entries[i].end == end {
		entries[i].value = e.value
		return nil
	}
	entries = append(entries, sessionEntry{})
	copy(entries[i+1:], entries[i:])
	entries[i] = e
	if _, ok := m.data[k]; !ok {
		m.dirty = true
	}
	m.data[k] = entries
	return nil
}

// Remove deletes a session.
func (m *MemorySession) Remove(key []byte, start, end int64) error {
	k := string(key)
	entries := m.data[k]
	for i, e := range entries {
		if e.start == start && e.end == end {
			entries = append(entries[:i], entries[i+1:]...)
			if len(entries) == 0 {
				delete(m.data, k)
				m.dirty = true
			} else {
				m.data[k] = entries
			}
			return nil
		}
	}
	return nil
}

// FetchSession returns the aggregate of one session, nil when absent.
func (m *MemorySession) FetchSession(key []byte, start, end int64) ([]byte, error) {
	for _, e := range m.data[string(key)] {
		if e.start == start && e.end == end {
			return e.value, nil
		}
	}
	return nil, nil
}

// FindSessions calls fn for sessions of keys in [keyFrom, keyTo] (nil
// bounds are open) that end at or after earliestEnd and start at or before
// latestStart.
func (m *MemorySession) FindSessions(keyFrom, keyTo []byte, earliestEnd, latestStart int64, reverse bool, fn func(key []byte, start, end int64, value []byte) bool) error {
	var keys []string
	if keyFrom != nil && keyTo != nil && string(keyFrom) == string(keyTo) {
		keys = []string{string(keyFrom)}
	} else {
		if m.dirty || m.keys == nil {
			m.keys = m.keys[:0]
			for k := range m.data {
				m.keys = append(m.keys, k)
			}
			sort.Strings(m.keys)
			m.dirty = false
		}
		keys = append([]string(nil), m.keys...)
	}
	type hit struct {
		key string
		e   sessionEntry
	}
	var hits []hit
	for _, k := range keys {
		if keyFrom != nil && k < string(keyFrom) || keyTo != nil && k > string(keyTo) {
			continue
		}
		for _, e := range m.data[k] {
			if e.end >= earliestEnd && e.start <= latestStart {
				hits = append(hits, hit{k, e})
			}
		}
	}
	for i := range hits {
		h := hits[i]
		if reverse {
			h = hits[len(hits)-1-i]
		}
		if !fn([]byte(h.key), h.e.start, h.e.end, h.e.value) {
			return nil
		}
	}
	return nil
}

// ExpireBefore drops sessions that ended before t (retention).
func (m *MemorySession) ExpireBefore(t int64) {
	for k, entries := range m.data {
		kept := entries[:0]
		for _, e := range entries {
			if e.end >= t {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			delete(m.data, k)
			m.dirty = true
		} else {
			m.data[k] = kept
		}
	}
}

// SessionBuilder creates a session store per task.
type SessionBuilder struct {
	StoreName    string
	KeySerde     streams.Serde
	ValueSerde   streams.Serde
	Retention    int64 // ms
	IsPersistent bool
	LoggingOn    bool
	Dir          string
}

var _ streams.StoreBuilder = (*SessionBuilder)(nil)

// Name returns the store name.
func (b *SessionBuilder) Name() string { return b.StoreName }

// Kind returns session.
func (b *SessionBuilder) Kind() streams.StoreKind { return streams.SessionKind }

// TaskDir implements streams.PersistentBuilder: the directory of a task's
// stores when kept on disk, "" in memory.
func (b *SessionBuilder) TaskDir(task streams.TaskID) string {
	return taskDir(b.IsPersistent, b.Dir, task)
}

// Logging reports whether changes go to a changelog topic.
func (b *SessionBuilder) Logging() bool { return b.LoggingOn }

// Build returns a fresh empty store.
func (b *SessionBuilder) Build(task streams.TaskID) (streams.StateStore, error) {
	if b.StoreName == "" {
		return nil, fmt.Errorf("session store has no name")
	}
	if b.IsPersistent && b.Dir != "" {
		kv, err := OpenPebbleKeyValue(b.StoreName, PersistentDir(b.Dir, task, b.StoreName))
		if err != nil {
			return nil, err
		}
		return NewKVSession(kv), nil
	}
	return NewMemorySession(b.StoreName), nil
}
