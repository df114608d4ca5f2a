package topology

import (
	"sort"

	"ksml/internal/streams"
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
}

// forward forwards r now, or holds it under id (the serialized key, with
// the window for windowed tables) until the next flush.
func (c *recordCache) forward(ctx *streams.ProcessorContext, id []byte, r streams.Record) error {
	if !c.on {
		return ctx.Forward(r)
	}
	if c.pending == nil {
		c.pending = map[string]cachedRecord{}
	}
	c.seq++
	c.pending[string(id)] = cachedRecord{seq: c.seq, rec: r}
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
