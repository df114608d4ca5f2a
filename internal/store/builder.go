package store

import (
	"fmt"
	"path/filepath"

	"github.com/ksml-dev/ksml/internal/streams"
)

// KeyValueBuilder creates a key/value store per task. Serdes are kept with
// the builder so typed views (Python, assertions) can be made for any task's
// store.
type KeyValueBuilder struct {
	StoreName  string
	KeySerde   streams.Serde
	ValueSerde streams.Serde
	// Persistent asks for a disk-backed store: on Pebble under
	// Dir/<task>/<store> when Dir is set, in memory otherwise.
	IsPersistent bool
	Dir          string
	LoggingOn    bool
	// Timestamped stores keep a timestamp with every value (Kafka's
	// ValueAndTimestamp layout); use TypedTimestamped for them.
	Timestamped bool
}

var _ streams.StoreBuilder = (*KeyValueBuilder)(nil)

// Name returns the store name.
func (b *KeyValueBuilder) Name() string { return b.StoreName }

// Kind returns keyValue.
func (b *KeyValueBuilder) Kind() streams.StoreKind { return streams.KeyValueKind }

// TaskDir implements streams.PersistentBuilder: the directory of a task's
// stores when kept on disk, "" in memory.
func (b *KeyValueBuilder) TaskDir(task streams.TaskID) string {
	return taskDir(b.IsPersistent, b.Dir, task)
}

// Logging reports whether changes go to a changelog topic.
func (b *KeyValueBuilder) Logging() bool { return b.LoggingOn }

// TimestampedValues implements streams.TimestampedBuilder.
func (b *KeyValueBuilder) TimestampedValues() bool { return b.Timestamped }

// Build returns a fresh empty store.
func (b *KeyValueBuilder) Build(task streams.TaskID) (streams.StateStore, error) {
	if b.StoreName == "" {
		return nil, fmt.Errorf("key/value store has no name")
	}
	if b.IsPersistent && b.Dir != "" {
		return OpenPebbleKeyValue(b.StoreName, PersistentDir(b.Dir, task, b.StoreName))
	}
	return NewMemoryKeyValue(b.StoreName), nil
}

// Typed returns a typed view of a store built by b. For a timestamped
// store it is the plain view (values without their timestamps).
func (b *KeyValueBuilder) Typed(s streams.StateStore) (*KeyValue, error) {
	kv, ok := s.(streams.KeyValueStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a key/value store", s.Name())
	}
	if b.Timestamped {
		return NewTimestamped(kv, b.KeySerde, b.ValueSerde).Plain(), nil
	}
	return NewKeyValue(kv, b.KeySerde, b.ValueSerde), nil
}

// TypedTimestamped returns the {value, timestamp} view of a timestamped
// store built by b.
func (b *KeyValueBuilder) TypedTimestamped(s streams.StateStore) (*Timestamped, error) {
	kv, ok := s.(streams.KeyValueStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a key/value store", s.Name())
	}
	if !b.Timestamped {
		return nil, fmt.Errorf("store %q is not timestamped", s.Name())
	}
	return NewTimestamped(kv, b.KeySerde, b.ValueSerde), nil
}

// taskDir is the directory of a task's stores: <dir>/<task> for stores on
// disk, "" for stores in memory (not persistent, or no directory).
func taskDir(persistent bool, dir string, task streams.TaskID) string {
	if !persistent || dir == "" {
		return ""
	}
	return filepath.Join(dir, task.String())
}
