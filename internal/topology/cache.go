package topology

import (
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// recordCache holds back the updates of a materialized table whose store
// has caching on: only the latest update per key is forwarded, when the
// task commits (streams.CachingProcessor), in the order keys were last
// updated, as Kafka Streams' record cache does. With caching off every
// update is forwarded at once.
type recordCache struct {
	on      bool
	seq     int64
	pending map[string]cachedRecord
}

type cachedRecord struct {
	seq int64
	rec streams.Record
	// hadOld: the key had a value before this caching period; a tombstone
	// for a key that had none is not forwarded (Kafka Streams forwards a
	// flushed entry only when its new or old value is not null).
	hadOld bool
}

// forward forwards r now, or holds it under id (the serialized key, with
// the window for windowed tables) until the next flush.
func (c *recordCache) forward(ctx *streams.ProcessorContext, id []byte, r streams.Record) error {
	return c.forwardChange(ctx, id, r, true)
}

// forwardChange is forward for an update that knows whether the key had a
// value before it (hadOld).
func (c *recordCache) forwardChange(ctx *streams.ProcessorContext, id []byte, r streams.Record, hadOld bool) error {
	if !c.on {
		return ctx.Forward(r)
	}
	if c.pending == nil {
		c.pending = map[string]cachedRecord{}
	}
	c.seq++
	if prev, ok := c.pending[string(id)]; ok {
		hadOld = prev.hadOld
	}
	c.pending[string(id)] = cachedRecord{seq: c.seq, rec: r, hadOld: hadOld}
	return nil
}

// FlushCache forwards the held-back updates.
func (c *recordCache) FlushCache(ctx *streams.ProcessorContext) error {
	if len(c.pending) == 0 {
		return nil
	}
	recs := make([]cachedRecord, 0, len(c.pending))
	for _, r := range c.pending {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
	clear(c.pending)
	for _, r := range recs {
		if r.rec.Value == nil && !r.hadOld {
			continue
		}
		if err := ctx.Forward(r.rec); err != nil {
			return err
		}
	}
	return nil
}

// windowID is the cache id of a window of a key.
func windowID(kb []byte, start, end int64) []byte {
	out := make([]byte, 0, len(kb)+16)
	out = append(out, kb...)
	for _, t := range [2]int64{start, end} {
		for i := 7; i >= 0; i-- {
			out = append(out, byte(t>>(8*i)))
		}
	}
	return out
}
