package store

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
)

// KeyValue is a typed view of a byte-level key/value store: keys and values
// are data-model values, converted with the store's serdes. This is the
// object Python functions and test assertions call get/put/delete on.
// Serde errors are returned, never panicked.
type KeyValue struct {
	inner      streams.KeyValueStore
	keySerde   streams.Serde
	valueSerde streams.Serde
}

// NewKeyValue wraps a byte-level store.
func NewKeyValue(inner streams.KeyValueStore, keySerde, valueSerde streams.Serde) *KeyValue {
	return &KeyValue{inner: inner, keySerde: keySerde, valueSerde: valueSerde}
}

// Name returns the store name.
func (s *KeyValue) Name() string { return s.inner.Name() }

// Persistent reports whether the underlying store is on disk.
func (s *KeyValue) Persistent() bool { return s.inner.Persistent() }

// Flush flushes the underlying store.
func (s *KeyValue) Flush() error { return s.inner.Flush() }

func (s *KeyValue) key(k any) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("store %q: key must not be null", s.inner.Name())
	}
	b, err := s.keySerde.Serialize(s.inner.Name(), nil, k)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing key: %w", s.inner.Name(), err)
	}
	return b, nil
}

func (s *KeyValue) value(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	v, err := s.valueSerde.Deserialize(s.inner.Name(), nil, b)
	if err != nil {
		return nil, fmt.Errorf("store %q: deserializing value: %w", s.inner.Name(), err)
	}
	return v, nil
}

// Get returns the value stored under key, or nil.
func (s *KeyValue) Get(key any) (any, error) {
	kb, err := s.key(key)
	if err != nil {
		return nil, err
	}
	vb, err := s.inner.Get(kb)
	if err != nil {
		return nil, err
	}
	return s.value(vb)
}

// Put stores value under key; a nil value deletes the key.
func (s *KeyValue) Put(key, value any) error {
	kb, err := s.key(key)
	if err != nil {
		return err
	}
	if value == nil {
		_, err = s.inner.Delete(kb)
		return err
	}
	vb, err := s.valueSerde.Serialize(s.inner.Name(), nil, value)
	if err != nil {
		return fmt.Errorf("store %q: serializing value: %w", s.inner.Name(), err)
	}
	return s.inner.Put(kb, vb)
}

// PutIfAbsent stores value unless key exists and returns the existing value.
func (s *KeyValue) PutIfAbsent(key, value any) (any, error) {
	kb, err := s.key(key)
	if err != nil {
		return nil, err
	}
	vb, err := s.valueSerde.Serialize(s.inner.Name(), nil, value)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing value: %w", s.inner.Name(), err)
	}
	prev, err := s.inner.PutIfAbsent(kb, vb)
	if err != nil {
		return nil, err
	}
	return s.value(prev)
}

// Delete removes key and returns the previous value.
func (s *KeyValue) Delete(key any) (any, error) {
	kb, err := s.key(key)
	if err != nil {
		return nil, err
	}
	prev, err := s.inner.Delete(kb)
	if err != nil {
		return nil, err
	}
	return s.value(prev)
}

// Entry is one key/value pair of a store.
type Entry struct {
	Key   any
	Value any
}

// All returns every entry in key order.
func (s *KeyValue) All() ([]Entry, error) {
	var out []Entry
	var ferr error
	err := s.inner.Range(nil, nil, false, func(k, v []byte) bool {
		key, err := s.keySerde.Deserialize(s.inner.Name(), nil, k)
		if err != nil {
			ferr = fmt.Errorf("store %q: deserializing key: %w", s.inner.Name(), err)
			return false
		}
		val, err := s.value(v)
		if err != nil {
			ferr = err
			return false
		}
		out = append(out, Entry{Key: key, Value: val})
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, ferr
}

// ApproximateNumEntries returns the number of entries.
func (s *KeyValue) ApproximateNumEntries() int64 { return s.inner.ApproximateNumEntries() }
