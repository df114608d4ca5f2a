package store

import (
	"fmt"
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// MemoryWindow is an in-memory window store: values per (key, window
// start), iterated by key bytes and then by window start, as Kafka Streams'
// window stores iterate. With duplicates retained (stream-stream join
// stores) every Put appends a new entry instead of replacing the value of
// the window, and a nil value is ignored.
type MemoryWindow struct {
	name       string
	duplicates bool
	data       map[string][]windowEntry // sorted by start, then insertion
	keys       []string                 // sorted key order, rebuilt lazily
	dirty      bool
	seq        int64
}

type windowEntry struct {
	start int64
	seq   int64
	value []byte
}

var _ streams.WindowStore = (*MemoryWindow)(nil)

// NewMemoryWindow returns an empty window store.
func NewMemoryWindow(name string, retainDuplicates bool) *MemoryWindow {
	return &MemoryWindow{name: name, duplicates: retainDuplicates, data: map[string][]windowEntry{}}
}

// Name returns the store name.
func (m *MemoryWindow) Name() string { return m.name }

// Persistent reports false.
func (m *MemoryWindow) Persistent() bool { return false }

// RetainsDuplicates reports whether Put appends instead of replacing.
func (m *MemoryWindow) RetainsDuplicates() bool { return m.duplicates }

// Flush does nothing.
func (m *MemoryWindow) Flush() error { return nil }

// Close drops the data.
func (m *MemoryWindow) Close() error {
	m.data = map[string][]windowEntry{}
	m.keys = nil
	return nil
}

// Put stores value for key in the window starting at windowStart; a nil
// value deletes the window (ignored when duplicates are retained).
func (m *MemoryWindow) Put(key []byte, windowStart int64, value []byte) error {
	k := string(key)
	entries := m.data[k]
	i := sort.Search(len(entries), func(i int) bool { return entries[i].start > windowStart })
	if value == nil {
		if m.duplicates {
			return nil
		}
		if i > 0 && entries[i-1].start == windowStart {
			entries = append(entries[:i-1], entries[i:]...)
			m.setEntries(k, entries)
		}
		return nil
	}
	v := append([]byte(nil), value...)
	if !m.duplicates && i > 0 && entries[i-1].start == windowStart {
		entries[i-1].value = v
		return nil
	}
	m.seq++
	entries = append(entries, windowEntry{})
	copy(entries[i+1:], entries[i:])
	entries[i] = windowEntry{start: windowStart, seq: m.seq, value: v}
	m.setEntries(k, entries)
	return nil
}

func (m *MemoryWindow) setEntries(k string, entries []windowEntry) {
	if len(entries) == 0 {
		if _, ok := m.data[k]; ok {
			delete(m.data, k)
			m.dirty = true
		}
		return
	}
	if _, ok := m.data[k]; !ok {
		m.dirty = true
	}
	m.data[k] = entries
}

// Fetch returns the value of the window of key starting at windowStart (the
// first one when duplicates are retained), nil when absent.
func (m *MemoryWindow) Fetch(key []byte, windowStart int64) ([]byte, error) {
	for _, e := range m.data[string(key)] {
		if e.start == windowStart {
			return e.value, nil
		}
	}
	return nil, nil
}

func (m *MemoryWindow) sortedKeys() []string {
	if m.dirty || m.keys == nil {
		m.keys = m.keys[:0]
		for k := range m.data {
			m.keys = append(m.keys, k)
		}
		sort.Strings(m.keys)
		m.dirty = false
	}
	return append([]string(nil), m.keys...)
}

// FetchRange calls fn for windows of keys in [keyFrom, keyTo] (nil bounds
// are open) starting in [timeFrom, timeTo], ordered by key and start, or
// the reverse.
func (m *MemoryWindow) FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64, reverse bool, fn func(key []byte, windowStart int64, value []byte) bool) error {
	var keys []string
	if keyFrom != nil && keyTo != nil && string(keyFrom) == string(keyTo) {
		keys = []string{string(keyFrom)}
	} else {
		keys = m.sortedKeys()
	}
	type hit struct {
		key   string
		entry windowEntry
	}
	var hits []hit
	for _, k := range keys {
		if keyFrom != nil && k < string(keyFrom) || keyTo != nil && k > string(keyTo) {
			continue
		}
		for _, e := range m.data[k] {
			if e.start >= timeFrom && e.start <= timeTo {
				hits = append(hits, hit{k, e})
			}
		}
	}
	for i := range hits {
		h := hits[i]
		if reverse {
			h = hits[len(hits)-1-i]
		}
		if !fn([]byte(h.key), h.entry.start, h.entry.value) {
			return nil
		}
	}
	return nil
}

// ExpireBefore drops windows that start before t.
func (m *MemoryWindow) ExpireBefore(t int64) error {
	for k, entries := range m.data {
		i := sort.Search(len(entries), func(i int) bool { return entries[i].start >= t })
		if i > 0 {
			m.setEntries(k, append([]windowEntry(nil), entries[i:]...))
		}
	}
	return nil
}

// WindowBuilder creates a window store per task.
type WindowBuilder struct {
	StoreName        string
	KeySerde         streams.Serde
	ValueSerde       streams.Serde
	WindowSize       int64 // ms
	Retention        int64 // ms
	RetainDuplicates bool
	IsPersistent     bool
	LoggingOn        bool
	// Timestamped stores prefix each value with the 8-byte timestamp of the
	// record that wrote it (Kafka Streams' timestamped window stores); typed
	// views strip it.
	Timestamped bool
	// Dir, when set with IsPersistent, is where persistent stores live
	// (Dir/<task>/<store>, on Pebble).
	Dir string
}

var _ streams.StoreBuilder = (*WindowBuilder)(nil)

// Name returns the store name.
func (b *WindowBuilder) Name() string { return b.StoreName }

// Kind returns window.
func (b *WindowBuilder) Kind() streams.StoreKind { return streams.WindowKind }

// TaskDir implements streams.PersistentBuilder: the directory of a task's
// stores when kept on disk, "" in memory.
func (b *WindowBuilder) TaskDir(task streams.TaskID) string {
	return taskDir(b.IsPersistent, b.Dir, task)
}

// Logging reports whether changes go to a changelog topic.
func (b *WindowBuilder) Logging() bool { return b.LoggingOn }

// TimestampedValues implements streams.TimestampedBuilder.
func (b *WindowBuilder) TimestampedValues() bool { return b.Timestamped }

// Build returns a fresh empty store.
func (b *WindowBuilder) Build(task streams.TaskID) (streams.StateStore, error) {
	if b.StoreName == "" {
		return nil, fmt.Errorf("window store has no name")
	}
	if b.IsPersistent && b.Dir != "" {
		kv, err := OpenPebbleKeyValue(b.StoreName, PersistentDir(b.Dir, task, b.StoreName))
		if err != nil {
			return nil, err
		}
		return NewKVWindow(kv, b.RetainDuplicates), nil
	}
	return NewMemoryWindow(b.StoreName, b.RetainDuplicates), nil
}
