package streams

// StateStore is the part every store shares. Stores are created per task by
// a StoreBuilder, so a store instance is only ever used from one task.
type StateStore interface {
	Name() string
	Persistent() bool
	Flush() error
	Close() error
}

// KeyValueStore is a byte-level key/value store, ordered by key bytes (the
// order Kafka Streams' stores iterate in). Typed access goes through serdes
// on top (package store). Put with a nil value deletes the key.
type KeyValueStore interface {
	StateStore
	Get(key []byte) ([]byte, error)
	Put(key, value []byte) error
	PutIfAbsent(key, value []byte) (previous []byte, err error)
	Delete(key []byte) (previous []byte, err error)
	// Range calls fn for every entry with from <= key < to in key order (nil
	// bounds are open) until fn returns false.
	Range(from, to []byte, reverse bool, fn func(key, value []byte) bool) error
	ApproximateNumEntries() int64
}

// WindowStore keeps values per key and window start; windowed aggregations
// and stream-stream joins use it.
type WindowStore interface {
	StateStore
	Put(key []byte, windowStart int64, value []byte) error
	Fetch(key []byte, windowStart int64) ([]byte, error)
	// FetchRange calls fn for windows of keys in [keyFrom, keyTo] (nil =
	// open) with start in [timeFrom, timeTo].
	FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64, reverse bool, fn func(key []byte, windowStart int64, value []byte) bool) error
	// ExpireBefore drops windows that start before t (retention).
	ExpireBefore(t int64) error
}

// SessionStore keeps aggregates per key and session (start, end).
type SessionStore interface {
	StateStore
	Put(key []byte, start, end int64, value []byte) error
	Remove(key []byte, start, end int64) error
	FetchSession(key []byte, start, end int64) ([]byte, error)
	// FindSessions calls fn for sessions of keys in [keyFrom, keyTo] that end
	// at or after earliestEnd and start at or before latestStart.
	FindSessions(keyFrom, keyTo []byte, earliestEnd, latestStart int64, reverse bool, fn func(key []byte, start, end int64, value []byte) bool) error
}

// StoreKind names the kind of a store.
type StoreKind string

// Store kinds, as in definitions.
const (
	KeyValueKind StoreKind = "keyValue"
	WindowKind   StoreKind = "window"
	SessionKind  StoreKind = "session"
)

// StoreBuilder creates a fresh store for a task. Logging tells the task to
// record every change to the store's changelog topic.
type StoreBuilder interface {
	Name() string
	Kind() StoreKind
	Logging() bool
	Build(task TaskID) (StateStore, error)
}

// TimestampedBuilder is implemented by builders whose stores keep Kafka
// Streams' ValueAndTimestamp layout: every value is an 8-byte big-endian
// timestamp followed by the value's bytes. As Kafka Streams' timestamped
// stores do, their changelog records hold the value alone with that
// timestamp as the record's timestamp, and restoring puts the record's
// timestamp back in front of the value.
type TimestampedBuilder interface {
	TimestampedValues() bool
}

// timestampedValues reports whether b's stores keep timestamped values.
func timestampedValues(b StoreBuilder) bool {
	tb, ok := b.(TimestampedBuilder)
	return ok && tb.TimestampedValues()
}
