package observability

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The instruments here reproduce the Dropwizard metrics that upstream KSML
// registers, so that the numbers behind upstream's series names mean the
// same: rates are exponentially weighted moving averages ticked every five
// seconds, and timer statistics come from a forward-decaying sample that
// favours the last five minutes. Only the behaviour is reproduced; the code
// is written from the published algorithms.

// Clock returns the current time. Tests inject a fake one so rates and
// decays are exact.
type Clock func() time.Time

const (
	tickInterval = 5 * time.Second
	// Reservoir size and decay of Dropwizard's default timer reservoir.
	reservoirSize   = 1028
	reservoirAlpha  = 0.015
	rescaleInterval = time.Hour
)

// ewma is an exponentially weighted moving average of events per tick.
type ewma struct {
	alpha       float64
	uncounted   int64
	rate        float64 // events per nanosecond
	initialized bool
}

func newEWMA(minutes float64) ewma {
	return ewma{alpha: 1 - math.Exp(-tickInterval.Seconds()/60/minutes)}
}

func (e *ewma) tick() {
	instant := float64(e.uncounted) / float64(tickInterval)
	e.uncounted = 0
	if e.initialized {
		e.rate += e.alpha * (instant - e.rate)
	} else {
		e.rate = instant
		e.initialized = true
	}
}

func (e *ewma) perSecond() float64 { return e.rate * float64(time.Second) }

// meter counts events and their rates. Callers hold the owner's lock.
type meter struct {
	count       int64
	start, last time.Time
	m1, m5, m15 ewma
}

func newMeter(now time.Time) meter {
	return meter{start: now, last: now, m1: newEWMA(1), m5: newEWMA(5), m15: newEWMA(15)}
}

// catchUp runs the ticks that elapsed since the last one, as Dropwizard
// does lazily on every mark and read.
func (m *meter) catchUp(now time.Time) {
	age := now.Sub(m.last)
	if age <= tickInterval {
		return
	}
	m.last = now.Add(-(age % tickInterval))
	for i := int64(0); i < int64(age/tickInterval); i++ {
		m.m1.tick()
		m.m5.tick()
		m.m15.tick()
	}
}

func (m *meter) mark(now time.Time, n int64) {
	m.catchUp(now)
	m.count += n
	m.m1.uncounted += n
	m.m5.uncounted += n
	m.m15.uncounted += n
}

// rates returns mean, 1-, 5- and 15-minute rates in events per second.
func (m *meter) rates(now time.Time) (mean, m1, m5, m15 float64) {
	m.catchUp(now)
	if m.count != 0 {
		if elapsed := now.Sub(m.start); elapsed > 0 {
			mean = float64(m.count) / elapsed.Seconds()
		}
	}
	return mean, m.m1.perSecond(), m.m5.perSecond(), m.m15.perSecond()
}

// Meter counts events and tracks their rate (user-defined meters).
type Meter struct {
	mu    sync.Mutex
	clock Clock
	m     meter
}

func newMeterInstrument(clock Clock) *Meter {
	return &Meter{clock: clock, m: newMeter(clock())}
}

// Mark records n events.
func (m *Meter) Mark(n int64) {
	if m == nil {
		return
	}
	now := m.clock()
	m.mu.Lock()
	m.m.mark(now, n)
	m.mu.Unlock()
}

// Record implements python.Instrument: v events (fractions are dropped, as
// upstream's mark takes a long).
func (m *Meter) Record(v float64) { m.Mark(int64(v)) }

type meterValues struct {
	count             int64
	mean, m1, m5, m15 float64
}

func (m *Meter) values() meterValues {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	v := meterValues{count: m.m.count}
	v.mean, v.m1, v.m5, v.m15 = m.m.rates(now)
	return v
}

// Counter is a value that goes up or down by whole steps (user-defined
// counters); upstream's counters take negative increments too.
type Counter struct{ n atomic.Int64 }

// Add adds delta.
func (c *Counter) Add(delta int64) {
	if c != nil {
		c.n.Add(delta)
	}
}

// Record implements python.Instrument: increment by v (fractions dropped).
func (c *Counter) Record(v float64) { c.Add(int64(v)) }

// Value returns the current count.
func (c *Counter) Value() int64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}

// sample is one reservoir entry.
type sample struct {
	value    int64
	weight   float64
	priority float64
}

// sampleHeap is a min-heap on priority: the root is the entry to evict.
type sampleHeap []sample

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].priority < h[j].priority }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(sample)) }
func (h *sampleHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// reservoir is a forward-decaying priority sample (Cormode et al.): every
// value gets weight exp(alpha*age-in-seconds) and priority weight/u for a
// uniform u, and the highest priorities are kept. Callers hold the owner's
// lock.
type reservoir struct {
	samples   sampleHeap
	start     time.Time // landmark of the weights, whole seconds
	nextScale time.Time
	rand      func() float64
	// weightSec and weight cache the weight of the current second, so a
	// busy timer computes math.Exp once a second rather than per sample.
	weightSec int64
	weight    float64
}

func newReservoir(now time.Time) reservoir {
	return reservoir{
		samples:   make(sampleHeap, 0, 16),
		start:     now.Truncate(time.Second),
		nextScale: now.Add(rescaleInterval),
		rand:      rand.Float64,
	}
}

func (r *reservoir) update(now time.Time, v int64) {
	r.rescaleIfDue(now)
	sec := now.Unix()
	if sec != r.weightSec || r.weight == 0 {
		r.weightSec, r.weight = sec, math.Exp(reservoirAlpha*float64(sec-r.start.Unix()))
	}
	w := r.weight
	u := 1 - r.rand() // (0, 1]
	s := sample{value: v, weight: w, priority: w / u}
	if len(r.samples) < reservoirSize {
		heap.Push(&r.samples, s)
		return
	}
	if r.samples[0].priority < s.priority {
		r.samples[0] = s
		heap.Fix(&r.samples, 0)
	}
}

// rescaleIfDue moves the landmark forward every hour so weights stay
// finite; relative weights are unchanged.
func (r *reservoir) rescaleIfDue(now time.Time) {
	if now.Before(r.nextScale) {
		return
	}
	r.nextScale = now.Add(rescaleInterval)
	r.weight = 0 // the landmark moves: recompute
	old := r.start
	r.start = now.Truncate(time.Second)
	factor := math.Exp(-reservoirAlpha * float64(r.start.Unix()-old.Unix()))
	if factor == 0 {
		r.samples = r.samples[:0]
		return
	}
	for i := range r.samples {
		r.samples[i].weight *= factor
		r.samples[i].priority *= factor
	}
}

// snapshot holds a reservoir's values sorted, with normalized weights.
type snapshot struct {
	values    []int64
	weights   []float64 // normalized
	quantiles []float64 // cumulative weight before each value
}

// samplesAt returns a copy of the samples for a snapshot taken at now.
func (r *reservoir) samplesAt(now time.Time) []sample {
	r.rescaleIfDue(now)
	return slices.Clone(r.samples)
}

// makeSnapshot sorts ss (owned by the caller) by value. Samples with equal
// values may come in any order: they select the same value and add up to
// the same mean.
func makeSnapshot(ss []sample) snapshot {
	slices.SortFunc(ss, func(a, b sample) int {
		switch {
		case a.value < b.value:
			return -1
		case a.value > b.value:
			return 1
		}
		return 0
	})
	var sum float64
	for _, s := range ss {
		sum += s.weight
	}
	out := snapshot{values: make([]int64, len(ss)), weights: make([]float64, len(ss)), quantiles: make([]float64, len(ss))}
	for i, s := range ss {
		out.values[i] = s.value
		if sum != 0 {
			out.weights[i] = s.weight / sum
		}
		if i > 0 {
			out.quantiles[i] = out.quantiles[i-1] + out.weights[i-1]
		}
	}
	return out
}

// quantile returns the value at quantile q in [0,1] of the weighted sample.
func (s snapshot) quantile(q float64) float64 {
	n := len(s.values)
	if n == 0 {
		return 0
	}
	i := sort.SearchFloat64s(s.quantiles, q)
	if i >= n || s.quantiles[i] != q {
		i-- // not an exact hit: the entry whose range holds q
	}
	if i < 1 {
		return float64(s.values[0])
	}
	return float64(s.values[i])
}

func (s snapshot) minMax() (lo, hi float64) {
	if len(s.values) == 0 {
		return 0, 0
	}
	return float64(s.values[0]), float64(s.values[len(s.values)-1])
}

func (s snapshot) mean() float64 {
	var m float64
	for i, v := range s.values {
		m += float64(v) * s.weights[i]
	}
	return m
}

func (s snapshot) stddev() float64 {
	if len(s.values) <= 1 {
		return 0
	}
	mean := s.mean()
	var variance float64
	for i, v := range s.values {
		d := float64(v) - mean
		variance += s.weights[i] * d * d
	}
	return math.Sqrt(variance)
}

// Timer records durations: their count and rate, and statistics of recent
// durations (function execution times, user-defined timers).
type Timer struct {
	mu    sync.Mutex
	clock Clock
	m     meter
	r     reservoir
}

func newTimer(clock Clock) *Timer {
	now := clock()
	return &Timer{clock: clock, m: newMeter(now), r: newReservoir(now)}
}

// Observe records one duration; negative durations are ignored, as
// upstream's timers ignore them.
func (t *Timer) Observe(d time.Duration) {
	if t == nil || d < 0 {
		return
	}
	t.observeAt(t.clock(), d)
}

func (t *Timer) observeAt(now time.Time, d time.Duration) {
	t.mu.Lock()
	t.r.update(now, int64(d))
	t.m.mark(now, 1)
	t.mu.Unlock()
}

// Record implements python.Instrument: v is a duration in nanoseconds.
func (t *Timer) Record(v float64) { t.Observe(time.Duration(v)) }

// Since records the time elapsed since start, for `defer t.Since(start)`
// style timing. It uses the timer's clock.
func (t *Timer) Since(start time.Time) {
	if t == nil {
		return
	}
	now := t.clock()
	if d := now.Sub(start); d >= 0 {
		t.observeAt(now, d)
	}
}

type timerValues struct {
	meterValues
	snap snapshot
}

func (t *Timer) values() timerValues {
	now := t.clock()
	t.mu.Lock()
	v := timerValues{meterValues: meterValues{count: t.m.count}}
	v.mean, v.m1, v.m5, v.m15 = t.m.rates(now)
	ss := t.r.samplesAt(now)
	t.mu.Unlock()
	// Sorting happens outside the lock so a scrape does not stall the
	// functions being timed.
	v.snap = makeSnapshot(ss)
	return v
}
