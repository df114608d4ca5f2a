package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// rawKafka copies the first n records of the input topic to rawOutTopic
// with a plain franz-go loop and measures from the partition assignment to
// the acknowledgement of the last record.
//
// The client is configured as the engine configures its own (the same
// properties through kafkaclient, the co-partitioning balancer, polls of
// max.poll.records with rebalances blocked during processing, no auto
// commit, asynchronous produce with one shared promise), so the only
// difference to a KSML pipeline is the pipeline itself.
func (e *env) rawKafka(n int) (sample, error) {
	ctx := context.Background()
	group := e.nextID("raw")
	kc, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": e.bootstrap,
		"application.id":    group,
	}, kafkaclient.Options{Logger: e.log})
	if err != nil {
		return sample{}, err
	}
	var (
		startMu sync.Mutex
		start   window
	)
	// The engine's options, in the engine's order (kafkaio.Engine.Run):
	// its fetch.max.wait.ms and max.partition.fetch.bytes defaults, the
	// properties, then its own.
	opts := append([]kgo.Opt{kgo.FetchMaxWait(500 * time.Millisecond), kgo.FetchMaxPartitionBytes(kafkaio.DefaultFetchMaxPartitionBytes)},
		kc.ClientOpts()...)
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(inputTopic),
		kgo.Balancers(kafkaclient.NewCoPartitionBalancer()),
		kgo.BlockRebalanceOnPoll(),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			startMu.Lock()
			if start.wall.IsZero() {
				start = mark()
			}
			startMu.Unlock()
		}),
	)...)
	if err != nil {
		return sample{}, err
	}
	defer cl.Close()

	var (
		acked   atomic.Int64
		failed  atomic.Pointer[error]
		allDone = make(chan struct{})
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
		if acked.Add(1) == int64(n) {
			close(allDone)
		}
	}
	maxPoll := kc.MaxPollRecords
	if maxPoll <= 0 {
		maxPoll = kafkaclient.DefaultMaxPollRecords
	}
	deadline := time.Now().Add(budget(n))
	consumed := 0
	for consumed < n {
		if time.Now().After(deadline) {
			return sample{}, fmt.Errorf("consumed %d of %d records before the deadline", consumed, n)
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := cl.PollRecords(pctx, maxPoll)
		cancel()
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				return sample{}, fmt.Errorf("fetching %s[%d]: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if consumed >= n {
				return
			}
			consumed++
			cl.Produce(ctx, &kgo.Record{Topic: rawOutTopic, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}, promise)
		})
		cl.AllowRebalance()
	}
	select {
	case <-allDone:
	case <-time.After(time.Until(deadline)):
		return sample{}, fmt.Errorf("%d of %d records acknowledged before the deadline", acked.Load(), n)
	}
	startMu.Lock()
	sm := start.sample(n)
	startMu.Unlock()
	if p := failed.Load(); p != nil {
		return sample{}, fmt.Errorf("producing: %w", *p)
	}
	return sm, nil
}
