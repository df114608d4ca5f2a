package runner

import (
	"sort"
	"sync"
	"sync/atomic"

	"ksml/internal/streams/kafkaio"
)

// State is the lifecycle state of a Runner, with upstream's names (the
// health endpoints report them).
type State string

// The states. A runner moves CREATED -> STARTING -> STARTED -> STOPPING ->
// STOPPED, or to FAILED from any state when it stops on an error.
const (
	Created  State = "CREATED"
	Starting State = "STARTING"
	Started  State = "STARTED"
	Stopping State = "STOPPING"
	Stopped  State = "STOPPED"
	Failed   State = "FAILED"
)

type stateBox struct{ v atomic.Value }

func (s *stateBox) get() State {
	if v, ok := s.v.Load().(State); ok {
		return v
	}
	return Created
}

func (s *stateBox) set(st State) { s.v.Store(st) }

// Counters counts records per topic: consumed from source topics, produced
// to output topics (by pipelines and producers) and failed per error kind.
// It implements kafkaio.Observer and is safe for concurrent use; counting is
// a lock-free map read and an atomic add once a counter exists.
type Counters struct {
	byID sync.Map // counterKey -> *atomic.Int64
}

type counterKey struct {
	what  string // consumed, produced, or failed.<kind>
	topic string
}

// Count is one counter value.
type Count struct {
	What  string // "consumed", "produced", "failed.consume", "failed.process", "failed.produce"
	Topic string
	N     int64
}

// NewCounters returns empty counters.
func NewCounters() *Counters { return &Counters{} }

func (c *Counters) counter(what, topic string) *atomic.Int64 {
	k := counterKey{what, topic}
	if n, ok := c.byID.Load(k); ok {
		return n.(*atomic.Int64)
	}
	n, _ := c.byID.LoadOrStore(k, new(atomic.Int64))
	return n.(*atomic.Int64)
}

// Consumed implements kafkaio.Observer.
func (c *Counters) Consumed(topic string) { c.counter("consumed", topic).Add(1) }

// ConsumedN implements kafkaio.BatchObserver: n records of topic consumed.
func (c *Counters) ConsumedN(topic string, n int) { c.counter("consumed", topic).Add(int64(n)) }

// Produced implements kafkaio.Observer.
func (c *Counters) Produced(topic string) { c.counter("produced", topic).Add(1) }

// Failed implements kafkaio.Observer.
func (c *Counters) Failed(kind kafkaio.ErrorKind, topic string) {
	c.counter("failed."+string(kind), topic).Add(1)
}

// Get returns one counter ("consumed", "produced", "failed.process", ...).
func (c *Counters) Get(what, topic string) int64 {
	if n, ok := c.byID.Load(counterKey{what, topic}); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// Snapshot returns every counter, sorted by what and topic.
func (c *Counters) Snapshot() []Count {
	var out []Count
	c.byID.Range(func(k, n any) bool {
		key := k.(counterKey)
		out = append(out, Count{What: key.what, Topic: key.topic, N: n.(*atomic.Int64).Load()})
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].What != out[j].What {
			return out[i].What < out[j].What
		}
		return out[i].Topic < out[j].Topic
	})
	return out
}
