package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Collector is a streams.RecordCollector on a franz-go producer. Send picks
// the partition (Kafka's default partitioner for keyed records, round robin
// for null keys, or the partition the caller chose) and produces
// asynchronously; Flush waits for every record sent so far and reports the
// first delivery failure since the previous Flush. It is safe for concurrent
// use.
//
// Delivery promises never produce: franz-go runs them on its own goroutine
// and a Produce there blocks for buffer space that only finished promises
// free, a deadlock once the buffer is full (MaxBufferedRecords). A failed
// delivery is queued instead, and the engine's goroutine applies the
// produce handler to it (retry, resend, dead letter: RetryPending, and
// Flush until nothing is left).
type Collector struct {
	// cur is the producing client and its delivery promise. The engine
	// replaces it (setClient) when it starts over with a new client;
	// failures the old client reports afterwards are not handled.
	cur      atomic.Pointer[producer]
	topics   *Topics
	ctx      context.Context
	observer Observer
	produce  *Handler
	log      func(rerr *RecordError, key, value []byte)

	mu     sync.Mutex
	failed error // first unhandled delivery failure since the last Flush
	// pending are delivery failures a promise left for the sending
	// goroutine to handle.
	pending []failedRecord
	// acked is the offset of the last acknowledged record per changelog
	// partition, for the tasks' checkpoints.
	acked map[tp]int64

	// flushCtx, when set, bounds Flush: a stop request interrupts a
	// flush that waits for an unreachable broker (see bindFlush).
	flushCtx context.Context

	sent atomic.Int64
	// aborting is set while a transaction is aborted on purpose: the
	// records it fails are not errors.
	aborting atomic.Bool
}

func (c *Collector) expectAborts(on bool) { c.aborting.Store(on) }

// clearErr forgets the failure and the queued retries of an aborted
// transaction: its records are processed again from the last commit.
func (c *Collector) clearErr() {
	c.mu.Lock()
	c.failed = nil
	c.pending = nil
	c.mu.Unlock()
}

// NewCollector returns a collector producing with cl. Delivery failures are
// handled by produce: logged, and with Continue dropped; with Stop or when
// retries are exhausted they are returned by the next Flush.
func NewCollector(ctx context.Context, cl *kgo.Client, topics *Topics, produce *Handler, observer Observer, log func(*RecordError, []byte, []byte)) *Collector {
	c := &Collector{topics: topics, ctx: ctx, observer: observer, produce: produce, log: log, acked: map[tp]int64{}}
	c.setClient(cl)
	return c
}

// producer is a client with the promise its records are produced with:
// the promise knows which client delivered, so failures of a replaced
// client are told apart from the current one's.
type producer struct {
	cl      *kgo.Client
	promise func(*kgo.Record, error)
}

// setClient makes cl the producing client and forgets the failures of the
// previous one, handled or not: their records' input is processed again
// from the last commit. The previous client's records that fail later are
// ignored (delivered), so none is retried, resent or dead-lettered with
// the new client, and none makes the engine start over a second time.
func (c *Collector) setClient(cl *kgo.Client) {
	p := &producer{cl: cl}
	p.promise = func(r *kgo.Record, err error) { c.delivered(p, r, err) }
	c.mu.Lock()
	c.cur.Store(p)
	c.failed = nil
	c.pending = nil
	c.mu.Unlock()
}

// client returns the producing client and its promise.
func (c *Collector) client() *producer { return c.cur.Load() }

// Partitions implements streams.RecordCollector.
func (c *Collector) Partitions(topic string) (int, error) {
	return c.topics.Partitions(c.ctx, topic)
}

// Send implements streams.RecordCollector.
func (c *Collector) Send(topic string, partition int32, key, value []byte, timestamp int64, headers []streams.Header) error {
	r, err := c.record(topic, partition, key, value, timestamp, headers)
	if err != nil {
		return err
	}
	c.sent.Add(1)
	p := c.client()
	p.cl.Produce(c.ctx, r, p.promise)
	return nil
}

func (c *Collector) record(topic string, partition int32, key, value []byte, timestamp int64, headers []streams.Header) (*kgo.Record, error) {
	info := c.topics.lookup(topic)
	if info == nil {
		if _, err := c.topics.Partitions(c.ctx, topic); err != nil {
			return nil, err
		}
		info = c.topics.lookup(topic)
	}
	n := info.partitions
	switch {
	case partition >= n:
		return nil, fmt.Errorf("partition %d does not exist: topic %q has %d partitions", partition, topic, n)
	case partition >= 0:
	case key != nil:
		partition = streams.DefaultPartition(key, int(n))
	default:
		partition = int32(atomic.AddUint32(&info.next, 1) % uint32(n))
	}
	r := &kgo.Record{Topic: topic, Partition: partition, Key: key, Value: value}
	if timestamp >= 0 {
		r.Timestamp = timeFromMillis(timestamp)
	}
	if len(headers) > 0 {
		r.Headers = make([]kgo.RecordHeader, len(headers))
		for i, h := range headers {
			r.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
	}
	return r, nil
}

// retryKey marks a record's context with its retry count.
type retryKey struct{}

func (c *Collector) delivered(p *producer, r *kgo.Record, err error) {
	if err == nil {
		if strings.HasSuffix(r.Topic, changelogSuffix) {
			c.mu.Lock()
			k := tp{r.Topic, r.Partition}
			if prev, ok := c.acked[k]; !ok || r.Offset > prev {
				c.acked[k] = r.Offset
			}
			c.mu.Unlock()
		}
		if c.observer != nil {
			c.observer.Produced(r.Topic)
		}
		return
	}
	if errors.Is(err, kgo.ErrAborting) && c.aborting.Load() {
		return
	}
	if errors.Is(err, kgo.ErrClientClosed) || c.client() != p {
		// The client was closed after the final commit, or replaced
		// (resetClient): the record's input is processed again from the
		// last commit.
		return
	}
	if dlq, _ := r.Context.Value(deadLetterKey{}).(*RecordError); dlq != nil {
		// A dead letter that cannot be written would be lost: stop.
		c.fail(fmt.Errorf("writing the record that failed (%w) to dead-letter topic %q: %w", dlq, r.Topic, err))
		return
	}
	if c.ctx.Err() != nil {
		c.fail(fmt.Errorf("producing to topic %q: %w", r.Topic, err))
		return
	}
	// What follows may produce (a retry, a resend, a dead letter) or ask
	// the broker (a topic's size limit): never here, on franz-go's promise
	// goroutine, but on the goroutine that sends (RetryPending).
	c.mu.Lock()
	if c.client() == p { // checked again under mu: setClient clears pending under mu
		c.pending = append(c.pending, failedRecord{r, err})
	}
	c.mu.Unlock()
}

// failedRecord is a delivery failure waiting for the sending goroutine.
type failedRecord struct {
	r   *kgo.Record
	err error
}

// handleFailure applies the produce handler to a record the broker or the
// producer rejected: resend, retry, log, dead-letter, fail. It runs on the
// goroutine that sends (RetryPending).
func (c *Collector) handleFailure(r *kgo.Record, err error) {
	if c.resendIfCollateral(r, err) {
		return
	}
	if transient(err) {
		// Not the record's fault: the engine starts over from the last
		// commit (under exactly_once_v2 by aborting the transaction).
		c.fail(&undelivered{topic: r.Topic, err: err})
		return
	}
	rerr := &RecordError{Kind: ProduceError, Topic: r.Topic, Partition: r.Partition, Offset: -1, Timestamp: r.Timestamp.UnixMilli(), Err: err}
	if c.observer != nil {
		c.observer.Failed(ProduceError, r.Topic)
	}
	h := c.produce
	if h.Action == Retry {
		n, _ := r.Context.Value(retryKey{}).(int)
		limit := h.Retries
		if limit <= 0 {
			limit = 5
		}
		if n < limit {
			r.Context = context.WithValue(c.ctx, retryKey{}, n+1)
			p := c.client()
			p.cl.Produce(r.Context, r, p.promise)
			return
		}
	}
	rerr.Err = explainProduceError(c.client().cl, r, err)
	if c.log != nil {
		c.log(rerr, r.Key, r.Value)
	}
	if h.DeadLetterTopic != "" {
		c.deadLetter(h.DeadLetterTopic, r, rerr)
	}
	if h.Action != Continue {
		c.fail(rerr)
	}
}

func (c *Collector) fail(err error) {
	c.mu.Lock()
	if c.failed == nil {
		c.failed = err
	}
	c.mu.Unlock()
}

const changelogSuffix = "-changelog"

// LastOffset implements streams.ChangelogOffsets for changelog topics: the
// offset of the last record acknowledged on the partition.
func (c *Collector) LastOffset(topic string, partition int32) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	off, ok := c.acked[tp{topic, partition}]
	return off, ok
}

// Err returns the pending delivery failure without waiting.
func (c *Collector) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// RetryPending handles the delivery failures since the last call with the
// produce handler: records to retry or resend are sent again, dead letters
// written, failures recorded for Err. Call it from the goroutine that
// sends, never from a promise. It reports how many failures it handled.
func (c *Collector) RetryPending() int {
	c.mu.Lock()
	fs := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, f := range fs {
		c.handleFailure(f.r, f.err)
	}
	return len(fs)
}

// Flush implements streams.RecordCollector: it waits until every record
// produced so far is acknowledged or failed, sending queued retries again
// until none is left.
func (c *Collector) Flush() error {
	ctx := c.ctx
	if c.flushCtx != nil {
		ctx = c.flushCtx
	}
	for {
		if err := c.client().cl.Flush(ctx); err != nil {
			return fmt.Errorf("flushing producer: %w", err)
		}
		if c.RetryPending() == 0 {
			break
		}
	}
	return c.Err()
}
