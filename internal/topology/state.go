package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Typed access to the byte-level stores of stateful processors. Keys and
// values go through the serdes of the store, which are bound to its
// changelog topic (streams.StoreSerde; the store name passed as the topic
// here and in store.KeyValue is not what they use), so stores written here
// read back the same through store.KeyValueBuilder.Typed.

// storeCodec turns a store's keys and values into bytes and back with the
// store's serdes; errors name the store.
type storeCodec struct {
	name   string
	ks, vs streams.Serde
	// ts: values carry a timestamp in front of the value bytes (Kafka
	// Streams' ValueAndTimestamp), as timestamped stores do.
	ts bool
}

func (c *storeCodec) keyBytes(key any) ([]byte, error) {
	kb, err := c.ks.Serialize(c.name, nil, key)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing key: %w", c.name, err)
	}
	return kb, nil
}

// decodeValue returns the value of vb (nil for nil) and, for timestamped
// stores, its timestamp (-1 otherwise).
func (c *storeCodec) decodeValue(vb []byte) (any, int64, error) {
	if vb == nil {
		return nil, -1, nil
	}
	ts := int64(-1)
	if c.ts {
		var ok bool
		if ts, vb, ok = streams.SplitTimestamp(vb); !ok {
			return nil, -1, fmt.Errorf("store %q: value without a timestamp", c.name)
		}
	}
	v, err := c.vs.Deserialize(c.name, nil, vb)
	if err != nil {
		return nil, -1, fmt.Errorf("store %q: deserializing value: %w", c.name, err)
	}
	return v, ts, nil
}

// encodeValue returns the bytes of a value that is not nil, with ts in
// front for timestamped stores.
func (c *storeCodec) encodeValue(v any, ts int64) ([]byte, error) {
	vb, err := c.vs.Serialize(c.name, nil, v)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing value: %w", c.name, err)
	}
	if c.ts {
		vb = streams.WithTimestamp(ts, vb)
	}
	return vb, nil
}

// kvState is typed access to a key/value store; timestamped stores keep
// the timestamp of the record that wrote a value.
type kvState struct {
	storeCodec
	st streams.KeyValueStore
}

// kvStoreAccess is what a processor needs to use one key/value store: the
// store's name, its serdes and whether it keeps timestamps, set when the
// topology is built, and the store, opened by Init when a task starts (Init
// fails when the task has no key/value store of that name).
type kvStoreAccess struct {
	store       string
	ks, vs      streams.Serde
	timestamped bool
	st          *kvState
}

func (p *kvStoreAccess) Init(ctx *streams.ProcessorContext) (err error) {
	p.st, err = openKV(ctx, p.store, p.ks, p.vs, p.timestamped)
	return err
}

func (p *kvStoreAccess) Close() error { return nil }

// kvStoreOf returns the task's key/value store name; it fails when the
// task has no store of that name or it is of another kind.
func kvStoreOf(ctx *streams.ProcessorContext, name string) (streams.KeyValueStore, error) {
	s, err := ctx.Store(name)
	if err != nil {
		return nil, err
	}
	kv, ok := s.(streams.KeyValueStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a key/value store", name)
	}
	return kv, nil
}

func openKV(ctx *streams.ProcessorContext, name string, ks, vs streams.Serde, timestamped bool) (*kvState, error) {
	kv, err := kvStoreOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return &kvState{storeCodec: storeCodec{name: name, ks: ks, vs: vs, ts: timestamped}, st: kv}, nil
}

func (s *kvState) get(key any) (any, error) {
	v, _, err := s.getTS(key)
	return v, err
}

// getTS returns the value of key and the timestamp stored with it (-1 when
// the store is not timestamped).
func (s *kvState) getTS(key any) (any, int64, error) {
	kb, err := s.keyBytes(key)
	if err != nil {
		return nil, -1, err
	}
	return s.getKB(kb)
}

// getKB is getTS for serialized keys.
func (s *kvState) getKB(kb []byte) (any, int64, error) {
	vb, err := s.st.Get(kb)
	if err != nil {
		return nil, -1, err
	}
	return s.decodeValue(vb)
}

// put stores value with its record timestamp (kept by timestamped stores);
// nil deletes.
func (s *kvState) put(key, value any, ts int64) error {
	kb, err := s.keyBytes(key)
	if err != nil {
		return err
	}
	return s.putKB(kb, value, ts)
}

// putKB is put for serialized keys.
func (s *kvState) putKB(kb []byte, value any, ts int64) error {
	if value == nil {
		_, err := s.st.Delete(kb)
		return err
	}
	vb, err := s.encodeValue(value, ts)
	if err != nil {
		return err
	}
	return s.st.Put(kb, vb)
}

// windowState is typed access to a window store. Timestamped window
// stores carry a timestamp in front of values: decode strips it, encode
// writes -1.
type windowState struct {
	storeCodec
	st streams.WindowStore
}

// windowStoreAccess is what a processor needs to use one window store: the
// store's name and serdes, set when the topology is built, and the store,
// opened by Init when a task starts (Init fails when the task has no window
// store of that name).
type windowStoreAccess struct {
	store  string
	ks, vs streams.Serde
	st     *windowState
}

func (p *windowStoreAccess) Init(ctx *streams.ProcessorContext) (err error) {
	p.st, err = openWindow(ctx, p.store, p.ks, p.vs)
	return err
}

func (p *windowStoreAccess) Close() error { return nil }

func openWindow(ctx *streams.ProcessorContext, name string, ks, vs streams.Serde) (*windowState, error) {
	s, err := ctx.Store(name)
	if err != nil {
		return nil, err
	}
	ws, ok := s.(streams.WindowStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a window store", name)
	}
	return &windowState{storeCodec: storeCodec{name: name, ks: ks, vs: vs}, st: ws}, nil
}

func (s *windowState) decode(vb []byte) (any, error) {
	v, _, err := s.decodeValue(vb)
	return v, err
}

func (s *windowState) encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return s.encodeValue(v, -1)
}

// Timestamped values carry the timestamp of the record that last wrote
// them in front of the value bytes (streams.WithTimestamp), as Kafka
// Streams' timestamped stores do; aggregations need it for the output
// timestamp (the highest timestamp of the records in the aggregate).

// resolved resolves Deferred values so they can be compared and stored.
func resolved(v any) (any, error) { return types.Resolve(v) }
