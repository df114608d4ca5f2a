package runner

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
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
	lags sync.Map // lagKey -> int64, the last reported lag per partition
}

type lagKey struct {
	topic     string
	partition int32
}

// Lag implements kafkaio.LagObserver: the records between the position and
// the end of a partition after its last fetch.
func (c *Counters) Lag(topic string, partition int32, lag int64) {
	c.lags.Store(lagKey{topic, partition}, lag)
}

// LagRemoved implements kafkaio.LagObserver: the partition was revoked.
func (c *Counters) LagRemoved(topic string, partition int32) {
	c.lags.Delete(lagKey{topic, partition})
}

// PartitionLag is the last reported lag of one assigned partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	Lag       int64
}

// Lags returns the last reported lag of every assigned partition, in no
// particular order.
func (c *Counters) Lags() []PartitionLag {
	var out []PartitionLag
	c.lags.Range(func(k, v any) bool {
		key := k.(lagKey)
		out = append(out, PartitionLag{Topic: key.topic, Partition: key.partition, Lag: v.(int64)})
		return true
	})
	return out
}

// TotalLag is the sum of the last reported lag of every assigned
// partition.
func (c *Counters) TotalLag() int64 {
	var sum int64
	c.lags.Range(func(_, v any) bool { sum += v.(int64); return true })
	return sum
}

// Totals sums the counters over topics: consumed, produced and failed (all
// kinds).
func (c *Counters) Totals() (consumed, produced, failed int64) {
	c.byID.Range(func(k, n any) bool {
		v := n.(*atomic.Int64).Load()
		switch what := k.(counterKey).what; {
		case what == "consumed":
			consumed += v
		case what == "produced":
			produced += v
		case strings.HasPrefix(what, "failed."):
			failed += v
		}
		return true
	})
	return
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
