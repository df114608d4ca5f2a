package topology

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"sync"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Joins, with Kafka Streams' semantics:
//
//   - stream-table and stream-globalTable: each stream record looks up the
//     table's current value (a globalTable through the mapper's key); an
//     inner join drops records without a match, a left join passes null.
//   - stream-stream: both sides are kept in window stores; a record joins
//     every record of the other side with the same key within
//     timeDifference. Left and outer joins hold unmatched records in a
//     shared store and emit them with null for the other side once stream
//     time passes their time + timeDifference + grace.
//   - table-table: an update on either side joins the other side's current
//     value; deletes become tombstones. With a foreignKeyExtractor, see
//     fkjoin.go.

type joinKind int

const (
	innerJoin joinKind = iota
	leftJoin
	outerJoin
)

func joinKindOf(t definition.OpType) joinKind {
	switch t {
	case definition.OpLeftJoin:
		return leftJoin
	case definition.OpOuterJoin:
		return outerJoin
	}
	return innerJoin
}

func (b *builder) join(s stream, op *definition.Operation, name string) (stream, error) {
	if op.Target == nil {
		return s, errAt(op.Pos, "%s needs a stream, table or globalTable", op.Keyword)
	}
	other, err := b.resolveRef(op.Target)
	if err != nil {
		return s, err
	}
	f, fd, err := b.function(op.ValueJoiner, "valueJoiner", op.Pos)
	if err != nil {
		return s, err
	}
	kind := joinKindOf(op.Type)
	resultValue, err := b.userType(fd.ResultType, anyType)
	if err != nil {
		return s, err
	}
	switch {
	case shapeOf(s) == shapeStream && shapeOf(other) == shapeTable:
		if kind == outerJoin {
			return s, errAt(op.Pos, "a stream cannot be outer joined with a table")
		}
		if other, err = b.materialized(other, op); err != nil {
			return s, err
		}
		if s, err = b.repartitionRekeyed(s, op.Pos, name); err != nil {
			return s, err
		}
		p := &streamTableJoinProc{joiner: f, kind: kind, kvStoreAccess: kvStoreAccess{store: other.shape.store, ks: other.shape.storeKS, vs: other.shape.storeVS, timestamped: other.shape.storeTS}}
		if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; return &c }, fd); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
		if err := b.topo.ConnectStore(name, other.shape.store); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
	case shapeOf(s) == shapeStream && shapeOf(other) == shapeGlobalTable:
		if kind == outerJoin {
			return s, errAt(op.Pos, "a stream cannot be outer joined with a globalTable")
		}
		var mapper Function
		var mfd *definition.FunctionDef
		if op.Mapper != nil {
			if mapper, mfd, err = b.function(op.Mapper, "mapper", op.Pos); err != nil {
				return s, err
			}
		}
		p := &streamGlobalJoinProc{joiner: f, mapper: mapper, kind: kind, g: other.shape.global}
		if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; return &c }, fd, mfd); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
	case shapeOf(s) == shapeStream && shapeOf(other) == shapeStream:
		if s, err = b.repartitionRekeyed(s, op.Pos, name+"-left"); err != nil {
			return s, err
		}
		if other, err = b.repartitionRekeyed(other, op.Pos, name+"-right"); err != nil {
			return s, err
		}
		return b.streamStreamJoin(s, other, op, name, f, fd, kind, resultValue)
	case shapeOf(s) == shapeTable && shapeOf(other) == shapeTable:
		return b.tableTableJoin(s, other, op, name, f, fd, kind, resultValue)
	default:
		return s, errAt(op.Pos, "%s of a %s with a %s is not supported", op.Keyword, shapeOf(s), shapeOf(other))
	}
	s.node, s.value = name, resultValue
	return s, nil
}

// repartitionRekeyed writes a stream whose key may have changed since its
// source (selectKey, map, ...) to the repartition topic named after name
// and reads it back, as Kafka Streams does before a join or toTable:
// otherwise a record stays in the partition of its old key, misses the
// other side's records with its new key, and one key's table state is split
// over tasks. A stream with its source's key is returned as is.
func (b *builder) repartitionRekeyed(s stream, pos definition.Pos, name string) (stream, error) {
	if !b.keyChanged(s.node) {
		return s, nil
	}
	ks, vs, err := b.streamSerdes(s, pos)
	if err != nil {
		return s, err
	}
	topic := streams.InternalTopic{Name: streams.RepartitionTopic(b.opts.ApplicationID, name), Kind: "repartition"}
	return b.streamRepartition(s, pos, name, topic, streams.SinkOptions{KeySerde: ks, ValueSerde: vs})
}

type streamTableJoinProc struct {
	joiner Function
	kind   joinKind
	kvStoreAccess
}

func (p *streamTableJoinProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, err := resolved(r.Key)
	if err != nil {
		return err
	}
	var other any
	if key != nil {
		if other, err = p.st.get(key); err != nil {
			return err
		}
	}
	// A left join joins a record with a null key (and a value) with
	// nothing, as Kafka Streams does since 3.7; other null keys and null
	// values are dropped.
	nullKeyLeft := key == nil && r.Value != nil && p.kind == leftJoin
	if !nullKeyLeft && (key == nil || r.Value == nil || other == nil && p.kind == innerJoin) {
		if key == nil || r.Value == nil {
			DroppedRecords.drop(ctx, "null key or value in a stream-table join")
		}
		return nil
	}
	v, err := callResolved(ctx, p.joiner, key, r.Value, other)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKeyValue(key, v))
}

type streamGlobalJoinProc struct {
	stateless
	joiner Function
	mapper Function
	kind   joinKind
	g      *globalTable
}

func (p *streamGlobalJoinProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	lookup := r.Key
	if p.mapper != nil {
		k, err := p.mapper.Call(ctx, r.Key, r.Value)
		if err != nil {
			return err
		}
		lookup = k
	}
	lookup, err := resolved(lookup)
	if err != nil {
		return err
	}
	var other any
	if lookup != nil {
		if other, err = p.g.state().get(lookup); err != nil {
			return err
		}
	}
	if other == nil && p.kind == innerJoin || r.Value == nil {
		return nil
	}
	v, err := callResolved(ctx, p.joiner, r.Key, r.Value, other)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithValue(v))
}

// streamStreamJoin builds the window stores, the two join processors and
// the node that merges their output.
func (b *builder) streamStreamJoin(s, other stream, op *definition.Operation, name string, f Function, fd *definition.FunctionDef, kind joinKind, resultValue types.UserType) (stream, error) {
	d := op.TimeDifference.Milliseconds()
	grace := op.Grace.Milliseconds()
	if d < 0 || grace < 0 {
		return s, errAt(op.Pos, "timeDifference and grace must not be negative")
	}
	retention := 2*d + grace
	thisSD, err := b.storeFor(op, op.ThisStore, name+"-this-join", definition.StoreWindow)
	if err != nil {
		return s, err
	}
	otherSD, err := b.storeFor(op, op.OtherStore, name+"-other-join", definition.StoreWindow)
	if err != nil {
		return s, err
	}
	thisWin := b.uniqueName(name + "-this-windowed")
	otherWin := b.uniqueName(name + "-other-windowed")
	thisJoin := b.uniqueName(name + "-this-join")
	otherJoin := b.uniqueName(name + "-other-join")
	shared := &ssJoin{joiner: f, kind: kind, before: d, after: d, grace: grace, thisStore: thisSD.Name, otherStore: otherSD.Name}
	if kind != innerJoin {
		shared.outerStore = name + "-outer-shared-join-store"
	}
	tw := &joinWindowProc{windowStoreAccess: windowStoreAccess{store: thisSD.Name}, retention: retention, shared: shared}
	ow := &joinWindowProc{windowStoreAccess: windowStoreAccess{store: otherSD.Name}, retention: retention, shared: shared, side: 1}
	if err := b.addProcessor(thisWin, s.node, func() streams.Processor { c := *tw; return &c }); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if err := b.addProcessor(otherWin, other.node, func() streams.Processor { c := *ow; return &c }); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if shared.thisKS, shared.thisVS, err = b.windowStore(thisSD, s.key, s.value, thisWin, d, retention, true); err != nil {
		return s, err
	}
	if shared.otherKS, shared.otherVS, err = b.windowStore(otherSD, other.key, other.value, otherWin, d, retention, true); err != nil {
		return s, err
	}
	tw.ks, tw.vs = shared.thisKS, shared.thisVS
	ow.ks, ow.vs = shared.otherKS, shared.otherVS
	if err := b.addProcessor(thisJoin, thisWin, func() streams.Processor { return &ssJoinProc{ssJoin: shared, left: true} }, fd); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if err := b.addProcessor(otherJoin, otherWin, func() streams.Processor { return &ssJoinProc{ssJoin: shared} }, fd); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	for _, n := range []string{thisJoin, otherJoin} {
		for _, st := range []string{thisSD.Name, otherSD.Name} {
			if err := b.topo.ConnectStore(n, st); err != nil {
				return s, errAt(op.Pos, "%v", err)
			}
		}
	}
	if shared.outerStore != "" {
		ob := &rawKVBuilder{name: shared.outerStore, logging: true}
		if err := b.topo.AddStateStore(ob, thisJoin, otherJoin); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
	}
	if err := b.topo.AddProcessor(name, func() streams.Processor { return passThrough }, thisJoin, otherJoin); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	s.node, s.value = name, resultValue
	return s, nil
}

// joinWindowProc records each stream record in its side's window store
// before the join processor sees it.
type joinWindowProc struct {
	windowStoreAccess
	retention int64
	expiry    expiry
	shared    *ssJoin
	side      int // 0: this (left), 1: other (right)
	times     *joinTimes
}

func (p *joinWindowProc) Init(ctx *streams.ProcessorContext) error {
	p.times = p.shared.timesOf(ctx.TaskID())
	return p.windowStoreAccess.Init(ctx)
}

func (p *joinWindowProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, err := resolved(r.Key)
	if err != nil {
		return err
	}
	if key == nil {
		return ctx.Forward(r)
	}
	// Like Kafka Streams' window store, each side's store keeps time by
	// the records put in it (a null value too, though it is not kept) and
	// refuses those older than its retention.
	observed := max(p.times.observed[p.side], r.Timestamp)
	p.times.observed[p.side] = observed
	kb, err := p.st.keyBytes(key)
	if err != nil {
		return err
	}
	var vb []byte
	if r.Value != nil {
		if vb, err = p.st.encode(r.Value); err != nil {
			return err
		}
	}
	if r.Value != nil && r.Timestamp > observed-p.retention {
		if err := p.st.st.Put(kb, r.Timestamp, vb); err != nil {
			return err
		}
	} else if l, ok := p.st.st.(streams.SkippedPutLogger); ok {
		// The store keeps neither, but its changelog records the put,
		// as Kafka Streams' does.
		if err := l.LogSkippedPut(kb, r.Timestamp, vb); err != nil {
			return err
		}
	}
	if r.Value == nil {
		return ctx.Forward(r.WithKey(key))
	}
	if cutoff := observed - p.retention; p.expiry.due(cutoff, p.retention) {
		if err := p.st.st.ExpireBefore(cutoff); err != nil {
			return err
		}
	}
	return ctx.Forward(r.WithKey(key))
}

// ssJoin is what both processors of a stream-stream join share.
type ssJoin struct {
	joiner                Function
	kind                  joinKind
	before, after, grace  int64
	thisStore, otherStore string
	outerStore            string
	thisKS, thisVS        streams.Serde
	otherKS, otherVS      streams.Serde
	// trackers holds each task's joinTimes, shared by the join's two
	// processors in that task.
	trackers sync.Map // streams.TaskID -> *joinTimes
}

// joinTimes is Kafka Streams' shared time tracker of a stream-stream
// join: the highest timestamp either side has seen, and the time that
// gates emitting held-back unmatched records. Kafka Streams sets minTime
// to the time of the last held-back record it looked at while emitting,
// which can hold back records whose window has closed until a later
// record; ksml follows it so both emit the same records at the same
// points.
type joinTimes struct {
	streamTime int64
	minTime    int64
	// observed is the highest time put into each side's window store
	// (this, other): records older than it minus the retention no longer
	// join.
	observed [2]int64
}

func (j *ssJoin) timesOf(task streams.TaskID) *joinTimes {
	t, _ := j.trackers.LoadOrStore(task, &joinTimes{streamTime: -1, minTime: math.MaxInt64, observed: [2]int64{-1, -1}})
	return t.(*joinTimes)
}

type ssJoinProc struct {
	*ssJoin
	left  bool
	mine  *windowState
	other *windowState
	outer streams.KeyValueStore
	times *joinTimes
	task  streams.TaskID
}

func (p *ssJoinProc) Init(ctx *streams.ProcessorContext) (err error) {
	this, err := openWindow(ctx, p.thisStore, p.thisKS, p.thisVS)
	if err != nil {
		return err
	}
	that, err := openWindow(ctx, p.otherStore, p.otherKS, p.otherVS)
	if err != nil {
		return err
	}
	p.task = ctx.TaskID()
	p.times = p.timesOf(p.task)
	p.mine, p.other = this, that
	if !p.left {
		p.mine, p.other = that, this
	}
	if p.outerStore != "" {
		s, err := ctx.Store(p.outerStore)
		if err != nil {
			return err
		}
		p.outer = s.(streams.KeyValueStore)
	}
	return nil
}

// Close forgets the task's time tracker, as Kafka Streams does: a task
// created again starts from its restored stores and fresh times.
func (p *ssJoinProc) Close() error {
	p.trackers.Delete(p.task)
	return nil
}

// outerKey orders unmatched records by time, then side, then key.
func outerKey(ts int64, left bool, kb []byte) []byte {
	out := make([]byte, 9+len(kb))
	binary.BigEndian.PutUint64(out, uint64(ts))
	if left {
		out[8] = 1
	}
	copy(out[9:], kb)
	return out
}

func (p *ssJoinProc) join(ctx *streams.ProcessorContext, key, mine, theirs any) (any, error) {
	if p.left {
		return callResolved(ctx, p.joiner, key, mine, theirs)
	}
	return callResolved(ctx, p.joiner, key, theirs, mine)
}

func (p *ssJoinProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key := r.Key
	p.times.streamTime = max(p.times.streamTime, r.Timestamp)
	if key == nil || r.Value == nil {
		if key == nil && r.Value != nil && (p.kind == outerJoin || p.kind == leftJoin && p.left) {
			v, err := p.join(ctx, key, r.Value, nil)
			if err != nil {
				return err
			}
			return ctx.Forward(r.WithValue(v))
		}
		DroppedRecords.drop(ctx, "null key or value in a stream-stream join")
		return nil
	}
	ts := r.Timestamp
	streamTime := p.times.streamTime
	before, after := p.before, p.after
	if !p.left {
		before, after = after, before
	}
	timeFrom, timeTo := max(0, ts-before), max(0, ts+after)
	if p.outer != nil && ts == streamTime {
		if err := p.emitUnmatched(ctx, after); err != nil {
			return err
		}
	}
	kb, err := p.other.keyBytes(key)
	if err != nil {
		return err
	}
	type match struct {
		ts    int64
		value []byte
	}
	var matches []match
	// Records older than the other store's retention may still be in it
	// until the next expiry; they no longer join.
	otherSide := 0
	if p.left {
		otherSide = 1
	}
	visible := p.times.observed[otherSide] - (p.before + p.after + p.grace) + 1
	if err := p.other.st.FetchRange(kb, kb, max(timeFrom, visible), timeTo, false, func(_ []byte, start int64, vb []byte) bool {
		matches = append(matches, match{start, vb})
		return true
	}); err != nil {
		return err
	}
	for _, m := range matches {
		theirs, err := p.other.decode(m.value)
		if err != nil {
			return err
		}
		if p.outer != nil {
			// The matched record is no longer waiting for a match. As in
			// Kafka Streams (putIfAbsent of null on its list store), the
			// entry is removed, and the removal logged, only if it is there.
			ok := outerKey(m.ts, !p.left, kb)
			held, err := p.outer.Get(ok)
			if err != nil {
				return err
			}
			if held != nil {
				if _, err := p.outer.Delete(ok); err != nil {
					return err
				}
			}
		}
		v, err := p.join(ctx, key, r.Value, theirs)
		if err != nil {
			return err
		}
		out := r.WithValue(v)
		out.Timestamp = max(ts, m.ts)
		if err := ctx.Forward(out); err != nil {
			return err
		}
	}
	if len(matches) > 0 || !(p.kind == outerJoin || p.kind == leftJoin && p.left) {
		return nil
	}
	if p.outer == nil || timeTo < streamTime {
		// Too late to wait for a match: emit the unmatched result now.
		v, err := p.join(ctx, key, r.Value, nil)
		if err != nil {
			return err
		}
		return ctx.Forward(r.WithValue(v))
	}
	// Unmatched records are kept in the serdes of their own side.
	mkb, err := p.mine.keyBytes(key)
	if err != nil {
		return err
	}
	vb, err := p.mine.encode(r.Value)
	if err != nil {
		return err
	}
	p.times.minTime = min(p.times.minTime, ts)
	// Records with equal time, side and key are all kept, in order.
	ok := outerKey(ts, p.left, mkb)
	held, err := p.outer.Get(ok)
	if err != nil {
		return err
	}
	buf, err := heldAppend(held, p.left, vb)
	if err != nil {
		return err
	}
	return p.outer.Put(ok, buf)
}

// A held-back entry of an outer join's shared store is laid out as Kafka
// Streams lays out the values of its outer join store, so their changelogs
// hold the same bytes: a list (ListSerializer: the strategy byte 1 for
// entries of variable size, the number of entries, then each entry's
// length and bytes, length -1 for null) of LeftOrRightValue entries (a byte,
// 1 for a value of the left side and 0 for one of the right, then the
// value's bytes; a null value is a null entry).
const (
	heldListVariableSize = 1
	heldNullEntry        = 0xffffffff
)

// heldAppend returns held with one more value, of the left side or the
// right one.
func heldAppend(held []byte, left bool, vb []byte) ([]byte, error) {
	var out []byte
	if len(held) == 0 {
		out = binary.BigEndian.AppendUint32([]byte{heldListVariableSize}, 1)
	} else {
		if _, err := heldValues(held); err != nil {
			return nil, err
		}
		out = bytes.Clone(held)
		binary.BigEndian.PutUint32(out[1:], binary.BigEndian.Uint32(out[1:])+1)
	}
	if vb == nil {
		return binary.BigEndian.AppendUint32(out, heldNullEntry), nil
	}
	out = binary.BigEndian.AppendUint32(out, uint32(1+len(vb)))
	side := byte(0)
	if left {
		side = 1
	}
	return append(append(out, side), vb...), nil
}

// heldValues splits a held-back entry into its values (nil for a null
// one), without their side bytes.
func heldValues(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	malformed := errors.New("malformed held-back join record")
	if len(b) < 5 || b[0] != heldListVariableSize {
		return nil, malformed
	}
	n := binary.BigEndian.Uint32(b[1:])
	b = b[5:]
	out := make([][]byte, 0, min(n, 64))
	for range n {
		if len(b) < 4 {
			return nil, malformed
		}
		size := binary.BigEndian.Uint32(b)
		b = b[4:]
		if size == heldNullEntry {
			out = append(out, nil)
			continue
		}
		if size == 0 || uint64(size) > uint64(len(b)) {
			return nil, malformed
		}
		out = append(out, b[1:size])
		b = b[size:]
	}
	if len(b) != 0 {
		return nil, malformed
	}
	return out, nil
}

// emitUnmatched emits held-back unmatched records whose join window has
// closed, in the order of time, side (right first) and key, with null for
// the missing side, as Kafka Streams does: nothing happens until the
// tracked minTime plus this side's after-window and the grace has passed;
// then entries are visited in order, skipping those whose window is still
// open, until both sides have an open one. after is this processor's
// after-window.
func (p *ssJoinProc) emitUnmatched(ctx *streams.ProcessorContext, after int64) error {
	t := p.times
	if t.minTime+after+p.grace >= t.streamTime {
		return nil
	}
	t.minTime = math.MaxInt64
	type entry struct {
		k, v []byte
	}
	var visit []entry
	leftOpen, rightOpen := false, false
	var heldErr error
	if err := p.outer.Range(nil, nil, false, func(k, v []byte) bool {
		ts := int64(binary.BigEndian.Uint64(k))
		left := k[8] == 1
		lookBack := p.after // the left side looks back over the after-window
		if !left {
			lookBack = p.before
		}
		open := ts+lookBack+p.grace >= t.streamTime
		// Kafka Streams keeps the values of one time, side and key as a
		// list and visits them one by one, setting minTime and checking
		// whether both sides are open before each: a second value of an
		// open entry ends the visit with minTime at that entry's time.
		held, err := heldValues(v)
		if err != nil {
			heldErr = err
			return false
		}
		for range max(len(held), 1) {
			t.minTime = ts
			if leftOpen && rightOpen {
				return false
			}
			if !open {
				break
			}
			if left {
				leftOpen = true
			} else {
				rightOpen = true
			}
		}
		if !open {
			visit = append(visit, entry{append([]byte(nil), k...), append([]byte(nil), v...)})
		}
		return true
	}); err != nil {
		return err
	}
	if heldErr != nil {
		return heldErr
	}
	for _, e := range visit {
		ts := int64(binary.BigEndian.Uint64(e.k))
		left := e.k[8] == 1
		side := p.mine
		if left != p.left {
			side = p.other
		}
		key, err := side.ks.Deserialize(side.name, nil, e.k[9:])
		if err != nil {
			return err
		}
		vals, err := heldValues(e.v)
		if err != nil {
			return err
		}
		if _, err := p.outer.Delete(e.k); err != nil {
			return err
		}
		for _, vb := range vals {
			val, err := side.decode(vb)
			if err != nil {
				return err
			}
			var res any
			if left {
				res, err = callResolved(ctx, p.joiner, key, val, nil)
			} else {
				res, err = callResolved(ctx, p.joiner, key, nil, val)
			}
			if err != nil {
				return err
			}
			if err := ctx.Forward(streams.Record{Key: key, Value: res, Timestamp: ts}); err != nil {
				return err
			}
		}
	}
	return nil
}

// tableTableJoin joins two tables; the result is a table materialized in
// the operation's store.
func (b *builder) tableTableJoin(s, other stream, op *definition.Operation, name string, f Function, fd *definition.FunctionDef, kind joinKind, resultValue types.UserType) (stream, error) {
	var err error
	if s, err = b.materialized(s, op); err != nil {
		return s, err
	}
	if other, err = b.materialized(other, op); err != nil {
		return s, err
	}
	if op.ForeignKeyExtractor != nil {
		return b.foreignKeyJoin(s, other, op, name, f, fd, kind, resultValue)
	}
	thisJoin := b.uniqueName(name + "-this-join")
	otherJoin := b.uniqueName(name + "-other-join")
	tt := &ttJoin{joiner: f, kind: kind, leftHadOld: s.shape.hadOld, rightHadOld: other.shape.hadOld,
		leftStore: s.shape.store, leftKS: s.shape.storeKS, leftVS: s.shape.storeVS, leftTS: s.shape.storeTS,
		rightStore: other.shape.store, rightKS: other.shape.storeKS, rightVS: other.shape.storeVS, rightTS: other.shape.storeTS}
	fds := []*definition.FunctionDef{fd}
	if err := b.addProcessor(thisJoin, s.node, func() streams.Processor { return &ttJoinProc{ttJoin: tt, left: true} }, fds...); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if err := b.addProcessor(otherJoin, other.node, func() streams.Processor { return &ttJoinProc{ttJoin: tt} }, fds...); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	for _, n := range []string{thisJoin, otherJoin} {
		for _, st := range []string{tt.leftStore, tt.rightStore} {
			if err := b.topo.ConnectStore(n, st); err != nil {
				return s, errAt(op.Pos, "%v", err)
			}
		}
	}
	return b.tableResult(s, op, name, resultValue, thisJoin, otherJoin)
}

type ttJoin struct {
	joiner           Function
	kind             joinKind
	leftStore        string
	leftKS, leftVS   streams.Serde
	leftTS           bool
	rightStore       string
	rightKS, rightVS streams.Serde
	rightTS          bool
	// leftHadOld, rightHadOld: whether a side's tombstone deleted a value.
	leftHadOld, rightHadOld *taskFlags
}

type ttJoinProc struct {
	*ttJoin
	left     bool
	lst, rst *kvState
}

func (p *ttJoinProc) Init(ctx *streams.ProcessorContext) (err error) {
	if p.lst, err = openKV(ctx, p.leftStore, p.leftKS, p.leftVS, p.leftTS); err != nil {
		return err
	}
	p.rst, err = openKV(ctx, p.rightStore, p.rightKS, p.rightVS, p.rightTS)
	return err
}

func (p *ttJoinProc) Close() error { return nil }

// Process joins an update of one side with the other side's current value
// as Kafka Streams' table-table joins do: the result carries the higher
// timestamp of the two; an inner join ignores updates without a partner; a
// tombstone for a key that had no value, without a partner, produces
// nothing; a left join ignores right updates without a left value; an
// outer join forwards a tombstone when both sides are gone.
func (p *ttJoinProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if r.Key == nil {
		return nil
	}
	other, hadOld := p.rst, p.leftHadOld
	if !p.left {
		other, hadOld = p.lst, p.rightHadOld
	}
	kb, err := other.keyBytes(r.Key)
	if err != nil {
		return err
	}
	ov, ots, err := other.getKB(kb)
	if err != nil {
		return err
	}
	mine := r.Value
	if ov == nil && mine == nil && !hadOld.get(ctx.TaskID()) {
		return nil
	}
	var lv, rv any = mine, ov
	if !p.left {
		lv, rv = ov, mine
	}
	var out any
	switch {
	case p.kind == innerJoin:
		if ov == nil {
			return nil
		}
		if mine != nil {
			out, err = callResolved(ctx, p.joiner, r.Key, lv, rv)
		}
	case p.kind == leftJoin && !p.left:
		if ov == nil {
			return nil
		}
		out, err = callResolved(ctx, p.joiner, r.Key, lv, rv)
	case p.kind == leftJoin:
		if mine != nil {
			out, err = callResolved(ctx, p.joiner, r.Key, lv, rv)
		}
	default: // outer
		if lv != nil || rv != nil {
			out, err = callResolved(ctx, p.joiner, r.Key, lv, rv)
		}
	}
	if err != nil {
		return err
	}
	res := r.WithValue(out)
	if ov != nil && ots > res.Timestamp {
		res.Timestamp = ots
	}
	return ctx.Forward(res)
}

// rawKVBuilder builds an internal key/value store whose bytes the
// processor encodes itself.
type rawKVBuilder struct {
	name    string
	logging bool
}

func (b *rawKVBuilder) Name() string            { return b.name }
func (b *rawKVBuilder) Kind() streams.StoreKind { return streams.KeyValueKind }
func (b *rawKVBuilder) Logging() bool           { return b.logging }
func (b *rawKVBuilder) Build(streams.TaskID) (streams.StateStore, error) {
	return store.NewMemoryKeyValue(b.name), nil
}
