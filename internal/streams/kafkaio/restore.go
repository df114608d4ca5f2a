package kafkaio

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

// ChangelogStore is one store of a new task whose content lives in a
// changelog partition.
type ChangelogStore struct {
	Task      streams.TaskID
	Name      string
	Topic     string
	Partition int32
	// From is the first changelog offset to apply: the task's checkpoint
	// for a store on disk, 0 otherwise.
	From int64
	// Apply writes one changelog record into the store without logging it
	// again; a nil value deletes the key.
	Apply func(key, value []byte, timestamp int64) error
	// Done, if set, is told the offset the restore ended at (the store
	// holds the changelog before it) and how many records it applied.
	Done func(next, records int64)
}

// Restorer fills changelog-backed stores before their task processes its
// first record. It is called from the rebalance callback, with processing
// paused; an error stops the engine.
type Restorer interface {
	Restore(ctx context.Context, opts []kgo.Opt, stores []ChangelogStore) error
}

// ChangelogRestorer replays each changelog partition from the store's
// From offset to the partition's end at the time of assignment into the
// store (Task.Restore: a record with a value puts it, a tombstone deletes
// the key; window and session stores decode their changelog keys). The end
// is the high watermark, or under read_committed (ReadCommitted) the last
// stable offset, as Kafka Streams' restore consumer sees it: records of a
// transaction still open (or never finished) past it are not waited for.
type ChangelogRestorer struct {
	// ReadCommitted restores only committed records, up to the last
	// stable offset.
	ReadCommitted bool
	// Logger receives restore progress every ProgressInterval of a long
	// restore; nil logs nothing.
	Logger *slog.Logger
	// ProgressInterval defaults to 10s.
	ProgressInterval time.Duration
}

// Restore implements Restorer. opts are the Kafka client options without
// group settings.
func (r ChangelogRestorer) Restore(ctx context.Context, opts []kgo.Opt, stores []ChangelogStore) error {
	if len(stores) == 0 {
		return nil
	}
	byTP := map[tp]*ChangelogStore{}
	parts := map[string]map[int32]kgo.Offset{}
	for i := range stores {
		s := &stores[i]
		byTP[tp{s.Topic, s.Partition}] = s
		if parts[s.Topic] == nil {
			parts[s.Topic] = map[int32]kgo.Offset{}
		}
		parts[s.Topic][s.Partition] = kgo.NewOffset().At(max(s.From, 0))
	}
	adm, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	ends, err := listEnds(ctx, adm, parts, r.ReadCommitted)
	adm.Close()
	if err != nil {
		return err
	}
	counts := map[tp]int64{}
	done := func(k tp, next int64) {
		if s := byTP[k]; s.Done != nil {
			s.Done(next, counts[k])
		}
		delete(ends, k)
	}
	total := int64(0)
	for k, end := range ends {
		s := byTP[k]
		switch {
		case s.From > end:
			// The changelog is behind the checkpoint (recreated or
			// truncated): the checkpoint cannot be trusted.
			if r.Logger != nil {
				r.Logger.Warn("checkpoint is past the changelog's end; restoring from the start",
					"store", s.Name, "topic", k.topic, "partition", k.partition, "checkpoint", s.From, "end", end)
			}
			s.From = 0
			parts[k.topic][k.partition] = kgo.NewOffset().AtStart()
			total += end
		case s.From == end:
			done(k, end)
		default:
			total += end - s.From
		}
	}
	if len(ends) == 0 {
		return nil
	}
	// Control records (transaction markers) are kept so the position
	// reaches the end offset under read_committed too.
	copts := append(append([]kgo.Opt(nil), opts...), kgo.ConsumePartitions(parts), kgo.KeepControlRecords())
	if r.ReadCommitted {
		copts = append(copts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	interval := r.ProgressInterval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	start, lastLog := time.Now(), time.Now()
	var restored int64
	for len(ends) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("restoring stores: %w", ctx.Err())
		}
		for _, fe := range fetches.Errors() {
			return fmt.Errorf("restoring from %s[%d]: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var perr error
		fetches.EachRecord(func(rec *kgo.Record) {
			k := tp{rec.Topic, rec.Partition}
			end, ok := ends[k]
			if !ok || perr != nil {
				return
			}
			if rec.Offset < end && !rec.Attrs.IsControl() {
				if err := byTP[k].Apply(rec.Key, rec.Value, rec.Timestamp.UnixMilli()); err != nil {
					perr = fmt.Errorf("restoring %s[%d] offset %d: %w", rec.Topic, rec.Partition, rec.Offset, err)
					return
				}
				counts[k]++
				restored++
				if restored%4096 == 0 && r.Logger != nil && time.Since(lastLog) >= interval {
					lastLog = time.Now()
					r.Logger.Info("restoring state stores", "restored", restored, "of about", total,
						"partitions left", len(ends), "elapsed", time.Since(start).Round(time.Millisecond).String())
				}
			}
			if rec.Offset+1 >= end {
				done(k, end)
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
func listEnds(ctx context.Context, cl *kgo.Client, parts map[string]map[int32]kgo.Offset, lastStable bool) (map[tp]int64, error) {
	topics := make([]string, 0, len(parts))
	for t := range parts {
		topics = append(topics, t)
	}
	deadline := time.Now().Add(endsPatience)
	backoff := 50 * time.Millisecond
	for {
		ends, retriable, err := listEndsOnce(ctx, cl, topics, parts, lastStable)
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
// With lastStable the ends are the last stable offsets (a read_committed
// listing).
func listEndsOnce(ctx context.Context, cl *kgo.Client, topics []string, parts map[string]map[int32]kgo.Offset, lastStable bool) (map[tp]int64, bool, error) {
	ends := map[tp]int64{}
	list := newAdmin(cl).ListEndOffsets
	if lastStable {
		list = newAdmin(cl).ListCommittedOffsets
	}
	listed, err := list(ctx, topics...)
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

// restore runs the restorer for the changelog-backed stores of new tasks,
// from their checkpoints. Under exactly_once_v2 the checkpoints are deleted
// once restored: the stores are about to hold uncommitted writes. Called
// with mu held.
func (e *Engine) restore(ctx context.Context, created []*streams.Task) error {
	var stores []ChangelogStore
	var total, from0 int64
	for _, t := range created {
		for _, cp := range t.Changelogs() {
			if cp.From == 0 {
				from0++
			}
			stores = append(stores, ChangelogStore{Task: t.ID(), Name: cp.Store, Topic: cp.Topic, Partition: cp.Partition, From: cp.From,
				Apply: func(key, value []byte, timestamp int64) error { return t.Restore(cp.Store, key, value, timestamp) },
				Done: func(next, records int64) {
					t.Restored(cp.Store, next)
					total += records
					if e.opts.OnRestored != nil {
						e.opts.OnRestored(t.ID(), cp.Store, cp.From, next, records)
					}
				}})
		}
	}
	if len(stores) == 0 {
		return nil
	}
	start := time.Now()
	opts := e.opts.Client.AdminOpts()
	if err := e.restorer.Restore(ctx, opts, stores); err != nil {
		return fmt.Errorf("restoring state stores: %w", err)
	}
	if e.sess != nil {
		for _, t := range created {
			if err := t.DeleteCheckpoint(); err != nil {
				return err
			}
		}
	}
	e.log.Info("state stores restored", "stores", len(stores), "from checkpoint", int64(len(stores))-from0,
		"records", total, "took", time.Since(start).String())
	return nil
}

func newAdmin(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }
