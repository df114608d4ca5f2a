package observability

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/types"
)

// Adapters from the runtime's own shapes to the interfaces above, so the
// runner wires this package with a few lines.

// ParseComponentState returns the state named as upstream names it
// ("STARTED"); unknown names are Failed, so a probe never reports a state
// it does not understand as healthy.
func ParseComponentState(name string) ComponentState {
	for i, n := range componentStateNames {
		if n == name {
			return ComponentState(i)
		}
	}
	return Failed
}

// StateNames is a StateSource over functions that return upstream state
// names; a nil function is a component that is not used.
type StateNames struct {
	Streams  func() string
	Producer func() string
}

// StreamRunnerState implements StateSource.
func (s StateNames) StreamRunnerState() ComponentState { return stateOf(s.Streams) }

// ProducerState implements StateSource.
func (s StateNames) ProducerState() ComponentState { return stateOf(s.Producer) }

func stateOf(f func() string) ComponentState {
	if f == nil {
		return NotApplicable
	}
	return ParseComponentState(f())
}

// TaskStore is one key/value or window store instance of a running task,
// with its serdes: Store for key/value stores, Window for window stores.
type TaskStore struct {
	Name      string
	Partition int32
	Store     *store.KeyValue
	Window    *store.Window
}

// TaskStores is a StoreProvider over the runtime's typed stores.
type TaskStores struct {
	// Has reports whether the topology defines a key/value store of the
	// name (it may have no instances while partitions are unassigned).
	Has func(name string) bool
	// HasWindow reports the same for window stores; nil means none.
	HasWindow func(name string) bool
	// Visit calls fn with the key/value stores of the running tasks while
	// no record is processed; the stores are valid only during fn.
	Visit func(fn func([]TaskStore))
}

// KeyValueStores implements StoreProvider. Instances come in partition
// order.
func (p TaskStores) KeyValueStores(_ context.Context, name string, fn func([]KeyValueReader) error) error {
	if p.Has == nil || !p.Has(name) {
		return fmt.Errorf("store %s: %w", name, ErrUnknownStore)
	}
	return visitReaders(p, name, func(s TaskStore) (KeyValueReader, bool) { return typedStore{s.Store}, s.Store != nil }, fn)
}

// WindowStores implements WindowStoreProvider. Instances come in
// partition order.
func (p TaskStores) WindowStores(_ context.Context, name string, fn func([]WindowReader) error) error {
	if p.HasWindow == nil || !p.HasWindow(name) {
		return fmt.Errorf("store %s: %w", name, ErrUnknownStore)
	}
	return visitReaders(p, name, func(s TaskStore) (WindowReader, bool) { return typedWindow{s.Window}, s.Window != nil }, fn)
}

// visitReaders calls fn, while no record is processed, with a reader of
// every task's instance of store name that reader accepts, in partition
// order, and returns fn's error.
func visitReaders[R any](p TaskStores, name string, reader func(TaskStore) (R, bool), fn func([]R) error) error {
	var err error
	p.Visit(func(stores []TaskStore) {
		var mine []TaskStore
		for _, s := range stores {
			if _, ok := reader(s); ok && s.Name == name {
				mine = append(mine, s)
			}
		}
		slices.SortStableFunc(mine, func(a, b TaskStore) int { return int(a.Partition) - int(b.Partition) })
		readers := make([]R, len(mine))
		for i, s := range mine {
			readers[i], _ = reader(s)
		}
		err = fn(readers)
	})
	return err
}

// typedWindow reads a window store through its serdes.
type typedWindow struct{ w *store.Window }

func (t typedWindow) All(fn func(k types.Windowed, v any) bool) error {
	entries, err := t.w.All()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !fn(e.Key, e.Value) {
			break
		}
	}
	return nil
}

// Get fetches the windows of key starting at start, the key read as Get of
// key/value stores reads it; the last one fetched answers, as upstream's
// resource takes the last.
func (t typedWindow) Get(key string, start int64) (types.Windowed, any, bool, error) {
	entries, err := t.w.Fetch(key, start, start)
	if err != nil {
		parsed, jerr := types.DecodeJSON([]byte(key))
		if jerr != nil {
			return types.Windowed{}, nil, false, err
		}
		if entries, err = t.w.Fetch(parsed, start, start); err != nil {
			return types.Windowed{}, nil, false, err
		}
	}
	if len(entries) == 0 {
		return types.Windowed{}, nil, false, nil
	}
	e := entries[len(entries)-1]
	return e.Key, e.Value, true, nil
}

// typedStore reads a store through its serdes.
type typedStore struct{ s *store.KeyValue }

func (t typedStore) All(fn func(k, v any) bool) error {
	entries, err := t.s.All()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !fn(e.Key, e.Value) {
			break
		}
	}
	return nil
}

// Get looks key up as a string; when the store's key serde rejects a
// string, the text is read as JSON (so /get/42 finds a long key 42).
func (t typedStore) Get(key string) (any, error) {
	v, err := t.s.Get(key)
	if err == nil {
		return v, nil
	}
	parsed, jerr := types.DecodeJSON([]byte(key))
	if jerr != nil {
		return nil, err
	}
	return t.s.Get(parsed)
}

// TopicCount is one per-topic record count of the runtime.
type TopicCount struct {
	// What is "consumed", "produced" or "failed.<kind>" with kind one of
	// consume, process, produce.
	What  string
	Topic string
	N     int64
}

// SetTopicCounts registers the runtime's per-topic record counts, read at
// every scrape (so counting costs the runtime nothing extra). They are
// exported as ksml_topic_records_consumed_total{topic},
// _produced_total{topic} and _failed_total{topic,error}; other What values
// are ignored.
func (r *Registry) SetTopicCounts(fn func() []TopicCount) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.topicCounts = fn
	r.mu.Unlock()
}

func (r *Registry) emitTopicCounts(ch chan<- prometheus.Metric, fn func() []TopicCount) {
	for _, c := range fn() {
		labels := []labelPair{{"topic", validUTF8(c.Topic)}}
		var family string
		switch c.What {
		case "consumed":
			family = "ksml_topic_records_consumed_total"
		case "produced":
			family = "ksml_topic_records_produced_total"
		case "failed.consume", "failed.process", "failed.produce":
			family = "ksml_topic_records_failed_total"
			labels = append([]labelPair{{"error", c.What[len("failed."):]}}, labels...)
		default:
			continue
		}
		emit(ch, family, "", prometheus.CounterValue, float64(c.N), r.withTags(labels))
	}
}

// DroppedRecords visits the runtime's dropped-record counts: fn is called
// once per task and processor with the records it dropped so far.
type DroppedRecords func(fn func(task, processor string, n int64))

// SetDroppedRecords registers the runtime's dropped-record counts (records
// stateful processors skip: late records for closed windows, null keys),
// read at every scrape and exported as
// ksml_dropped_records_total{task,processor}, Kafka Streams'
// dropped-records-total per task, split by processor.
func (r *Registry) SetDroppedRecords(fn DroppedRecords) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.dropped = fn
	r.mu.Unlock()
}

func (r *Registry) emitDropped(ch chan<- prometheus.Metric, fn DroppedRecords) {
	fn(func(task, processor string, n int64) {
		emit(ch, "ksml_dropped_records_total", "", prometheus.CounterValue, float64(n),
			r.withTags([]labelPair{{"processor", validUTF8(processor)}, {"task", validUTF8(task)}}))
	})
}
