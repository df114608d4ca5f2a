package streams

import (
	"sync/atomic"
	"time"
)

// latencySampleMask selects the records whose time in a node is measured:
// one in 64, starting with the first (so a slow stream shows a latency
// early). Reading the clock twice per node per record would cost more
// than the rest of the bookkeeping; a sample gives the same mean.
const latencySampleMask = 63

// NodeStats counts what passes through one node, summed over every task
// that runs it. Counting is one uncontended atomic add per record; the
// console and the metrics read the totals while tasks process.
type NodeStats struct {
	records      atomic.Int64
	errors       atomic.Int64
	sampled      atomic.Int64
	sampledNanos atomic.Int64
}

// NodeCounts is a snapshot of NodeStats.
type NodeCounts struct {
	// Records is the number of records the node received.
	Records int64
	// Errors is the number of records that failed in this node (not in
	// the nodes after it), deserialization failures counting at the
	// source.
	Errors int64
	// Sampled records were timed; SampledNanos is their total time in the
	// node, including the nodes downstream of it that they were forwarded
	// to (processing is depth first).
	Sampled, SampledNanos int64
}

// Snapshot returns the current totals.
func (s *NodeStats) Snapshot() NodeCounts {
	return NodeCounts{Records: s.records.Load(), Errors: s.errors.Load(),
		Sampled: s.sampled.Load(), SampledNanos: s.sampledNanos.Load()}
}

// begin counts a record arriving at the node and returns the time to
// measure from, zero when this record is not sampled.
func (s *NodeStats) begin() time.Time {
	if (s.records.Add(1)-1)&latencySampleMask != 0 {
		return time.Time{}
	}
	return time.Now()
}

// end records the time of a sampled record.
func (s *NodeStats) end(start time.Time) {
	if start.IsZero() {
		return
	}
	s.sampled.Add(1)
	s.sampledNanos.Add(int64(time.Since(start)))
}
