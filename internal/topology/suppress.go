package topology

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// suppressProc holds back table updates, as Kafka Streams' suppress does:
// with untilWindowCloses a windowed result is emitted once, when stream
// time passes the window's end plus its grace (for sessions also the
// inactivity gap), and tombstones are dropped; with untilTimeLimit the
// latest update per key is emitted once stream time passes the time of the
// update plus the limit. A buffer over maxRecords or maxBytes emits its
// oldest entries early, or fails with shutdownWhenFull.
//
// The buffer is mirrored in a logged store, so held-back updates survive a
// restart: entries are "key bytes -> buffer time | record time | value
// bytes", loaded at the first record after the store was restored.
type suppressProc struct {
	store            string
	st               streams.KeyValueStore
	loaded           bool
	ks, vs           streams.Serde
	untilClose       bool
	w                windowSpec
	limit            int64
	maxRecords       int64
	maxBytes         int64
	shutdownWhenFull bool

	buf   map[string]*suppressed
	seq   int64
	bytes int64
	// observed is the highest timestamp of the records this processor has
	// seen: Kafka Streams' suppress closes windows and ends time limits by
	// its own observed time, not the task's stream time (the records here
	// carry their aggregates' timestamps).
	observed int64
}

type suppressed struct {
	id string
	// order breaks ties between equal buffer times as Kafka Streams'
	// buffer does: by the bytes of the key (windowed keys: the key, then
	// the window's start; sessions: the key, end, start).
	order string
	time  int64 // buffer time: window end or record time
	seq   int64
	rec   streams.Record
	size  int64
}

func (p *suppressProc) Init(ctx *streams.ProcessorContext) error {
	p.buf = map[string]*suppressed{}
	p.observed = -1
	s, err := ctx.Store(p.store)
	if err != nil {
		return err
	}
	p.st = s.(streams.KeyValueStore)
	return nil
}

func encodeSuppressed(e *suppressed, vb []byte) []byte {
	out := make([]byte, 16, 16+len(vb))
	binary.BigEndian.PutUint64(out, uint64(e.time))
	binary.BigEndian.PutUint64(out[8:], uint64(e.rec.Timestamp))
	return append(out, vb...)
}

// load fills the buffer from the store (after a restore).
func (p *suppressProc) load() error {
	p.loaded = true
	var ferr error
	err := p.st.Range(nil, nil, false, func(k, v []byte) bool {
		if len(v) < 16 {
			ferr = fmt.Errorf("store %q: malformed buffer entry", p.store)
			return false
		}
		key, err := p.ks.Deserialize("", nil, k)
		if err != nil {
			ferr = err
			return false
		}
		var val any
		if len(v) > 16 {
			if val, err = p.vs.Deserialize("", nil, v[16:]); err != nil {
				ferr = err
				return false
			}
		}
		p.seq++
		e := &suppressed{id: string(k), order: bufferOrder(key, k, p.w.kind == "session"), time: int64(binary.BigEndian.Uint64(v)), seq: p.seq,
			rec: streams.Record{Key: key, Value: val, Timestamp: int64(binary.BigEndian.Uint64(v[8:]))}, size: int64(len(k) + len(v))}
		p.buf[e.id] = e
		p.bytes += e.size
		return true
	})
	return firstErr(err, ferr)
}

func (p *suppressProc) Close() error { return nil }

// wait is how long after its buffer time an entry is held.
func (p *suppressProc) wait() int64 {
	if !p.untilClose {
		return p.limit
	}
	if p.w.kind == "session" {
		return p.w.gap + p.w.grace
	}
	return p.w.grace
}

func (p *suppressProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, err := resolved(r.Key)
	if err != nil {
		return err
	}
	kb, err := p.ks.Serialize("", nil, key)
	if err != nil {
		return err
	}
	id := string(kb)
	t := r.Timestamp
	if t > p.observed {
		p.observed = t
	}
	if p.untilClose {
		w, ok := key.(types.Windowed)
		if !ok {
			return fmt.Errorf("suppress until windowCloses needs windowed keys, got %s", types.KindName(key))
		}
		t = w.End
	}
	if !p.loaded {
		if err := p.load(); err != nil {
			return err
		}
	}
	vb, err := p.vs.Serialize("", nil, r.Value)
	if err != nil {
		return err
	}
	p.seq++
	e := &suppressed{id: id, order: bufferOrder(key, kb, p.w.kind == "session"), time: t, seq: p.seq, rec: r.WithKey(key)}
	if old, ok := p.buf[id]; ok {
		// A key already held keeps its place (and buffer time): Kafka
		// Streams' buffer does not reset it on updates.
		e.time, e.seq = old.time, old.seq
		p.bytes -= old.size
		delete(p.buf, id)
	}
	enc := encodeSuppressed(e, vb)
	e.size = int64(len(kb) + len(enc))
	if err := p.st.Put(kb, enc); err != nil {
		return err
	}
	p.buf[id] = e
	p.bytes += e.size
	return p.enforce(ctx)
}

// bufferOrder is the tie-break order of a buffered key: kb, or for a
// windowed key with a string key Kafka Streams' windowed key layout.
func bufferOrder(key any, kb []byte, session bool) string {
	w, ok := key.(types.Windowed)
	if !ok {
		return string(kb)
	}
	s, ok := w.Key.(string)
	if !ok {
		return string(kb)
	}
	b := []byte(s)
	if session {
		b = binary.BigEndian.AppendUint64(b, uint64(w.End))
	}
	return string(binary.BigEndian.AppendUint64(b, uint64(w.Start)))
}

func (p *suppressProc) enforce(ctx *streams.ProcessorContext) error {
	expiry := p.observed - p.wait()
	entries := make([]*suppressed, 0, len(p.buf))
	for _, e := range p.buf {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].time != entries[j].time {
			return entries[i].time < entries[j].time
		}
		return entries[i].order < entries[j].order
	})
	for _, e := range entries {
		over := p.maxRecords > 0 && int64(len(p.buf)) > p.maxRecords || p.maxBytes > 0 && p.bytes > p.maxBytes
		if e.time > expiry && !over {
			break
		}
		if e.time > expiry && p.shutdownWhenFull {
			return fmt.Errorf("suppress buffer is full (%d records, %d bytes) and bufferFullStrategy is shutdownWhenFull", len(p.buf), p.bytes)
		}
		delete(p.buf, e.id)
		p.bytes -= e.size
		if _, err := p.st.Delete([]byte(e.id)); err != nil {
			return err
		}
		if e.rec.Value == nil && p.untilClose {
			continue // final results drop tombstones
		}
		if err := ctx.Forward(e.rec); err != nil {
			return err
		}
	}
	return nil
}
