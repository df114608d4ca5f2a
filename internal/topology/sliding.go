package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// slidingAggregateProc aggregates over sliding windows with Kafka Streams'
// algorithm: every record has a left window [ts-d, ts] and, when later
// records fall within d of it, a right window [ts+1, ts+1+d]; a record
// updates every existing window it falls in and creates its own windows
// from the aggregates found next to it. Windows are inclusive at both ends.
// Store values carry the highest record timestamp of the window in front of
// the aggregate, which decides which windows exist.
type slidingAggregateProc struct {
	*aggFuncs
	recordCache
	windowStoreAccess
	d, grace  int64
	retention int64
	observed  int64
	expiry    expiry
}

type slidingAgg struct {
	value any
	ts    int64
}

func (p *slidingAggregateProc) Init(ctx *streams.ProcessorContext) error {
	p.observed = -1
	return p.windowStoreAccess.Init(ctx)
}

type slidingWindow struct {
	start int64
	agg   slidingAgg
}

// windows returns the windows of key with start in [from, to], latest first.
func (p *slidingAggregateProc) windows(kb []byte, from, to int64) ([]slidingWindow, error) {
	var out []slidingWindow
	var ferr error
	err := p.st.st.FetchRange(kb, kb, from, to, true, func(_ []byte, start int64, b []byte) bool {
		ts, vb, ok := streams.SplitTimestamp(b)
		if !ok {
			ferr = fmt.Errorf("store %q: malformed sliding window value", p.store)
			return false
		}
		v, err := p.st.decode(vb)
		if err != nil {
			ferr = err
			return false
		}
		out = append(out, slidingWindow{start, slidingAgg{v, ts}})
		return true
	})
	return out, firstErr(err, ferr)
}

func (p *slidingAggregateProc) put(ctx *streams.ProcessorContext, r streams.Record, key any, kb []byte, start int64, agg slidingAgg) error {
	vb, err := p.st.encode(agg.value)
	if err != nil {
		return err
	}
	if err := p.st.st.Put(kb, start, streams.WithTimestamp(agg.ts, vb)); err != nil {
		return err
	}
	out := streams.Record{Key: types.Windowed{Key: key, Start: start, End: start + p.d}, Value: agg.value, Timestamp: agg.ts, Headers: r.Headers}
	return p.forward(ctx, windowID(kb, start, start+p.d), out)
}

// update adds the record to a window (old may be the initial aggregate).
func (p *slidingAggregateProc) update(ctx *streams.ProcessorContext, r streams.Record, key any, kb []byte, start int64, old *slidingAgg, closeTime int64) error {
	if start+p.d < closeTime {
		DroppedRecords.drop(ctx, "expired window", "window", fmt.Sprintf("[%d,%d]", start, start+p.d), "expiration", closeTime)
		return nil
	}
	var oldValue any
	ts := r.Timestamp
	if old != nil {
		oldValue = old.value
		if oldValue != nil {
			ts = max(ts, old.ts)
		}
	}
	v, err := p.apply(ctx, key, r.Value, oldValue)
	if err != nil {
		return err
	}
	return p.put(ctx, r, key, kb, start, slidingAgg{v, ts})
}

func (p *slidingAggregateProc) initialAgg(ctx *streams.ProcessorContext, ts int64) (*slidingAgg, error) {
	v, err := p.initial(ctx)
	if err != nil {
		return nil, err
	}
	return &slidingAgg{v, ts}, nil
}

func (p *slidingAggregateProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	key, err := resolved(r.Key)
	if err != nil {
		return err
	}
	if key == nil || r.Value == nil {
		DroppedRecords.drop(ctx, "null key or value")
		return nil
	}
	ts := r.Timestamp
	p.observed = max(p.observed, ts)
	closeTime := p.observed - p.grace
	if ts+1+p.d <= closeTime {
		DroppedRecords.drop(ctx, "expired window", "window", fmt.Sprintf("[%d,%d]", ts-p.d, ts), "expiration", closeTime)
		return nil
	}
	kb, err := p.st.keyBytes(key)
	if err != nil {
		return err
	}
	if ts < p.d {
		err = p.processEarly(ctx, r, key, kb, closeTime)
	} else {
		err = p.processReverse(ctx, r, key, kb, closeTime)
	}
	if err != nil {
		return err
	}
	if cutoff := p.observed - p.retention; p.expiry.due(cutoff, p.retention) {
		return p.st.st.ExpireBefore(cutoff)
	}
	return nil
}

func (p *slidingAggregateProc) processReverse(ctx *streams.ProcessorContext, r streams.Record, key any, kb []byte, closeTime int64) error {
	ts := r.Timestamp
	starts := map[int64]bool{}
	var leftAgg, rightAgg *slidingAgg
	leftCreated, rightCreated := false, false
	var prevTS *int64
	wins, err := p.windows(kb, max(0, ts-2*p.d), ts+1)
	if err != nil {
		return err
	}
loop:
	for i := range wins {
		w := &wins[i]
		starts[w.start] = true
		end := w.start + p.d
		switch {
		case w.start == ts+1:
			rightCreated = true
		case end > ts:
			if rightAgg == nil {
				rightAgg = &w.agg
			}
			if err := p.update(ctx, r, key, kb, w.start, &w.agg, closeTime); err != nil {
				return err
			}
		case end == ts:
			leftCreated = true
			if err := p.update(ctx, r, key, kb, w.start, &w.agg, closeTime); err != nil {
				return err
			}
			if w.agg.ts < ts {
				t := w.agg.ts
				prevTS = &t
			} else {
				return nil
			}
		default: // end < ts
			leftAgg = &w.agg
			t := w.agg.ts
			prevTS = &t
			break loop
		}
	}
	return p.createWindows(ctx, r, key, kb, closeTime, starts, rightAgg, leftAgg, leftCreated, rightCreated, prevTS)
}

func (p *slidingAggregateProc) createWindows(ctx *streams.ProcessorContext, r streams.Record, key any, kb []byte, closeTime int64,
	starts map[int64]bool, rightAgg, leftAgg *slidingAgg, leftCreated, rightCreated bool, prevTS *int64) error {
	ts := r.Timestamp
	if prevTS != nil {
		prevRight := *prevTS + 1
		if !starts[prevRight] && prevRight+p.d >= ts {
			init, err := p.initialAgg(ctx, ts)
			if err != nil {
				return err
			}
			if err := p.update(ctx, r, key, kb, prevRight, init, closeTime); err != nil {
				return err
			}
		}
	}
	if !leftCreated {
		var agg *slidingAgg
		if prevTS != nil && ts-p.d <= *prevTS {
			agg = &slidingAgg{leftAgg.value, ts}
		} else {
			var err error
			if agg, err = p.initialAgg(ctx, ts); err != nil {
				return err
			}
		}
		if err := p.update(ctx, r, key, kb, ts-p.d, agg, closeTime); err != nil {
			return err
		}
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		return p.put(ctx, r, key, kb, ts+1, *rightAgg)
	}
	return nil
}

// processEarly handles records earlier than the window size: they share
// the window [0, d] instead of windows with negative starts.
func (p *slidingAggregateProc) processEarly(ctx *streams.ProcessorContext, r streams.Record, key any, kb []byte, closeTime int64) error {
	ts := r.Timestamp
	starts := map[int64]bool{}
	var combined *slidingWindow
	var rightAgg *slidingAgg
	rightCreated := false
	var prevTS *int64
	wins, err := p.windows(kb, 0, ts+1)
	if err != nil {
		return err
	}
	// The forward order of Kafka Streams' early-record pass.
	for i, j := 0, len(wins)-1; i < j; i, j = i+1, j-1 {
		wins[i], wins[j] = wins[j], wins[i]
	}
	for i := range wins {
		w := &wins[i]
		starts[w.start] = true
		switch {
		case w.start == 0:
			combined = w
			if w.agg.ts < ts {
				t := w.agg.ts
				prevTS = &t
			}
		case w.start <= ts:
			rightAgg = &w.agg
			if err := p.update(ctx, r, key, kb, w.start, &w.agg, closeTime); err != nil {
				return err
			}
		case w.start == ts+1:
			rightCreated = true
		}
	}
	if rightAgg == nil && combined != nil && combined.agg.ts > ts {
		rightAgg = &combined.agg
	}
	if !rightCreated && rightAgg != nil && rightAgg.ts > ts {
		if err := p.put(ctx, r, key, kb, ts+1, *rightAgg); err != nil {
			return err
		}
	}
	if prevTS != nil && !starts[*prevTS+1] {
		init, err := p.initialAgg(ctx, ts)
		if err != nil {
			return err
		}
		if err := p.update(ctx, r, key, kb, *prevTS+1, init, closeTime); err != nil {
			return err
		}
	}
	if combined == nil {
		init, err := p.initialAgg(ctx, ts)
		if err != nil {
			return err
		}
		return p.update(ctx, r, key, kb, 0, init, closeTime)
	}
	return p.update(ctx, r, key, kb, 0, &combined.agg, closeTime)
}
