package store

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Versioned is a versioned key/value store (Kafka Streams'
// VersionedKeyValueStore) over an ordered byte store: every put keeps the
// value valid from its timestamp until the next version of the key, and
// reads can ask for the value as of a time. Versions older than the history
// retention (measured from the highest timestamp written) are dropped, and
// writes that old are refused.
//
// Byte layout: uvarint(len(key)) | key | timestamp (8 bytes, sign flipped)
// -> 1 byte kind (0 tombstone, 1 value) | value bytes.
type Versioned struct {
	inner      streams.KeyValueStore
	keySerde   streams.Serde
	valueSerde streams.Serde
	retention  int64
	observed   int64
}

// NewVersioned wraps a byte store. historyRetention is in ms.
func NewVersioned(inner streams.KeyValueStore, keySerde, valueSerde streams.Serde, historyRetention int64) *Versioned {
	return &Versioned{inner: inner, keySerde: keySerde, valueSerde: valueSerde, retention: historyRetention, observed: noTime}
}

// Name returns the store name.
func (v *Versioned) Name() string { return v.inner.Name() }

// Persistent reports whether the underlying store is on disk.
func (v *Versioned) Persistent() bool { return v.inner.Persistent() }

// Flush flushes the underlying store.
func (v *Versioned) Flush() error { return v.inner.Flush() }

func (v *Versioned) keyBytes(k any) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("store %q: key must not be null", v.Name())
	}
	b, err := v.keySerde.Serialize(v.Name(), nil, k)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing key: %w", v.Name(), err)
	}
	return b, nil
}

type version struct {
	ts        int64
	tombstone bool
	value     []byte
}

// versions returns the versions of key, oldest first.
func (v *Versioned) versions(kb []byte) ([]version, error) {
	p := keyPrefix(kb)
	var out []version
	err := v.inner.Range(p, prefixEnd(p), false, func(k, val []byte) bool {
		if len(k) != len(p)+8 || len(val) < 1 {
			return true
		}
		out = append(out, version{ts: readTime(k[len(p):]), tombstone: val[0] == 0, value: val[1:]})
		return true
	})
	return out, err
}

// VersionedRecord is a value with the time range it is valid for; ValidTo
// is nil while it is the latest version.
type VersionedRecord struct {
	Value     any
	Timestamp int64
	ValidTo   *int64
}

// Struct returns the record as Python sees it: {value, timestamp, validTo}.
func (r *VersionedRecord) Struct() *types.Struct {
	s := types.NewStruct(3)
	s.Set("value", r.Value)
	s.Set("timestamp", r.Timestamp)
	if r.ValidTo != nil {
		s.Set("validTo", *r.ValidTo)
	} else {
		s.Set("validTo", nil)
	}
	return s
}

// Get returns the version of key valid at asOf (the latest when asOf is
// nil), or nil when there is none or it is a deletion.
func (v *Versioned) Get(key any, asOf *int64) (*VersionedRecord, error) {
	kb, err := v.keyBytes(key)
	if err != nil {
		return nil, err
	}
	vs, err := v.versions(kb)
	if err != nil {
		return nil, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if asOf != nil && vs[i].ts > *asOf {
			continue
		}
		if vs[i].tombstone {
			return nil, nil
		}
		if asOf != nil && v.tooOld(*asOf) {
			return nil, nil // beyond the history retention
		}
		val, err := v.valueSerde.Deserialize(v.Name(), nil, vs[i].value)
		if err != nil {
			return nil, fmt.Errorf("store %q: deserializing value: %w", v.Name(), err)
		}
		rec := &VersionedRecord{Value: val, Timestamp: vs[i].ts}
		if i+1 < len(vs) {
			to := vs[i+1].ts
			rec.ValidTo = &to
		}
		return rec, nil
	}
	return nil, nil
}

// Put writes a version of key valid from timestamp; a nil value deletes as
// of timestamp. It reports false when the timestamp is older than the
// history retention allows.
func (v *Versioned) Put(key, value any, timestamp int64) (bool, error) {
	kb, err := v.keyBytes(key)
	if err != nil {
		return false, err
	}
	if v.tooOld(timestamp) {
		return false, nil
	}
	entry := []byte{0}
	if value != nil {
		vb, err := v.valueSerde.Serialize(v.Name(), nil, value)
		if err != nil {
			return false, fmt.Errorf("store %q: serializing value: %w", v.Name(), err)
		}
		entry = append([]byte{1}, vb...)
	}
	if err := v.inner.Put(appendTime(keyPrefix(kb), timestamp), entry); err != nil {
		return false, err
	}
	if timestamp > v.observed {
		v.observed = timestamp
		if err := v.expire(kb); err != nil {
			return true, err
		}
	}
	return true, nil
}

// tooOld reports whether t is older than the history retention allows.
func (v *Versioned) tooOld(t int64) bool {
	return v.observed != noTime && t < v.observed-v.retention
}

const noTime = -1 << 63

// expire drops versions of key that ended before the history retention.
func (v *Versioned) expire(kb []byte) error {
	vs, err := v.versions(kb)
	if err != nil {
		return err
	}
	cutoff := v.observed - v.retention
	p := keyPrefix(kb)
	for i := 0; i+1 < len(vs) && vs[i+1].ts <= cutoff; i++ {
		if _, err := v.inner.Delete(appendTime(append([]byte{}, p...), vs[i].ts)); err != nil {
			return err
		}
	}
	return nil
}

// Delete deletes key as of timestamp and returns the value valid then.
func (v *Versioned) Delete(key any, timestamp int64) (*VersionedRecord, error) {
	prev, err := v.Get(key, &timestamp)
	if err != nil {
		return nil, err
	}
	_, err = v.Put(key, nil, timestamp)
	return prev, err
}

// VersionedBuilder creates a versioned key/value store per task.
type VersionedBuilder struct {
	StoreName        string
	KeySerde         streams.Serde
	ValueSerde       streams.Serde
	HistoryRetention int64 // ms
	IsPersistent     bool
	LoggingOn        bool
	Dir              string
}

var _ streams.StoreBuilder = (*VersionedBuilder)(nil)

// Name returns the store name.
func (b *VersionedBuilder) Name() string { return b.StoreName }

// Kind returns keyValue.
func (b *VersionedBuilder) Kind() streams.StoreKind { return streams.KeyValueKind }

// TaskDir implements streams.PersistentBuilder: the directory of a task's
// stores when kept on disk, "" in memory.
func (b *VersionedBuilder) TaskDir(task streams.TaskID) string {
	return taskDir(b.IsPersistent, b.Dir, task)
}

// Logging reports whether changes go to a changelog topic.
func (b *VersionedBuilder) Logging() bool { return b.LoggingOn }

// Build returns the byte store the versions live in.
func (b *VersionedBuilder) Build(task streams.TaskID) (streams.StateStore, error) {
	if b.IsPersistent && b.Dir != "" {
		return OpenPebbleKeyValue(b.StoreName, PersistentDir(b.Dir, task, b.StoreName))
	}
	return NewMemoryKeyValue(b.StoreName), nil
}

// Typed returns the versioned view of a store built by b.
func (b *VersionedBuilder) Typed(s streams.StateStore) (*Versioned, error) {
	kv, ok := s.(streams.KeyValueStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a key/value store", s.Name())
	}
	return NewVersioned(kv, b.KeySerde, b.ValueSerde, b.HistoryRetention), nil
}
