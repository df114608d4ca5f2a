package store

import (
	"bytes"
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// MemoryKeyValue is an in-memory byte-level key/value store. Lookups go
// through a hash map; the sorted key order needed by range scans is rebuilt
// lazily after writes, so point operations stay O(1).
type MemoryKeyValue struct {
	name   string
	data   map[string][]byte
	sorted []string
	dirty  bool
	open   bool
}

var _ streams.KeyValueStore = (*MemoryKeyValue)(nil)

// NewMemoryKeyValue returns an empty open store.
func NewMemoryKeyValue(name string) *MemoryKeyValue {
	return &MemoryKeyValue{name: name, data: map[string][]byte{}, open: true}
}

// Name returns the store name.
func (m *MemoryKeyValue) Name() string { return m.name }

// Persistent reports false: the data lives in memory only.
func (m *MemoryKeyValue) Persistent() bool { return false }

// IsOpen reports whether the store has not been closed.
func (m *MemoryKeyValue) IsOpen() bool { return m.open }

// Flush does nothing for an in-memory store.
func (m *MemoryKeyValue) Flush() error { return nil }

// Close drops the data.
func (m *MemoryKeyValue) Close() error {
	m.open = false
	m.data = map[string][]byte{}
	m.sorted = nil
	return nil
}

// Get returns the value of key, nil when absent.
func (m *MemoryKeyValue) Get(key []byte) ([]byte, error) { return m.data[string(key)], nil }

// Put stores value under key; a nil value deletes the key.
func (m *MemoryKeyValue) Put(key, value []byte) error {
	if value == nil {
		_, err := m.Delete(key)
		return err
	}
	k := string(key)
	if _, exists := m.data[k]; !exists {
		m.dirty = true
	}
	m.data[k] = append([]byte(nil), value...)
	return nil
}

// PutIfAbsent stores value unless key exists; it returns the existing value.
func (m *MemoryKeyValue) PutIfAbsent(key, value []byte) ([]byte, error) {
	if prev, ok := m.data[string(key)]; ok {
		return prev, nil
	}
	return nil, m.Put(key, value)
}

// Delete removes key and returns its previous value.
func (m *MemoryKeyValue) Delete(key []byte) ([]byte, error) {
	k := string(key)
	prev, ok := m.data[k]
	if ok {
		delete(m.data, k)
		m.dirty = true
	}
	return prev, nil
}

// Range iterates entries with from <= key < to in byte order.
func (m *MemoryKeyValue) Range(from, to []byte, reverse bool, fn func(key, value []byte) bool) error {
	if m.dirty || m.sorted == nil {
		m.sorted = m.sorted[:0]
		for k := range m.data {
			m.sorted = append(m.sorted, k)
		}
		sort.Strings(m.sorted)
		m.dirty = false
	}
	// Snapshot so fn may modify the store while iterating.
	keys := append([]string(nil), m.sorted...)
	in := func(k string) bool {
		if from != nil && bytes.Compare([]byte(k), from) < 0 {
			return false
		}
		if to != nil && bytes.Compare([]byte(k), to) >= 0 {
			return false
		}
		return true
	}
	for i := range keys {
		k := keys[i]
		if reverse {
			k = keys[len(keys)-1-i]
		}
		v, ok := m.data[k]
		if !ok || !in(k) {
			continue
		}
		if !fn([]byte(k), v) {
			return nil
		}
	}
	return nil
}

// ApproximateNumEntries returns the exact number of entries.
func (m *MemoryKeyValue) ApproximateNumEntries() int64 { return int64(len(m.data)) }
