package store

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Timestamped is a typed view of a timestamped key/value store. Values are
// stored as Kafka Streams stores ValueAndTimestamp: an 8-byte big-endian
// timestamp followed by the serialized value. Get returns a struct
// {value, timestamp}, as upstream's Python proxy does; Put of a plain value
// stores timestamp -1 (none) unless the value is such a struct.
type Timestamped struct {
	kv *KeyValue
}

// NewTimestamped wraps a byte-level store holding timestamped values.
func NewTimestamped(inner streams.KeyValueStore, keySerde, valueSerde streams.Serde) *Timestamped {
	return &Timestamped{kv: &KeyValue{inner: inner, keySerde: keySerde, valueSerde: timestampedSerde{valueSerde}}}
}

// Plain returns a view that reads and writes bare values (the timestamp is
// dropped on read and -1 on write), like TopologyTestDriver's facade.
func (s *Timestamped) Plain() *KeyValue {
	return &KeyValue{inner: s.kv.inner, keySerde: s.kv.keySerde, valueSerde: plainTimestampedSerde{s.kv.valueSerde.(timestampedSerde)}}
}

// Name returns the store name.
func (s *Timestamped) Name() string { return s.kv.Name() }

// Persistent reports whether the underlying store is on disk.
func (s *Timestamped) Persistent() bool { return s.kv.Persistent() }

// Flush flushes the underlying store.
func (s *Timestamped) Flush() error { return s.kv.Flush() }

// Get returns {value, timestamp} for key, or nil.
func (s *Timestamped) Get(key any) (any, error) { return s.kv.Get(key) }

// Put stores value with timestamp -1, or a {value, timestamp} struct as is.
func (s *Timestamped) Put(key, value any) error { return s.kv.Put(key, asValueAndTimestamp(value, -1)) }

// PutWithTimestamp stores value with a timestamp.
func (s *Timestamped) PutWithTimestamp(key, value any, ts int64) error {
	if value == nil {
		return s.kv.Put(key, nil)
	}
	return s.kv.Put(key, valueAndTimestamp(value, ts))
}

// PutIfAbsent stores value unless key exists; it returns the existing
// {value, timestamp}.
func (s *Timestamped) PutIfAbsent(key, value any) (any, error) {
	return s.kv.PutIfAbsent(key, asValueAndTimestamp(value, -1))
}

// PutIfAbsentWithTimestamp is PutIfAbsent with a timestamp.
func (s *Timestamped) PutIfAbsentWithTimestamp(key, value any, ts int64) (any, error) {
	return s.kv.PutIfAbsent(key, valueAndTimestamp(value, ts))
}

// Delete removes key and returns the previous {value, timestamp}.
func (s *Timestamped) Delete(key any) (any, error) { return s.kv.Delete(key) }

// All returns every entry in key order, values as {value, timestamp}.
func (s *Timestamped) All() ([]Entry, error) { return s.kv.All() }

// ApproximateNumEntries returns the number of entries.
func (s *Timestamped) ApproximateNumEntries() int64 { return s.kv.ApproximateNumEntries() }

func valueAndTimestamp(v any, ts int64) *types.Struct {
	st := types.NewStruct(2)
	st.Set("value", v)
	st.Set("timestamp", ts)
	return st
}

// asValueAndTimestamp keeps a {value, timestamp} struct and wraps anything
// else with the given timestamp.
func asValueAndTimestamp(v any, ts int64) any {
	if v == nil {
		return nil
	}
	if st, ok := v.(*types.Struct); ok && st.Len() == 2 {
		if t, ok := st.Get("timestamp"); ok {
			if _, isInt := t.(int64); isInt {
				if _, ok := st.Get("value"); ok {
					return st
				}
			}
		}
	}
	return valueAndTimestamp(v, ts)
}

// timestampedSerde converts {value, timestamp} structs to Kafka's
// ValueAndTimestamp bytes and back.
type timestampedSerde struct{ value streams.Serde }

func (s timestampedSerde) Serialize(topic string, headers *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	st, ok := v.(*types.Struct)
	if !ok {
		return nil, fmt.Errorf("a timestamped store holds {value, timestamp}, got %T", v)
	}
	ts, _ := st.Get("timestamp")
	tsv, ok := ts.(int64)
	if !ok {
		return nil, fmt.Errorf("timestamp must be a long, got %T", ts)
	}
	val, _ := st.Get("value")
	vb, err := s.value.Serialize(topic, nil, val)
	if err != nil {
		return nil, err
	}
	return streams.WithTimestamp(tsv, vb), nil
}

func (s timestampedSerde) Deserialize(topic string, headers []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	ts, vb, ok := streams.SplitTimestamp(b)
	if !ok {
		return nil, fmt.Errorf("timestamped value of %d bytes has no timestamp", len(b))
	}
	v, err := s.value.Deserialize(topic, nil, vb)
	if err != nil {
		return nil, err
	}
	return valueAndTimestamp(v, ts), nil
}

// plainTimestampedSerde hides the timestamp of a timestamped store.
type plainTimestampedSerde struct{ ts timestampedSerde }

func (s plainTimestampedSerde) Serialize(topic string, headers *[]streams.Header, v any) ([]byte, error) {
	return s.ts.Serialize(topic, nil, asValueAndTimestamp(v, -1))
}

func (s plainTimestampedSerde) Deserialize(topic string, headers []streams.Header, b []byte) (any, error) {
	v, err := s.ts.Deserialize(topic, nil, b)
	if err != nil || v == nil {
		return v, err
	}
	val, _ := v.(*types.Struct).Get("value")
	return val, nil
}
