package kafkaio

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Global topics (globalTables) are read outside the consumer group: every
// instance reads all their partitions. startGlobal reads them from the
// start to their end offsets before the group is joined (bootstrap), into
// one task per sub-topology that reads them, and then keeps following them
// with a consumer whose fetches the processing loop applies between
// batches, so the global stores never change while a record is processed.

type globalState struct {
	cl      *kgo.Client
	tasks   map[string]*streams.Task // by topic
	fetches chan kgo.Fetches
	stop    context.CancelFunc
	done    chan struct{}
}

func (e *Engine) startGlobal(ctx context.Context) error {
	topics := e.topo.GlobalTopics()
	if len(topics) == 0 {
		return nil
	}
	g := &globalState{tasks: map[string]*streams.Task{}, fetches: make(chan kgo.Fetches, 1)}
	bySub := map[int]*streams.Task{}
	parts := map[string]map[int32]kgo.Offset{}
	for _, topic := range topics {
		sub, ok := e.topo.SubTopologyFor(topic)
		if !ok {
			return fmt.Errorf("no sub-topology reads global topic %q", topic)
		}
		t := bySub[sub.ID]
		if t == nil {
			var err error
			if t, err = streams.NewTask(e.topo, sub, 0, e.out); err != nil {
				return fmt.Errorf("creating the global task for %q: %w", topic, err)
			}
			bySub[sub.ID] = t
		}
		g.tasks[topic] = t
		n, err := e.topics.Exists(ctx, topic)
		if err != nil {
			return err
		}
		parts[topic] = map[int32]kgo.Offset{}
		for p := int32(0); p < int32(n); p++ {
			parts[topic][p] = kgo.NewOffset().AtStart()
		}
	}
	e.global = g
	opts := e.opts.Client.AdminOpts()
	if e.sess != nil {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	ends, err := listEnds(ctx, e.admCl, parts, e.sess != nil)
	if err != nil {
		return err
	}
	if g.cl, err = kgo.NewClient(append(opts, kgo.ConsumePartitions(parts), kgo.KeepControlRecords())...); err != nil {
		return err
	}
	start := time.Now()
	n := 0
	for k, end := range ends {
		if end == 0 {
			delete(ends, k)
		}
	}
	for len(ends) > 0 {
		fs := g.cl.PollRecords(ctx, 10000)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, fe := range fs.Errors() {
			return fmt.Errorf("reading global topic %s[%d]: %w", fe.Topic, fe.Partition, fe.Err)
		}
		if err := e.applyGlobal(fs); err != nil {
			return err
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			k := tp{r.Topic, r.Partition}
			if end, ok := ends[k]; ok && r.Offset+1 >= end {
				delete(ends, k)
			}
		})
	}
	e.log.Info("global tables loaded", "topics", fmt.Sprint(topics), "records", n, "took", time.Since(start).String())
	gctx, cancel := context.WithCancel(ctx)
	g.stop, g.done = cancel, make(chan struct{})
	go func() {
		defer close(g.done)
		for {
			fs := g.cl.PollRecords(gctx, 1000)
			if gctx.Err() != nil {
				return
			}
			select {
			case g.fetches <- fs:
			case <-gctx.Done():
				return
			}
		}
	}()
	return nil
}

// drainGlobal applies the global records fetched since the last batch.
// Called with mu held.
func (e *Engine) drainGlobal() error {
	if e.global == nil {
		return nil
	}
	select {
	case fs := <-e.global.fetches:
		for _, fe := range fs.Errors() {
			e.log.Warn("fetch error on a global topic", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
		}
		return e.applyGlobal(fs)
	default:
		return nil
	}
}

func (e *Engine) applyGlobal(fs kgo.Fetches) error {
	var err error
	fs.EachRecord(func(r *kgo.Record) {
		if err != nil || r.Attrs.IsControl() {
			return
		}
		t := e.global.tasks[r.Topic]
		if t == nil {
			return
		}
		e.countConsumed(r.Topic, 1)
		// Global records apply at once, in fetch order, as Kafka Streams'
		// global thread does.
		raw := rawRecord(r)
		if perr := t.Process(&raw); perr != nil {
			err = e.processFailed(t, &raw, perr)
		}
	})
	return err
}

func (e *Engine) stopGlobal() {
	g := e.global
	if g == nil {
		return
	}
	if g.stop != nil {
		g.stop()
		<-g.done
	}
	if g.cl != nil {
		g.cl.Close()
	}
	closed := map[*streams.Task]bool{}
	for _, t := range g.tasks {
		if !closed[t] {
			closed[t] = true
			t.Close()
		}
	}
}
