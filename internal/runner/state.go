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
// It implements kafkaio.Observer and is safe for concurrent use.
type Counters struct {
	mu   sync.Mutex
	byID map[counterKey]*atomic.Int64
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
func NewCounters() *Counters { return &Counters{byID: map[counterKey]*atomic.Int64{}} }

func (c *Counters) counter(what, topic string) *atomic.Int64 {
	k := counterKey{what, topic}
	c.mu.Lock()
	n := c.byID[k]
	if n == nil {
		n = new(atomic.Int64)
		c.byID[k] = n
	}
	c.mu.Unlock()
	return n
}

// Consumed implements kafkaio.Observer.
func (c *Counters) Consumed(topic string) { c.counter("consumed", topic).Add(1) }

// Produced implements kafkaio.Observer.
func (c *Counters) Produced(topic string) { c.counter("produced", topic).Add(1) }

// Failed implements kafkaio.Observer.
func (c *Counters) Failed(kind kafkaio.ErrorKind, topic string) {
	c.counter("failed."+string(kind), topic).Add(1)
}

// Get returns one counter ("consumed", "produced", "failed.process", ...).
func (c *Counters) Get(what, topic string) int64 {
	c.mu.Lock()
	n := c.byID[counterKey{what, topic}]
	c.mu.Unlock()
	if n == nil {
		return 0
	}
	return n.Load()
}

// Snapshot returns every counter, sorted by what and topic.
func (c *Counters) Snapshot() []Count {
	c.mu.Lock()
	out := make([]Count, 0, len(c.byID))
	for k, n := range c.byID {
		out = append(out, Count{What: k.what, Topic: k.topic, N: n.Load()})
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].What != out[j].What {
			return out[i].What < out[j].What
		}
		return out[i].Topic < out[j].Topic
	})
	return out
}
