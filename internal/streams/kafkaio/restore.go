package kafkaio

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"ksml/internal/streams"
)

// ChangelogStore is one store of a new task whose content lives in a
// changelog partition.
type ChangelogStore struct {
	Task      streams.TaskID
	Name      string
	Topic     string
	Partition int32
	// Apply writes one changelog record into the store without logging it
	// again; a nil value deletes the key.
	Apply func(key, value []byte) error
}

// Restorer fills changelog-backed stores before their task processes its
// first record. It is called from the rebalance callback, with processing
// paused; an error stops the engine.
type Restorer interface {
	Restore(ctx context.Context, opts []kgo.Opt, stores []ChangelogStore) error
}

// ChangelogRestorer replays each changelog partition from its start to its
// end offset at the time of assignment into the store (Task.Restore: a
// record with a value puts it, a tombstone deletes the key; window and
// session stores decode their changelog keys).
type ChangelogRestorer struct{}

// Restore implements Restorer. opts are the Kafka client options without
// group settings.
func (ChangelogRestorer) Restore(ctx context.Context, opts []kgo.Opt, stores []ChangelogStore) error {
	if len(stores) == 0 {
		return nil
	}
	byTP := map[tp]func(key, value []byte) error{}
	parts := map[string]map[int32]kgo.Offset{}
	for _, s := range stores {
		byTP[tp{s.Topic, s.Partition}] = s.Apply
		if parts[s.Topic] == nil {
			parts[s.Topic] = map[int32]kgo.Offset{}
		}
		parts[s.Topic][s.Partition] = kgo.NewOffset().AtStart()
	}
	if len(byTP) == 0 {
		return nil
	}
	adm, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	ends, err := listEnds(ctx, adm, parts)
	adm.Close()
	if err != nil {
		return err
	}
	remaining := 0
	for k, end := range ends {
		if end > 0 {
			remaining++
		} else {
			delete(ends, k)
		}
	}
	if remaining == 0 {
		return nil
	}
	// Control records (transaction markers) are kept so the position
	// reaches the end offset under read_committed too.
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...), kgo.ConsumePartitions(parts), kgo.KeepControlRecords())...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	restored := 0
	for len(ends) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("restoring stores: %w", ctx.Err())
		}
		for _, fe := range fetches.Errors() {
			return fmt.Errorf("restoring from %s[%d]: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var perr error
		fetches.EachRecord(func(r *kgo.Record) {
			k := tp{r.Topic, r.Partition}
			end, ok := ends[k]
			if !ok || perr != nil {
				return
			}
			if r.Offset < end && !r.Attrs.IsControl() {
				if err := byTP[k](r.Key, r.Value); err != nil {
					perr = fmt.Errorf("restoring %s[%d] offset %d: %w", r.Topic, r.Partition, r.Offset, err)
					return
				}
				restored++
			}
			if r.Offset+1 >= end {
				delete(ends, k)
			}
		})
		if perr != nil {
			return perr
		}
	}
	return nil
}

// endsPatience bounds how long listEnds waits for partitions the listing
// does not know yet.
const endsPatience = 10 * time.Second

// listEnds lists the end offsets of parts. A partition missing from the
// answer or failing with a retriable error is asked again for up to
// endsPatience: a topic a producer of this process created a moment ago
// (a global table's, a changelog's) may not be in the metadata yet. After
// that the partition is an error.
func listEnds(ctx context.Context, cl *kgo.Client, parts map[string]map[int32]kgo.Offset) (map[tp]int64, error) {
	topics := make([]string, 0, len(parts))
	for t := range parts {
		topics = append(topics, t)
	}
	deadline := time.Now().Add(endsPatience)
	backoff := 50 * time.Millisecond
	for {
		ends, retriable, err := listEndsOnce(ctx, cl, topics, parts)
		if err == nil || !retriable || time.Now().After(deadline) {
			return ends, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// listEndsOnce lists once; retriable reports whether err may pass.
func listEndsOnce(ctx context.Context, cl *kgo.Client, topics []string, parts map[string]map[int32]kgo.Offset) (map[tp]int64, bool, error) {
	ends := map[tp]int64{}
	listed, err := newAdmin(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, false, fmt.Errorf("listing changelog end offsets: %w", err)
	}
	for topic, ps := range parts {
		for p := range ps {
			lo, ok := listed.Lookup(topic, p)
			if !ok {
				return nil, true, fmt.Errorf("changelog %s[%d] not found", topic, p)
			}
			if lo.Err != nil {
				return nil, kerr.IsRetriable(lo.Err), fmt.Errorf("changelog %s[%d]: %w", topic, p, lo.Err)
			}
			ends[tp{topic, p}] = lo.Offset
		}
	}
	return ends, false, nil
}

// restore runs the restorer for the changelog-backed stores of new tasks.
// Called with mu held.
func (e *Engine) restore(ctx context.Context, created []*streams.Task) error {
	var stores []ChangelogStore
	for _, t := range created {
		for _, cp := range t.Changelogs() {
			stores = append(stores, ChangelogStore{Task: t.ID(), Name: cp.Store, Topic: cp.Topic, Partition: cp.Partition,
				Apply: func(key, value []byte) error { return t.Restore(cp.Store, key, value) }})
		}
	}
	if len(stores) == 0 {
		return nil
	}
	start := time.Now()
	opts := e.opts.Client.AdminOpts()
	if e.sess != nil {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if err := e.restorer.Restore(ctx, opts, stores); err != nil {
		return fmt.Errorf("restoring state stores: %w", err)
	}
	e.log.Info("state stores restored", "stores", len(stores), "took", time.Since(start).String())
	return nil
}

func newAdmin(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }
