package topology

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// The processors of grouping and aggregation. They follow Kafka Streams'
// semantics without record caches: every update of an aggregate is
// forwarded downstream at once (what TopologyTestDriver shows, and what
// Kafka Streams emits with caching disabled). Records with a null key are
// dropped, as Kafka Streams does, and counted in DroppedRecords.

// tableChange is a table update as it flows from a table grouping into a
// table aggregation: the value to remove and the value to add. It never
// leaves this package's processors.
type tableChange struct {
	newValue, oldValue any
}

// changeSerde writes a table change to a repartition topic as one record,
// in Kafka Streams' layout (ChangedSerializer, 3.5 and later), each value in
// the value serde:
//
//	old value only:  old bytes | 0x00
//	new value only:  new bytes | 0x01
//	both:            zigzag varint len(new) | new bytes | old bytes | 0x02
type changeSerde struct{ inner streams.Serde }

func (c changeSerde) Serialize(topic string, headers *[]streams.Header, v any) ([]byte, error) {
	ch, ok := v.(tableChange)
	if !ok {
		return nil, fmt.Errorf("a grouped table repartition topic takes table updates, got %s", types.KindName(v))
	}
	var ob, nb []byte
	var err error
	if ch.oldValue != nil {
		if ob, err = c.inner.Serialize(topic, nil, ch.oldValue); err != nil {
			return nil, err
		}
	}
	if ch.newValue != nil {
		if nb, err = c.inner.Serialize(topic, nil, ch.newValue); err != nil {
			return nil, err
		}
	}
	switch {
	case ch.oldValue != nil && ch.newValue != nil:
		out := binary.AppendVarint(make([]byte, 0, binary.MaxVarintLen32+len(nb)+len(ob)+1), int64(len(nb)))
		out = append(append(out, nb...), ob...)
		return append(out, 2), nil
	case ch.newValue != nil:
		return append(append(make([]byte, 0, len(nb)+1), nb...), 1), nil
	case ch.oldValue != nil:
		return append(append(make([]byte, 0, len(ob)+1), ob...), 0), nil
	}
	return nil, errors.New("a table update with neither an old nor a new value")
}

func (c changeSerde) Deserialize(topic string, headers []streams.Header, b []byte) (any, error) {
	if len(b) == 0 {
		return nil, errors.New("table update of 0 bytes: no encoding flag")
	}
	body := b[:len(b)-1]
	var ob, nb []byte
	var hasOld, hasNew bool
	switch flag := b[len(b)-1]; flag {
	case 0:
		ob, hasOld = body, true
	case 1:
		nb, hasNew = body, true
	case 2:
		n, k := binary.Varint(body)
		if k <= 0 || n < 0 || int64(len(body)-k) < n {
			return nil, fmt.Errorf("table update of %d bytes: the new value's length does not fit", len(b))
		}
		nb, ob, hasNew, hasOld = body[k:k+int(n)], body[k+int(n):], true, true
	default:
		return nil, fmt.Errorf("table update with unknown encoding flag %d", flag)
	}
	var ch tableChange
	var err error
	if hasOld {
		if ch.oldValue, err = c.inner.Deserialize(topic, nil, ob); err != nil {
			return nil, err
		}
	}
	if hasNew {
		if ch.newValue, err = c.inner.Deserialize(topic, nil, nb); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// groupByProc computes the new key of a stream grouping.
type groupByProc struct {
	stateless
	f Function
}

func (p *groupByProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	k, err := callResolved(ctx, p.f, r.Key, r.Value)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKey(k))
}

// groupTableProc re-keys table updates. It keeps the last value per key in
// a store so an update can retract the previous (key, value) from its
// group, also after a restart.
type groupTableProc struct {
	f      Function
	store  string
	ks, vs streams.Serde
	st     *kvState
}

func (p *groupTableProc) Init(ctx *streams.ProcessorContext) (err error) {
	p.st, err = openKV(ctx, p.store, p.ks, p.vs, false)
	return err
}

func (p *groupTableProc) Close() error { return nil }

func (p *groupTableProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if r.Key == nil {
		return nil
	}
	old, err := p.st.get(r.Key)
	if err != nil {
		return err
	}
	v, err := resolved(r.Value)
	if err != nil {
		return err
	}
	if err := p.st.put(r.Key, v, r.Timestamp); err != nil {
		return err
	}
	var oldKey, oldVal, newKey, newVal any
	if old != nil {
		res, err := p.f.Call(ctx, r.Key, old)
		if err != nil {
			return err
		}
		if oldKey, oldVal, err = pair(res); err != nil {
			return err
		}
	}
	if v != nil {
		res, err := p.f.Call(ctx, r.Key, v)
		if err != nil {
			return err
		}
		if newKey, newVal, err = pair(res); err != nil {
			return err
		}
	}
	if old != nil && v != nil && types.Equal(oldKey, newKey) {
		return ctx.Forward(r.WithKeyValue(newKey, tableChange{newValue: newVal, oldValue: oldVal}))
	}
	if old != nil {
		if err := ctx.Forward(r.WithKeyValue(oldKey, tableChange{oldValue: oldVal})); err != nil {
			return err
		}
	}
	if v != nil {
		return ctx.Forward(r.WithKeyValue(newKey, tableChange{newValue: newVal}))
	}
	return nil
}

// aggregate applies one record to an aggregate (count, reduce or
// aggregate). old is nil when the key has no aggregate yet.
func (a *aggFuncs) apply(ctx *streams.ProcessorContext, key, value, old any) (any, error) {
	var res any
	var err error
	switch {
	case a.kind == "count":
		n, _ := old.(int64)
		return n + 1, nil
	case a.reduce != nil:
		if old == nil {
			return resolved(value)
		}
		res, err = a.reduce.Call(ctx, old, value)
	default:
		if old == nil {
			if old, err = a.initial(ctx); err != nil {
				return nil, err
			}
		}
		res, err = a.agg.Call(ctx, key, value, old)
	}
	if err != nil {
		return nil, err
	}
	return resolved(res)
}

func (a *aggFuncs) initial(ctx *streams.ProcessorContext) (any, error) {
	if a.kind == "count" {
		return int64(0), nil
	}
	if a.init == nil {
		return nil, nil
	}
	return callResolved(ctx, a.init)
}

// DroppedRecords counts records dropped by stateful processors: null keys,
// records for windows that closed (late records) and expired join records.
// It mirrors Kafka Streams' dropped-records-total metric; exporters read
// Count, or Each for the counts per task and processor. Safe for
// concurrent use.
var DroppedRecords = &droppedCounter{}

type droppedCounter struct {
	n      atomic.Int64
	byNode sync.Map // droppedKey -> *atomic.Int64
}

type droppedKey struct{ task, processor string }

// Count returns the number of dropped records so far.
func (d *droppedCounter) Count() int64 { return d.n.Load() }

// Each calls fn with the number of records dropped so far by each processor
// of each task (task as Kafka Streams prints it, "0_1"), in no particular
// order.
func (d *droppedCounter) Each(fn func(task, processor string, n int64)) {
	d.byNode.Range(func(k, v any) bool {
		key := k.(droppedKey)
		fn(key.task, key.processor, v.(*atomic.Int64).Load())
		return true
	})
}

func (d *droppedCounter) drop(ctx *streams.ProcessorContext, reason string, args ...any) {
	d.n.Add(1)
	k := droppedKey{ctx.TaskID().String(), ctx.NodeName()}
	c, ok := d.byNode.Load(k)
	if !ok {
		c, _ = d.byNode.LoadOrStore(k, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
	rc := ctx.RecordContext()
	slog.Debug("skipping record: "+reason, append([]any{"processor", ctx.NodeName(), "topic", rc.Topic,
		"partition", rc.Partition, "offset", rc.Offset}, args...)...)
}

// tableStore is the state of a processor whose output is a table kept in
// a key/value store: the store, and the record cache that holds back its
// updates when the store caches.
type tableStore struct {
	kvStoreAccess
	recordCache
	// hadOld, when set, records for each tombstone forwarded whether it
	// deleted a value (Kafka Streams' Change.oldValue != null).
	hadOld *taskFlags
}

// taskFlags is one flag per task, set by a processor just before it
// forwards and read by its children during that forward.
type taskFlags struct{ m sync.Map } // streams.TaskID -> bool

func (f *taskFlags) set(task streams.TaskID, v bool) { f.m.Store(task, v) }

// get returns the task's flag; true when it was never set.
func (f *taskFlags) get(task streams.TaskID) bool {
	if f == nil {
		return true
	}
	v, ok := f.m.Load(task)
	return !ok || v.(bool)
}

func newMaterializeProc(t tableStore) streams.Processor { return &materializeProc{tableStore: t} }

// putAggregate stores the aggregate out.Value under kb and forwards out,
// both with the highest timestamp of the aggregate's records: out's own, or
// oldTS, the one a timestamped store kept with the previous aggregate old.
func (t *tableStore) putAggregate(ctx *streams.ProcessorContext, kb []byte, out streams.Record, old any, oldTS int64) error {
	if old != nil && oldTS > out.Timestamp {
		out.Timestamp = oldTS
	}
	if err := t.st.putKB(kb, out.Value, out.Timestamp); err != nil {
		return err
	}
	return t.forwardChange(ctx, kb, out, old != nil)
}

// keyOrDrop resolves the record's key. A null key drops the record, as
// Kafka Streams' stateful processors do: it is counted in DroppedRecords
// and ok is false (with a nil error).
func keyOrDrop(ctx *streams.ProcessorContext, r streams.Record) (key any, ok bool, err error) {
	if key, err = resolved(r.Key); err != nil || key != nil {
		return key, err == nil, err
	}
	DroppedRecords.drop(ctx, "null key")
	return nil, false, nil
}

// kvAggregateProc aggregates a grouped stream into a key/value store.
type kvAggregateProc struct {
	*aggFuncs
	tableStore
}

func (p *kvAggregateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, ok, err := keyOrDrop(ctx, r)
	if !ok {
		return err
	}
	if r.Value == nil {
		DroppedRecords.drop(ctx, "null value")
		return nil
	}
	kb, err := p.st.keyBytes(key)
	if err != nil {
		return err
	}
	old, oldTS, err := p.st.getKB(kb)
	if err != nil {
		return err
	}
	agg, err := p.apply(ctx, key, r.Value, old)
	if err != nil {
		return err
	}
	return p.putAggregate(ctx, kb, r.WithKeyValue(key, agg), old, oldTS)
}

// tableAggregateProc aggregates a grouped table: each update subtracts the
// old value and adds the new one.
type tableAggregateProc struct {
	*aggFuncs
	tableStore
}

func (p *tableAggregateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	ch, ok := r.Value.(tableChange)
	if !ok {
		return fmt.Errorf("table aggregation received a record that is not a table update")
	}
	if r.Key == nil {
		DroppedRecords.drop(ctx, "null key")
		return nil
	}
	kb, err := p.st.keyBytes(r.Key)
	if err != nil {
		return err
	}
	old, oldTS, err := p.st.getKB(kb)
	if err != nil {
		return err
	}
	agg := old
	if ch.oldValue != nil && agg != nil {
		if agg, err = p.retractValue(ctx, r.Key, ch.oldValue, agg); err != nil {
			return err
		}
	}
	if ch.newValue != nil {
		if agg, err = p.addValue(ctx, r.Key, ch.newValue, agg); err != nil {
			return err
		}
	}
	return p.putAggregate(ctx, kb, r.WithValue(agg), old, oldTS)
}

func (p *tableAggregateProc) retractValue(ctx *streams.ProcessorContext, key, value, agg any) (any, error) {
	var res any
	var err error
	switch p.kind {
	case "count":
		n, _ := agg.(int64)
		return n - 1, nil
	case "reduce":
		res, err = p.sub.Call(ctx, agg, value)
	default:
		res, err = p.sub.Call(ctx, key, value, agg)
	}
	if err != nil {
		return nil, err
	}
	return resolved(res)
}

func (p *tableAggregateProc) addValue(ctx *streams.ProcessorContext, key, value, agg any) (any, error) {
	var res any
	var err error
	switch p.kind {
	case "count":
		n, _ := agg.(int64)
		return n + 1, nil
	case "reduce":
		if agg == nil {
			return resolved(value)
		}
		res, err = p.aggFuncs.add.Call(ctx, agg, value)
	default:
		if agg == nil {
			if agg, err = p.initial(ctx); err != nil {
				return nil, err
			}
		}
		res, err = p.aggFuncs.add.Call(ctx, key, value, agg)
	}
	if err != nil {
		return nil, err
	}
	return resolved(res)
}

// materializeProc keeps the latest value per key of a table and forwards
// every update; a null value deletes the key and is forwarded as a
// tombstone.
type materializeProc struct{ tableStore }

func (p *materializeProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, ok, err := keyOrDrop(ctx, r)
	if !ok {
		return err
	}
	v, err := resolved(r.Value)
	if err != nil {
		return err
	}
	kb, err := p.st.keyBytes(key)
	if err != nil {
		return err
	}
	hadOld := true
	if v == nil && (p.hadOld != nil || p.on) {
		old, _, err := p.st.getKB(kb)
		if err != nil {
			return err
		}
		hadOld = old != nil
		if p.hadOld != nil {
			p.hadOld.set(ctx.TaskID(), hadOld)
		}
	}
	if err := p.st.putKB(kb, v, r.Timestamp); err != nil {
		return err
	}
	return p.forwardChange(ctx, kb, r.WithKeyValue(key, v), hadOld)
}

// globalTable is the content of a globalTable: one store that every task
// reads, filled by the globalTable's source regardless of partitions.
type globalTable struct {
	name   string
	kv     *store.MemoryKeyValue
	ks, vs streams.Serde
}

func (g *globalTable) state() *kvState {
	return &kvState{storeCodec: storeCodec{name: g.name, ks: g.ks, vs: g.vs}, st: g.kv}
}

type globalTableProc struct {
	g  *globalTable
	st *kvState
}

func (p *globalTableProc) Init(ctx *streams.ProcessorContext) (err error) {
	p.st, err = openKV(ctx, p.g.name, p.g.ks, p.g.vs, false)
	return err
}

func (p *globalTableProc) Close() error { return nil }

func (p *globalTableProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, err := resolved(r.Key)
	if err != nil || key == nil {
		return err
	}
	v, err := resolved(r.Value)
	if err != nil {
		return err
	}
	return p.st.put(key, v, r.Timestamp)
}

// sharedStoreBuilder gives every task the one store of a globalTable, so
// the tasks reading its partitions fill it together; closing a task leaves
// it open. Like Kafka Streams' global stores it has no changelog: the I/O
// layer reloads it from the globalTable's topic (streams.GlobalTopics).
type sharedStoreBuilder struct{ g *globalTable }

func (b *sharedStoreBuilder) Name() string            { return b.g.name }
func (b *sharedStoreBuilder) Kind() streams.StoreKind { return streams.KeyValueKind }
func (b *sharedStoreBuilder) Logging() bool           { return false }
func (b *sharedStoreBuilder) Build(streams.TaskID) (streams.StateStore, error) {
	return sharedStore{b.g.kv}, nil
}

type sharedStore struct{ *store.MemoryKeyValue }

func (sharedStore) Close() error { return nil }

// windowAggregateProc aggregates a stream over tumbling or hopping windows.
// A record updates every window it falls in that has not closed (window
// end > highest timestamp seen - grace); for closed windows it is dropped.
type windowAggregateProc struct {
	*aggFuncs
	recordCache
	windowStoreAccess
	w         windowSpec
	retention int64
	observed  int64
	expiry    expiry
}

func (p *windowAggregateProc) Init(ctx *streams.ProcessorContext) error {
	p.observed = -1
	if err := p.windowStoreAccess.Init(ctx); err != nil {
		return err
	}
	p.st.ts = true // values carry the window's highest record timestamp
	return nil
}

// windowStarts returns the starts of the windows that contain ts, oldest
// first (Kafka Streams' TimeWindows.windowsFor).
func (w *windowSpec) windowStarts(ts int64) []int64 {
	start := ts - w.size + w.advance
	if start < 0 {
		start = 0
	}
	start = start / w.advance * w.advance
	var out []int64
	for ; start <= ts; start += w.advance {
		out = append(out, start)
	}
	return out
}

func (p *windowAggregateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, ok, err := keyOrDrop(ctx, r)
	if !ok {
		return err
	}
	ts := r.Timestamp
	if ts > p.observed {
		p.observed = ts
	}
	closeTime := p.observed - p.w.grace
	kb, err := p.st.keyBytes(key)
	if err != nil {
		return err
	}
	for _, start := range p.w.windowStarts(ts) {
		end := start + p.w.size
		if end <= closeTime {
			DroppedRecords.drop(ctx, "expired window", "window", fmt.Sprintf("[%d,%d)", start, end), "expiration", closeTime)
			continue
		}
		ob, err := p.st.st.Fetch(kb, start)
		if err != nil {
			return err
		}
		old, oldTS, err := p.st.decodeValue(ob)
		if err != nil {
			return err
		}
		agg, err := p.apply(ctx, key, r.Value, old)
		if err != nil {
			return err
		}
		// The window's result carries the highest timestamp of its records.
		outTS := ts
		if old != nil && oldTS > outTS {
			outTS = oldTS
		}
		var nb []byte
		if agg != nil {
			if nb, err = p.st.encodeValue(agg, outTS); err != nil {
				return err
			}
		}
		if err := p.st.st.Put(kb, start, nb); err != nil {
			return err
		}
		wk := types.Windowed{Key: key, Start: start, End: end}
		out := r.WithKeyValue(wk, agg)
		out.Timestamp = outTS
		if err := p.forwardChange(ctx, windowID(kb, start, end), out, old != nil); err != nil {
			return err
		}
	}
	if cutoff := p.observed - p.retention + 1; p.expiry.due(cutoff, p.retention) {
		return p.st.st.ExpireBefore(cutoff)
	}
	return nil
}

// sessionAggregateProc aggregates a stream over session windows: a record
// merges every session of its key within the inactivity gap into one.
// Merged sessions are removed and forwarded as tombstones; the merged
// session is forwarded with the timestamp of its end.
type sessionAggregateProc struct {
	*aggFuncs
	recordCache
	store    string
	w        windowSpec
	ks, vs   streams.Serde
	st       streams.SessionStore
	observed int64
	// retention: sessions that ended longer ago than this are gone.
	retention int64
	expiry    expiry
}

func (p *sessionAggregateProc) Init(ctx *streams.ProcessorContext) error {
	p.observed = -1
	s, err := ctx.Store(p.store)
	if err != nil {
		return err
	}
	st, ok := s.(streams.SessionStore)
	if !ok {
		return fmt.Errorf("store %q is not a session store", p.store)
	}
	p.st = st
	return nil
}

func (p *sessionAggregateProc) Close() error { return nil }

func (p *sessionAggregateProc) decode(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return p.vs.Deserialize(p.store, nil, b)
}

func (p *sessionAggregateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, ok, err := keyOrDrop(ctx, r)
	if !ok {
		return err
	}
	ts := r.Timestamp
	// Sessions that ended before the store's retention (counted from the
	// highest time before this record) are gone, as in Kafka Streams'
	// session store, even when this record is not late: it starts anew.
	minLive := p.observed - p.retention + 1
	storeMinLive := minLive
	if p.on {
		// Kafka Streams' caching session store still finds them in its
		// record cache.
		minLive = math.MinInt64
	}
	if ts > p.observed {
		p.observed = ts
	}
	closeTime := p.observed - p.w.grace - p.w.gap
	kb, err := p.ks.Serialize(p.store, nil, key)
	if err != nil {
		return err
	}
	type session struct {
		start, end int64
		value      any
	}
	var merged []session
	start, end := ts, ts
	agg, err := p.initial(ctx)
	if err != nil {
		return err
	}
	var ferr error
	err = p.st.FindSessions(kb, kb, ts-p.w.gap, ts+p.w.gap, false, func(_ []byte, s, e int64, vb []byte) bool {
		if e < minLive {
			return true
		}
		v, err := p.decode(vb)
		if err != nil {
			ferr = err
			return false
		}
		merged = append(merged, session{s, e, v})
		return true
	})
	if err = firstErr(err, ferr); err != nil {
		return err
	}
	for _, s := range merged {
		if p.merge != nil {
			if agg, err = callResolved(ctx, p.merge, key, agg, s.value); err != nil {
				return err
			}
		} else if p.kind == "count" {
			n, _ := agg.(int64)
			m, _ := s.value.(int64)
			agg = n + m
		} else if p.kind == "reduce" {
			if agg == nil {
				agg = s.value
			} else {
				if agg, err = callResolved(ctx, p.reduce, agg, s.value); err != nil {
					return err
				}
			}
		}
		start, end = min(start, s.start), max(end, s.end)
	}
	if end < closeTime {
		DroppedRecords.drop(ctx, "expired window", "window", fmt.Sprintf("[%d,%d]", start, end), "expiration", closeTime)
		return nil
	}
	if start != ts || end != ts {
		for _, s := range merged {
			if err := p.st.Remove(kb, s.start, s.end); err != nil {
				return err
			}
			wk := types.Windowed{Key: key, Start: s.start, End: s.end}
			rec := streams.Record{Key: wk, Value: nil, Timestamp: s.end, Headers: r.Headers}
			// A cached session past the store's retention has no old
			// value in the store, so Kafka Streams' flush drops its
			// tombstone.
			if err := p.forwardChange(ctx, windowID(kb, s.start, s.end), rec, s.end >= storeMinLive); err != nil {
				return err
			}
		}
	}
	if p.kind == "count" {
		n, _ := agg.(int64)
		agg = n + 1
	} else if p.kind == "reduce" && agg == nil {
		if agg, err = resolved(r.Value); err != nil {
			return err
		}
	} else if p.kind == "reduce" {
		if agg, err = callResolved(ctx, p.reduce, agg, r.Value); err != nil {
			return err
		}
	} else {
		if agg, err = callResolved(ctx, p.agg, key, r.Value, agg); err != nil {
			return err
		}
	}
	vb, err := p.vs.Serialize(p.store, nil, agg)
	if err != nil {
		return err
	}
	if err := p.st.Put(kb, start, end, vb); err != nil {
		return err
	}
	wk := types.Windowed{Key: key, Start: start, End: end}
	existed := false // the session already had an aggregate under these bounds
	for _, s := range merged {
		existed = existed || s.start == start && s.end == end
	}
	if err := p.forwardChange(ctx, windowID(kb, start, end), streams.Record{Key: wk, Value: agg, Timestamp: end, Headers: r.Headers}, existed); err != nil {
		return err
	}
	cutoff := p.observed - p.w.gap - p.w.grace
	if ms, ok := p.st.(interface{ ExpireBefore(int64) }); ok && p.expiry.due(cutoff, p.w.gap+p.w.grace) {
		ms.ExpireBefore(cutoff)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// expiry spaces out the removal of expired windows: like Kafka Streams'
// segments, expired entries go in batches once stream time has moved by
// half the retention (at least a minute), not on every record.
type expiry struct{ next int64 }

func (e *expiry) due(cutoff, retention int64) bool {
	if cutoff < e.next {
		return false
	}
	e.next = cutoff + max(retention/2, 60000)
	return true
}
