package topology

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Foreign-key table joins, built as Kafka Streams builds them, so the two
// tables need not be co-partitioned:
//
//   - the left table's updates subscribe their left key to the foreign key
//     the extractor returns, on a subscription topic partitioned by foreign
//     key (and unsubscribe from a previous foreign key);
//   - next to the right table, a subscription store keeps the subscribers of
//     every foreign key; a subscription is answered with the right value, and
//     a right update is sent to all its subscribers, on a response topic
//     partitioned by left key;
//   - next to the left table, a response is joined with the current left
//     value, unless that value changed since the subscription (a hash of its
//     bytes travels with the messages), which makes the response stale.
//
// A left value without a foreign key, or a deleted left value, produces its
// result directly: a tombstone, or for a left join the joiner with None.
//
// Internal topics carry bytes:
//
//	subscription: key = foreign key bytes,
//	              value = instruction (1 byte) | hash (8 bytes) | left key bytes
//	response:     key = left key bytes,
//	              value = hash (8 bytes) | has value (1 byte) | right value bytes

// Subscription instructions, Kafka Streams' SubscriptionWrapper.Instruction.
const (
	fkDeleteNoPropagate        byte = 0 // unsubscribe, no response
	fkPropagateIfAvailable     byte = 1 // subscribe, respond when the right value exists
	fkPropagateNullIfAvailable byte = 2 // subscribe (unless no foreign key), always respond
	fkDeleteAndPropagate       byte = 3 // unsubscribe, respond with no right value
)

// bytesSerde passes []byte keys and values of internal topics through.
type bytesSerde struct{}

func (bytesSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return b, nil
	}
	return nil, fmt.Errorf("internal topic record is %s, not bytes", types.KindName(v))
}

func (bytesSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return b, nil
}

// valueHash identifies a left value; 0 stands for no value.
func valueHash(b []byte) uint64 {
	if b == nil {
		return 0
	}
	h := fnv.New64a()
	h.Write(b)
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}

// storedTimestamp is the timestamp of a timestamped store's value bytes
// (-1 when unknown).
func storedTimestamp(b []byte, timestamped bool) int64 {
	if b != nil && timestamped && len(b) >= 8 {
		return int64(binary.BigEndian.Uint64(b))
	}
	return -1
}

// storedValue strips the timestamp of a timestamped store's value bytes.
func storedValue(b []byte, timestamped bool) []byte {
	if b != nil && timestamped && len(b) >= 8 {
		return b[8:]
	}
	return b
}

// fkJoin is what the processors of one foreign-key join share.
type fkJoin struct {
	joiner, extractor  Function
	leftJoin           bool
	leftStore          string
	leftKS, leftVS     streams.Serde
	leftTS             bool
	rightStore         string
	rightKS, rightVS   streams.Serde
	rightTS            bool
	fkStore, subsStore string
}

func (b *builder) foreignKeyJoin(s, other stream, op *definition.Operation, name string, f Function, fd *definition.FunctionDef, kind joinKind, resultValue types.UserType) (stream, error) {
	if kind == outerJoin {
		return s, errAt(op.Pos, "a foreign-key join is a join or a leftJoin")
	}
	fk, fkd, err := b.function(op.ForeignKeyExtractor, "foreignKeyExtractor", op.Pos)
	if err != nil {
		return s, err
	}
	j := &fkJoin{joiner: f, extractor: fk, leftJoin: kind == leftJoin,
		leftStore: s.shape.store, leftKS: s.shape.storeKS, leftVS: s.shape.storeVS, leftTS: s.shape.storeTS,
		rightStore: other.shape.store, rightKS: other.shape.storeKS, rightVS: other.shape.storeVS, rightTS: other.shape.storeTS,
		fkStore: name + "-foreign-keys", subsStore: name + "-subscriptions"}
	// Named as Kafka Streams names them: <application.id>-<name>-...-topic.
	subTopic := b.opts.ApplicationID + "-" + name + "-subscription-registration-topic"
	respTopic := b.opts.ApplicationID + "-" + name + "-subscription-response-topic"
	b.topo.AddInternalTopic(streams.InternalTopic{Name: subTopic, Kind: "repartition"})
	b.topo.AddInternalTopic(streams.InternalTopic{Name: respTopic, Kind: "repartition"})
	raw := streams.SinkOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}
	rawSrc := streams.SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}
	fail := func(err error) (stream, error) { return s, errAt(op.Pos, "%v", err) }

	// Left side: subscribe, and answer left values without a foreign key.
	subscribe := b.uniqueName(name + "-subscribe")
	if err := b.addProcessor(subscribe, s.node, func() streams.Processor { return &fkSubscribeProc{fkJoin: j} }, fkd, fd); err != nil {
		return fail(err)
	}
	if err := b.topo.ConnectStore(subscribe, j.leftStore); err != nil {
		return fail(err)
	}
	if err := b.topo.AddStateStore(&rawKVBuilder{name: j.fkStore, logging: true}, subscribe); err != nil {
		return fail(err)
	}
	if err := b.topo.AddSink(b.uniqueName(name+"-subscription-sink"), subTopic, raw, subscribe); err != nil {
		return fail(err)
	}
	// Right side: keep subscriptions and answer them and right updates.
	subSource := b.uniqueName(name + "-subscription-source")
	if err := b.topo.AddSource(subSource, []string{subTopic}, rawSrc); err != nil {
		return fail(err)
	}
	registrar := b.uniqueName(name + "-subscription-store")
	if err := b.topo.AddProcessor(registrar, func() streams.Processor { return &fkSubscriptionProc{fkJoin: j} }, subSource); err != nil {
		return fail(err)
	}
	if err := b.topo.AddStateStore(&rawKVBuilder{name: j.subsStore, logging: true}, registrar); err != nil {
		return fail(err)
	}
	if err := b.topo.ConnectStore(registrar, j.rightStore); err != nil {
		return fail(err)
	}
	rightUpdates := b.uniqueName(name + "-foreign-updates")
	if err := b.topo.AddProcessor(rightUpdates, func() streams.Processor { return &fkRightUpdateProc{fkJoin: j} }, other.node); err != nil {
		return fail(err)
	}
	if err := b.topo.ConnectStore(rightUpdates, j.subsStore); err != nil {
		return fail(err)
	}
	if err := b.topo.AddSink(b.uniqueName(name+"-response-sink"), respTopic, raw, registrar, rightUpdates); err != nil {
		return fail(err)
	}
	// Left side again: join the responses.
	respSource := b.uniqueName(name + "-response-source")
	if err := b.topo.AddSource(respSource, []string{respTopic}, rawSrc); err != nil {
		return fail(err)
	}
	resolver := b.uniqueName(name + "-response-join")
	if err := b.addProcessor(resolver, respSource, func() streams.Processor { return &fkResponseProc{fkJoin: j} }, fd); err != nil {
		return fail(err)
	}
	if err := b.topo.ConnectStore(resolver, j.leftStore); err != nil {
		return fail(err)
	}
	return b.tableResult(s, op, name, resultValue, resolver, subscribe)
}

func (j *fkJoin) result(ctx *streams.ProcessorContext, key, left, right any) (any, error) {
	if left == nil || right == nil && !j.leftJoin {
		return nil, nil
	}
	return callResolved(ctx, j.joiner, key, left, right)
}

// fkSubscribeProc sends the subscriptions of left table updates. Its first
// child is the subscription sink, its second the join result.
type fkSubscribeProc struct {
	*fkJoin
	left, fks streams.KeyValueStore
}

func (p *fkSubscribeProc) Init(ctx *streams.ProcessorContext) (err error) {
	if p.left, err = kvStoreOf(ctx, p.leftStore); err != nil {
		return err
	}
	p.fks, err = kvStoreOf(ctx, p.fkStore)
	return err
}

func (p *fkSubscribeProc) Close() error { return nil }

func subscription(instr byte, hash uint64, leftKey []byte) []byte {
	out := make([]byte, 9, 9+len(leftKey))
	out[0] = instr
	binary.BigEndian.PutUint64(out[1:], hash)
	return append(out, leftKey...)
}

// Process sends a left update's subscriptions with Kafka Streams'
// instructions. The foreign-key store remembers, per left key, whether the
// previous value existed and its foreign key: 1|fk bytes, or 0 for a value
// without one.
func (p *fkSubscribeProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if r.Key == nil {
		return nil
	}
	lkb, err := p.leftKS.Serialize(p.leftStore, nil, r.Key)
	if err != nil {
		return err
	}
	v, err := resolved(r.Value)
	if err != nil {
		return err
	}
	var newFK []byte
	if v != nil {
		fk, err := callResolved(ctx, p.extractor, v)
		if err != nil {
			return err
		}
		if fk != nil {
			if newFK, err = p.rightKS.Serialize(p.rightStore, nil, fk); err != nil {
				return err
			}
		}
	}
	stored, err := p.left.Get(lkb)
	if err != nil {
		return err
	}
	hash := valueHash(storedValue(stored, p.leftTS))
	prev, err := p.fks.Get(lkb)
	if err != nil {
		return err
	}
	hadOld := prev != nil
	var oldFK []byte
	if hadOld && prev[0] == 1 {
		oldFK = append([]byte{}, prev[1:]...)
	}
	if v == nil {
		_, err = p.fks.Delete(lkb)
	} else if newFK != nil {
		err = p.fks.Put(lkb, append([]byte{1}, newFK...))
	} else {
		err = p.fks.Put(lkb, []byte{0})
	}
	if err != nil {
		return err
	}
	send := func(fk []byte, instr byte) error {
		return ctx.ForwardTo(0, r.WithKeyValue(fk, subscription(instr, hash, lkb)))
	}
	if p.leftJoin {
		if hadOld {
			if oldFK != nil && !bytes.Equal(oldFK, newFK) {
				if err := send(oldFK, fkDeleteAndPropagate); err != nil {
					return err
				}
			}
			return send(newFK, fkPropagateNullIfAvailable)
		}
		if v != nil {
			return send(newFK, fkPropagateNullIfAvailable)
		}
		return nil
	}
	// An inner join leaves everything as it is when the old or the new
	// value has no foreign key (as Kafka Streams does).
	switch {
	case hadOld && oldFK == nil:
		return nil
	case hadOld && v != nil:
		if newFK == nil {
			return nil
		}
		if !bytes.Equal(oldFK, newFK) {
			if err := send(oldFK, fkDeleteNoPropagate); err != nil {
				return err
			}
		}
		return send(newFK, fkPropagateNullIfAvailable)
	case hadOld:
		return send(oldFK, fkDeleteAndPropagate)
	case v != nil && newFK != nil:
		return send(newFK, fkPropagateIfAvailable)
	}
	return nil
}

func subscriptionKey(fkb, lkb []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, len(fkb)+len(lkb)+2), uint64(len(fkb)))
	return append(append(out, fkb...), lkb...)
}

func response(hash uint64, right []byte) []byte {
	out := make([]byte, 9, 9+len(right))
	binary.BigEndian.PutUint64(out, hash)
	if right != nil {
		out[8] = 1
	}
	return append(out, right...)
}

// fkSubscriptionProc keeps the subscriptions next to the right table and
// answers each subscription with the right value.
type fkSubscriptionProc struct {
	*fkJoin
	subs, right streams.KeyValueStore
}

func (p *fkSubscriptionProc) Init(ctx *streams.ProcessorContext) (err error) {
	if p.subs, err = kvStoreOf(ctx, p.subsStore); err != nil {
		return err
	}
	p.right, err = kvStoreOf(ctx, p.rightStore)
	return err
}

func (p *fkSubscriptionProc) Close() error { return nil }

func (p *fkSubscriptionProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	fkb, _ := r.Key.([]byte)
	msg, _ := r.Value.([]byte)
	if len(msg) < 9 {
		return fmt.Errorf("malformed foreign-key subscription")
	}
	instr, hash, lkb := msg[0], binary.BigEndian.Uint64(msg[1:9]), msg[9:]
	if fkb == nil && instr != fkPropagateNullIfAvailable {
		return nil
	}
	var rv []byte
	ts := r.Timestamp
	if fkb != nil {
		sk := subscriptionKey(fkb, lkb)
		var err error
		if instr == fkDeleteNoPropagate || instr == fkDeleteAndPropagate {
			_, err = p.subs.Delete(sk)
		} else {
			err = p.subs.Put(sk, msg[1:9])
		}
		if err != nil {
			return err
		}
		stored, err := p.right.Get(fkb)
		if err != nil {
			return err
		}
		rv = storedValue(stored, p.rightTS)
		if rts := storedTimestamp(stored, p.rightTS); stored != nil && rts > ts {
			ts = rts
		}
	}
	respond := func(right []byte) error {
		out := r.WithKeyValue(lkb, response(hash, right))
		out.Timestamp = ts
		return ctx.Forward(out)
	}
	switch instr {
	case fkDeleteAndPropagate:
		return respond(nil)
	case fkPropagateNullIfAvailable:
		return respond(rv)
	case fkPropagateIfAvailable:
		if rv != nil {
			return respond(rv)
		}
	}
	return nil
}

// fkRightUpdateProc sends a right table update to every subscriber of its
// key.
type fkRightUpdateProc struct {
	*fkJoin
	subs streams.KeyValueStore
}

func (p *fkRightUpdateProc) Init(ctx *streams.ProcessorContext) (err error) {
	p.subs, err = kvStoreOf(ctx, p.subsStore)
	return err
}

func (p *fkRightUpdateProc) Close() error { return nil }

func (p *fkRightUpdateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if r.Key == nil {
		return nil
	}
	fkb, err := p.rightKS.Serialize(p.rightStore, nil, r.Key)
	if err != nil {
		return err
	}
	var rvb []byte
	if r.Value != nil {
		if rvb, err = p.rightVS.Serialize(p.rightStore, nil, r.Value); err != nil {
			return err
		}
	}
	prefix := subscriptionKey(fkb, nil)
	type subscriber struct{ lkb, hash []byte }
	var subs []subscriber
	if err := p.subs.Range(prefix, prefixEnd(prefix), false, func(k, v []byte) bool {
		subs = append(subs, subscriber{append([]byte(nil), k[len(prefix):]...), append([]byte(nil), v...)})
		return true
	}); err != nil {
		return err
	}
	for _, s := range subs {
		if len(s.hash) != 8 {
			continue
		}
		if err := ctx.Forward(r.WithKeyValue(s.lkb, response(binary.BigEndian.Uint64(s.hash), rvb))); err != nil {
			return err
		}
	}
	return nil
}

// prefixEnd is the smallest key after every key starting with p (nil when
// there is none).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// fkResponseProc joins responses with the current left value, dropping
// responses to a left value that changed since.
type fkResponseProc struct {
	*fkJoin
	left streams.KeyValueStore
}

func (p *fkResponseProc) Init(ctx *streams.ProcessorContext) (err error) {
	p.left, err = kvStoreOf(ctx, p.leftStore)
	return err
}

func (p *fkResponseProc) Close() error { return nil }

func (p *fkResponseProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	lkb, _ := r.Key.([]byte)
	msg, _ := r.Value.([]byte)
	if lkb == nil || len(msg) < 9 {
		return fmt.Errorf("malformed foreign-key response")
	}
	stored, err := p.left.Get(lkb)
	if err != nil {
		return err
	}
	lvb := storedValue(stored, p.leftTS)
	if valueHash(lvb) != binary.BigEndian.Uint64(msg) {
		return nil // the left value changed since: a newer result follows
	}
	key, err := p.leftKS.Deserialize(p.leftStore, nil, lkb)
	if err != nil {
		return err
	}
	var lv any
	if lvb != nil {
		if lv, err = p.leftVS.Deserialize(p.leftStore, nil, lvb); err != nil {
			return err
		}
	}
	var rv any
	if msg[8] == 1 {
		if rv, err = p.rightVS.Deserialize(p.rightStore, nil, msg[9:]); err != nil {
			return err
		}
	}
	res, err := p.result(ctx, key, lv, rv)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKeyValue(key, res))
}
