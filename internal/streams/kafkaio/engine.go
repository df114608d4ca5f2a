package kafkaio

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams"
)

// Observer is told about every record the engine consumes, produces or
// fails on. The runner's metrics implement it. Produced is called from the
// producer's delivery goroutine, so implementations must be safe for
// concurrent use and cheap (they run once per record).
type Observer interface {
	Consumed(topic string)
	Produced(topic string)
	Failed(kind ErrorKind, topic string)
}

// BatchObserver is an optional extension of Observer: the engine then
// reports the records it consumed once per fetched partition batch, n at a
// time, instead of calling Consumed per record, which saves the observer's
// per-record lookup on the engine's goroutine.
type BatchObserver interface {
	ConsumedN(topic string, n int)
}

// LagObserver is an optional extension of Observer: after every batch the
// engine reports each fetched partition's lag (records between the position
// and the high watermark), and when a partition is revoked it says so.
type LagObserver interface {
	Lag(topic string, partition int32, lag int64)
	LagRemoved(topic string, partition int32)
}

// Options configure an Engine.
type Options struct {
	// Topology is the graph to run; it is built if needed.
	Topology *streams.Topology
	// Client carries the Kafka client options and the engine settings
	// (commit interval, max.poll.records, replication factor).
	Client *kafkaclient.Config
	// NoTopicCreation disables the creation of missing source, output and
	// internal topics; the engine then fails on a missing source topic.
	NoTopicCreation bool
	// DefaultPartitions is the partition count of source topics the engine
	// creates (0: one; negative: the cluster's num.partitions). Output and
	// internal topics get the highest partition count of the source
	// topics.
	DefaultPartitions int
	// Handlers say what to do with records that fail.
	Handlers Handlers
	// Observer, if set, counts records.
	Observer Observer
	// Restorer fills changelog-backed stores of new tasks; nil means
	// ChangelogRestorer.
	Restorer Restorer
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
	// PollInterval bounds how long one poll waits for records, which is
	// how often wall-clock punctuation and commit deadlines are checked
	// while the topics are idle (default 200ms).
	PollInterval time.Duration
	// OnAssigned, if set, is called after tasks were created for newly
	// assigned partitions (for readiness reporting and tests).
	OnAssigned func(partitions map[string][]int32)
	// ProcessID is a stable identity of this instance (see ProcessID).
	// Under exactly_once_v2 the transactional id is
	// <application.id>-<ProcessID>, so an instance restarted after a crash
	// fences and aborts the transaction its predecessor left open at once;
	// with a fresh id that transaction holds back read_committed consumers
	// (and this instance's own offset fetch) until the broker times it out.
	// Empty: an id unique to this process.
	ProcessID string
	// LeaveGroupOnStop makes a clean stop of a static member
	// (group.instance.id) leave the group as a dynamic member does, so
	// the others take its partitions at once; otherwise a static member
	// stays in the group until its session times out, expecting to come
	// back (Kafka's static membership). For instance ids derived from the
	// state directory: a stopped instance may not come back.
	LeaveGroupOnStop bool
	// Thread numbers this engine among the stream threads of one process
	// (num.stream.threads): from 1, or 0 when the process runs one. Each
	// thread is a member of the group of its own; a static membership's
	// group.instance.id gets the suffix "-<Thread>" so the threads do not
	// fence each other (as Kafka Streams does). The caller gives each
	// thread its own ProcessID.
	Thread int
	// BeforeJoin, if set, is called once the topics exist and (for the
	// first thread) the sources' own offset resets are committed, just
	// before the group is joined; an error stops Run. Threads after the
	// first skip the offset resets, so a process with several makes them
	// wait here for the first one, and lets all join together: the first
	// assignment then spreads the tasks over all threads instead of giving
	// them all to the first and moving half at once.
	BeforeJoin func(ctx context.Context) error
	// OnCommit, if set, is called after every successful commit (for
	// tests), with processing paused.
	OnCommit func()
	// OnRestored, if set, is told about every changelog partition the
	// restore finished: the offsets it read from and up to, and the number
	// of records it applied.
	OnRestored func(task streams.TaskID, store string, from, to, records int64)

	// abortTimeout bounds one attempt to abort a transaction that cannot
	// commit (recoverTransaction); zero means defaultAbortTimeout. Tests
	// shorten it to make the attempt fail at a chosen moment.
	abortTimeout time.Duration
}

// Engine runs a topology on Kafka. Create it with New and run it once with
// Run.
type Engine struct {
	opts     Options
	topo     *streams.Topology
	log      *slog.Logger
	handlers Handlers
	observer Observer

	admCl    *kgo.Client
	adm      *kadm.Client
	topics   *Topics
	cl       *kgo.Client
	sess     *kgo.GroupTransactSession // exactly_once_v2 only
	inTxn    bool
	out      *Collector
	restorer Restorer
	global   *globalState

	// mu serializes processing with rebalance callbacks and store queries.
	mu        sync.Mutex
	tasks     map[streams.TaskID]*streams.Task
	owner     map[tp]*streams.Task
	assigned  map[tp]bool
	processed map[tp]kgo.EpochOffset
	// position is the offset after the last record queued per partition.
	position map[tp]int64
	// counted is the offset after the last record counted as consumed.
	counted map[tp]int64
	// paused are the partitions whose task queue is full
	// (buffered.records.per.partition); fetching resumes once drained.
	paused    map[tp]bool
	lastProbe time.Time
	// retry bounds streaks of transient failures by task.timeout.ms;
	// txnBroken is set when the open transaction can no longer commit
	// (retry.go).
	retry     retrier
	txnBroken bool
	// resets counts the times the client's fetch positions were moved
	// back to the last commit (an aborted transaction, a new client):
	// records polled before a reset are stale, they are fetched again.
	resets     uint64
	clientOpts []kgo.Opt // to recreate the client (resetClient)
	// lastFetchWarn spaces fetch error warnings during an outage.
	lastFetchWarn time.Time
	closing       bool
	fatal         error
}

type tp struct {
	topic     string
	partition int32
}

// New prepares an engine: it checks the options and builds the topology.
// It does not connect; Run does.
func New(opts Options) (*Engine, error) {
	if opts.Topology == nil {
		return nil, errors.New("kafkaio: no topology")
	}
	if opts.Client == nil {
		return nil, errors.New("kafkaio: no Kafka client configuration")
	}
	if err := opts.Topology.Build(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.Restorer == nil {
		opts.Restorer = ChangelogRestorer{ReadCommitted: opts.Client.ProcessingGuarantee == kafkaclient.ExactlyOnceV2, Logger: opts.Logger}
	}
	taskTimeout := opts.Client.TaskTimeout
	if taskTimeout <= 0 {
		taskTimeout = kafkaclient.DefaultTaskTimeout
	}
	return &Engine{
		opts: opts, topo: opts.Topology, log: opts.Logger, handlers: opts.Handlers, observer: opts.Observer,
		restorer: opts.Restorer, retry: retrier{log: opts.Logger, timeout: taskTimeout},
		tasks: map[streams.TaskID]*streams.Task{}, owner: map[tp]*streams.Task{},
		assigned: map[tp]bool{}, processed: map[tp]kgo.EpochOffset{},
		position: map[tp]int64{}, paused: map[tp]bool{}, counted: map[tp]int64{},
	}, nil
}

// Run connects, prepares topics, joins the group and processes records
// until ctx is cancelled (a clean stop: it returns nil after flushing,
// committing and leaving the group) or a record fails with a Stop handler
// (it returns the *RecordError after committing what came before).
func (e *Engine) Run(ctx context.Context) (err error) {
	cfg := e.opts.Client
	if e.admCl, err = kgo.NewClient(cfg.AdminOpts()...); err != nil {
		return fmt.Errorf("creating Kafka admin client: %w", err)
	}
	defer e.admCl.Close()
	e.adm = kadm.NewClient(e.admCl)
	e.topics = NewTopics(e.adm, !e.opts.NoTopicCreation, e.opts.DefaultPartitions, cfg.ReplicationFactor, e.log)

	groups, sources, err := e.prepareTopics(ctx)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		e.log.Info("the topology reads no partitioned topics; nothing to consume")
		<-ctx.Done()
		return nil
	}
	if e.opts.Thread <= 1 {
		if err := e.applyOffsetResets(ctx); err != nil {
			return err
		}
	}
	if e.opts.BeforeJoin != nil {
		if err := e.opts.BeforeJoin(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil // stopped before joining
		}
	}

	// Kafka's fetch.max.wait.ms default (franz-go waits 5s), so partitions
	// assigned while a fetch is in flight start soon, and a smaller
	// max.partition.fetch.bytes (DefaultFetchMaxPartitionBytes); the
	// properties may override both.
	opts := append([]kgo.Opt{kgo.FetchMaxWait(500 * time.Millisecond), kgo.FetchMaxPartitionBytes(DefaultFetchMaxPartitionBytes)},
		cfg.ClientOpts()...)
	if e.opts.Thread > 0 && cfg.GroupInstanceID != "" {
		opts = append(opts, kgo.InstanceID(fmt.Sprintf("%s-%d", cfg.GroupInstanceID, e.opts.Thread)))
	}
	opts = append(opts,
		kgo.ConsumeTopics(sources...),
		kgo.Balancers(kafkaclient.NewCoPartitionBalancer(groups...)),
		kgo.BlockRebalanceOnPoll(),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(e.onAssigned),
		kgo.OnPartitionsRevoked(e.onRevoked),
		kgo.OnPartitionsLost(e.onLost),
	)
	// Rebalance callbacks take mu: they wait until the collector exists.
	e.mu.Lock()
	e.clientOpts = opts
	if cfg.ProcessingGuarantee == kafkaclient.ExactlyOnceV2 {
		// One transactional producer per instance; KIP-447 fencing by
		// group generation makes a per-instance id sufficient.
		opts = append(opts, kgo.TransactionalID(resolvedTransactionalID(cfg, e.opts.ProcessID)))
		e.clientOpts = opts
		if e.sess, err = kgo.NewGroupTransactSession(opts...); err != nil {
			e.mu.Unlock()
			return fmt.Errorf("creating transactional Kafka client: %w", err)
		}
		e.cl = e.sess.Client()
		e.log.Info("processing guarantee exactly_once_v2: output, store changes and offsets commit in one transaction")
	} else if e.cl, err = kgo.NewClient(opts...); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	// The producer outlives ctx so the final flush can finish.
	prodCtx, cancelProd := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelProd()
	e.out = NewCollector(prodCtx, e.cl, e.topics, &e.handlers.Produce, e.observer, e.logRecordError)
	e.out.bindFlush(ctx)

	defer e.stopGlobal()
	err = e.startGlobal(ctx)
	e.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("loading global tables: %w", err)
		e.shutdown(err)
		return err
	}
	runErr := e.loop(ctx)
	e.shutdown(runErr)
	return runErr
}

func (e *Engine) loop(ctx context.Context) error {
	cfg := e.opts.Client
	maxPoll := cfg.MaxPollRecords
	if maxPoll <= 0 {
		maxPoll = kafkaclient.DefaultMaxPollRecords
	}
	interval := cfg.CommitInterval
	if interval <= 0 {
		interval = kafkaclient.DefaultCommitInterval
	}
	nextCommit := time.Now().Add(interval)
	for {
		// Resets happen on this goroutine only (rebalance callbacks
		// never move the positions back).
		resets := e.resets
		pollCtx, cancel := context.WithTimeout(ctx, e.opts.PollInterval)
		fetches := e.cl.PollRecords(pollCtx, maxPoll)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		e.mu.Lock()
		err := e.handleFetchErrors(fetches)
		if err == nil && e.txnBroken {
			err = e.recoverTransaction(ctx)
		}
		if err == nil && e.txnBroken {
			// Still no broker to abort with: wait for the next poll.
			e.mu.Unlock()
			e.cl.AllowRebalance()
			continue
		}
		if err == nil && e.sess != nil && !e.inTxn {
			if err = e.sess.Begin(); err == nil {
				e.inTxn = true
			} else {
				err = e.recover(ctx, "beginning a transaction", err)
				e.mu.Unlock()
				e.cl.AllowRebalance()
				if err != nil {
					return err
				}
				continue
			}
		}
		if err == nil {
			err = e.drainGlobal()
		}
		if err == nil {
			if e.resets == resets {
				e.enqueue(fetches)
			} else if n := fetches.NumRecords(); n > 0 {
				e.log.Debug("dropping records polled before the positions went back to the last commit; they are fetched again", "records", n)
			}
			// Otherwise the positions went back to the last commit since
			// the poll (recoverTransaction aborted, or resetClient):
			// queueing these records as well as fetching them again
			// would process them twice in the next transaction.
			err = e.probeLags(ctx)
		}
		if err == nil {
			err = e.processQueued()
		}
		if err == nil {
			e.out.RetryPending()
			if err = e.out.Err(); err != nil {
				err = e.recover(ctx, "producing", err)
			}
		}
		if err == nil {
			err = e.punctuate()
		}
		if err == nil && !e.txnBroken && !time.Now().Before(nextCommit) {
			err = e.commit(ctx)
			nextCommit = time.Now().Add(interval)
			if err != nil {
				nextCommit = time.Now().Add(commitRetryBackoff)
				err = e.recover(ctx, "commit", err)
			} else {
				e.retry.succeeded("commit")
				if e.opts.OnCommit != nil {
					e.opts.OnCommit()
				}
			}
		}
		e.mu.Unlock()
		e.cl.AllowRebalance()
		if err == nil {
			e.mu.Lock()
			err = e.fatal
			e.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

func (e *Engine) handleFetchErrors(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		switch {
		case errors.Is(fe.Err, context.Canceled), errors.Is(fe.Err, context.DeadlineExceeded):
		case errors.Is(fe.Err, kgo.ErrClientClosed):
			return fe.Err
		case transient(fe.Err) && !e.warnFetch():
			// Logged once per fetchWarnEvery; franz-go keeps retrying.
		case fe.Topic == "":
			// Not tied to a partition: the client cannot fetch at all,
			// typically because the brokers are unreachable; it retries.
			e.log.Warn("cannot fetch from the Kafka cluster; retrying", "error", fe.Err)
		default:
			e.log.Warn("fetch error", "topic", fe.Topic, "partition", fe.Partition, "error", fe.Err)
		}
	}
	return nil
}

// enqueue hands every fetched record to the queue of the task owning its
// partition (Kafka Streams' addRecords), tells the tasks the fetched lag of
// every partition in the fetch, and pauses partitions whose queue is full.
// Records are counted as consumed here; they are processed, in timestamp
// order per task, by processQueued. Called with mu held.
func (e *Engine) enqueue(fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err != nil {
			return
		}
		key := tp{p.Topic, p.Partition}
		task := e.owner[key]
		if task == nil {
			return // revoked while the fetch was buffered
		}
		end := p.HighWatermark
		if e.opts.Client.ReadCommitted && p.LastStableOffset >= 0 {
			end = p.LastStableOffset
		}
		if len(p.Records) == 0 {
			// The broker answered for the partition without records: it
			// has nothing past our position (or, at a fetch size limit,
			// the lag against the known position).
			lag := int64(0)
			if pos, ok := e.position[key]; ok {
				lag = max(0, end-pos)
			}
			task.SetFetchedLag(p.Topic, lag)
			return
		}
		full, fresh := false, 0
		counted := e.counted[key]
		for _, r := range p.Records {
			if r.Offset >= counted {
				fresh++
			}
			raw := rawRecord(r)
			f, err := task.AddRecord(&raw)
			if err != nil {
				// Only a closed task or a foreign topic fails, both
				// excluded by owner; keep the fetch position honest anyway.
				e.log.Error("queueing a fetched record failed", "topic", r.Topic, "partition", r.Partition, "error", err)
				return
			}
			full = full || f
		}
		next := p.Records[len(p.Records)-1].Offset + 1
		e.position[key] = next
		task.SetFetchedLag(p.Topic, max(0, end-next))
		// Records fetched again after a rewind (rewindQueued) were counted
		// the first time.
		e.counted[key] = max(counted, next)
		e.countConsumed(p.Topic, fresh)
		if lo, ok := e.observer.(LagObserver); ok {
			lo.Lag(p.Topic, p.Partition, p.HighWatermark-next)
		}
		if full && !e.paused[key] {
			e.paused[key] = true
			e.cl.PauseFetchPartitions(map[string][]int32{p.Topic: {p.Partition}})
			e.log.Debug("queue full: fetching paused", "topic", p.Topic, "partition", p.Partition, "queued", task.Buffered(p.Topic))
		}
	})
}

// processQueued lets every task process its queued records while it is
// ready (Kafka Streams' StreamTask.process loop), records the offset to
// commit per processed record, applies the error handlers, and resumes
// paused partitions whose queue drained. Called with mu held.
func (e *Engine) processQueued() error {
	now := time.Now().UnixMilli()
	for _, task := range e.taskList() {
		enforced := task.EnforcedProcessing()
		for {
			raw, ok, err := task.ProcessNext(now)
			if !ok {
				if err != nil {
					return err
				}
				break
			}
			if err != nil {
				if err = e.processFailed(task, raw, err); err != nil {
					return err
				}
			}
			key := tp{raw.Topic, raw.Partition}
			e.processed[key] = kgo.EpochOffset{Epoch: raw.LeaderEpoch, Offset: raw.Offset + 1}
			if e.paused[key] && task.Resumable(raw.Topic) {
				delete(e.paused, key)
				e.cl.ResumeFetchPartitions(map[string][]int32{raw.Topic: {raw.Partition}})
				e.log.Debug("queue drained: fetching resumed", "topic", raw.Topic, "partition", raw.Partition)
			}
		}
		if n := task.EnforcedProcessing() - enforced; n > 0 {
			if o, ok := e.observer.(EnforcedProcessingObserver); ok {
				o.EnforcedProcessing(task.ID().String(), n)
			}
		}
	}
	return nil
}

// EnforcedProcessingObserver is an optional extension of Observer: the
// engine reports records a task processed while one of its partitions was
// empty, after max.task.idle.ms ran out (Kafka Streams'
// enforced-processing metric).
type EnforcedProcessingObserver interface {
	EnforcedProcessing(task string, n int64)
}

// lagProbeInterval is how long a task may wait for an empty partition whose
// lag is unknown before the engine asks the broker for it.
const lagProbeInterval = time.Second

// DefaultFetchMaxPartitionBytes is the engine's max.partition.fetch.bytes
// when the properties do not set it: 256 KiB instead of Kafka's 1 MiB. The
// Java consumer keeps a fetched partition's data compressed and decodes it
// batch by batch as poll() hands records out; franz-go decompresses a whole
// fetch response and builds every record at once, so the same byte bound
// held several times the memory (about 8 MB of a 14 MB live heap in the
// seed's CQRS pipeline). A quarter of it keeps the consumer ahead of the
// tasks (polls take at most max.poll.records, 1,000) and cut the peak RSS by
// about 12 MB with no loss of throughput (docs/performance.md, Memory). A
// record batch larger than the bound is still returned whole (KIP-74).
const DefaultFetchMaxPartitionBytes = 256 << 10

// probeLags asks the broker for the lag of empty partitions no fetch has
// told about yet, for tasks that hold records and wait on them. franz-go
// hands over no fetch response without records, so a partition that is
// empty on the broker would otherwise never get a lag. The lag is the end
// offset (the last stable offset under read_committed) minus the committed
// offset; without a committed offset the partition counts as caught up.
// Called with mu held.
func (e *Engine) probeLags(ctx context.Context) error {
	if time.Since(e.lastProbe) < lagProbeInterval {
		return nil
	}
	var unknown []struct {
		task  *streams.Task
		topic string
		p     int32
	}
	for _, t := range e.taskList() {
		if t.BufferedTotal() == 0 {
			continue
		}
		sub := e.topo.SubTopologies()[t.ID().SubTopology]
		for _, topic := range sub.SourceTopics() {
			if e.assigned[tp{topic, t.ID().Partition}] && t.Buffered(topic) == 0 && t.FetchedLag(topic) == streams.LagUnknown {
				unknown = append(unknown, struct {
					task  *streams.Task
					topic string
					p     int32
				}{t, topic, t.ID().Partition})
			}
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	if e.lastProbe.IsZero() {
		// Give the first fetches their chance before asking.
		e.lastProbe = time.Now()
		return nil
	}
	e.lastProbe = time.Now()
	topics := map[string]bool{}
	for _, u := range unknown {
		topics[u.topic] = true
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var ends kadm.ListedOffsets
	var err error
	if e.opts.Client.ReadCommitted {
		ends, err = e.adm.ListCommittedOffsets(pctx, names...)
	} else {
		ends, err = e.adm.ListEndOffsets(pctx, names...)
	}
	if err != nil {
		e.log.Debug("probing the lag of empty partitions failed; waiting for fetches", "error", err)
		return nil
	}
	committed := e.cl.CommittedOffsets()
	for _, u := range unknown {
		end, ok := ends.Lookup(u.topic, u.p)
		if !ok || end.Err != nil {
			continue
		}
		lag := int64(0)
		if c, ok := committed[u.topic][u.p]; ok && c.Offset >= 0 {
			lag = max(0, end.Offset-c.Offset)
		}
		if pos, ok := e.position[tp{u.topic, u.p}]; ok {
			lag = max(0, end.Offset-pos)
		}
		u.task.SetFetchedLag(u.topic, lag)
	}
	return nil
}

// rawRecord converts a fetched record for a task.
func rawRecord(r *kgo.Record) streams.RawRecord {
	raw := streams.RawRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Timestamp: r.Timestamp.UnixMilli(), TimestampType: streams.TimestampTypeCreateTime,
		Key: r.Key, Value: r.Value, LeaderEpoch: r.LeaderEpoch}
	if r.Attrs.TimestampType() == 1 {
		raw.TimestampType = streams.TimestampTypeLogAppend
	}
	if len(r.Headers) > 0 {
		raw.Headers = make([]streams.Header, len(r.Headers))
		for i, h := range r.Headers {
			raw.Headers[i] = streams.Header{Key: h.Key, Value: h.Value}
		}
	}
	return raw
}

// processFailed classifies a record's processing error and applies its
// handler: nil to go on with the next record, or the *RecordError to stop.
func (e *Engine) processFailed(task *streams.Task, raw *streams.RawRecord, err error) error {
	kind, node := classify(e.topo, err)
	rerr := &RecordError{Kind: kind, Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset, Node: node,
		Task: task.ID().String(), Timestamp: raw.Timestamp, Err: err}
	return e.recordFailed(rerr, raw)
}

// countConsumed tells the observer that n records of topic were consumed:
// once through ConsumedN when it has it, else once per record.
func (e *Engine) countConsumed(topic string, n int) {
	switch o := e.observer.(type) {
	case nil:
	case BatchObserver:
		if n > 0 {
			o.ConsumedN(topic, n)
		}
	default:
		for range n {
			o.Consumed(topic)
		}
	}
}

// recordFailed applies the handler of rerr's kind: count, log, dead-letter,
// then skip (nil) or stop (rerr).
func (e *Engine) recordFailed(rerr *RecordError, raw *streams.RawRecord) error {
	if e.observer != nil {
		e.observer.Failed(rerr.Kind, rerr.Topic)
	}
	h := e.handlers.of(rerr.Kind)
	e.logRecordError(rerr, raw.Key, raw.Value)
	if h.DeadLetterTopic != "" {
		headers := append(append([]streams.Header(nil), raw.Headers...), errorHeaders(rerr, raw.Timestamp)...)
		if err := e.out.Send(h.DeadLetterTopic, -1, raw.Key, raw.Value, raw.Timestamp, headers); err != nil {
			return fmt.Errorf("writing failed record to dead-letter topic %q: %w (after %w)", h.DeadLetterTopic, err, rerr)
		}
	}
	if h.Action == Continue {
		return nil
	}
	return rerr
}

func (e *Engine) logRecordError(rerr *RecordError, key, value []byte) {
	h := e.handlers.of(rerr.Kind)
	if !h.Log {
		return
	}
	lg := h.Logger
	if lg == nil {
		lg = e.log
	}
	attrs := []any{"kind", string(rerr.Kind), "topic", rerr.Topic, "partition", rerr.Partition, "offset", rerr.Offset}
	if rerr.Node != "" {
		attrs = append(attrs, "node", rerr.Node)
	}
	if rerr.Task != "" {
		attrs = append(attrs, "task", rerr.Task)
	}
	if rerr.Timestamp >= 0 {
		attrs = append(attrs, "timestamp", rerr.Timestamp)
	}
	if h.LogPayload {
		attrs = append(attrs, "key", payload(key), "value", payload(value))
	} else {
		attrs = append(attrs, "key", "*****", "value", "*****")
	}
	attrs = append(attrs, "action", actionName(h.Action), "error", rerr.Err.Error())
	lg.Error("record failed", attrs...)
}

func actionName(a Action) string {
	switch a {
	case Continue:
		return "continueOnFail"
	case Retry:
		return "retryOnFail"
	}
	return "stopOnFail"
}

func (e *Engine) punctuate() error {
	now := time.Now().UnixMilli()
	for _, t := range e.taskList() {
		if err := t.PunctuateWallClock(now); err != nil {
			rerr := &RecordError{Kind: ProcessError, Partition: t.ID().Partition, Offset: -1, Task: t.ID().String(), Timestamp: -1, Err: err}
			var ne *streams.NodeError
			if errors.As(err, &ne) {
				rerr.Node = ne.Node
			}
			if e.handlers.Process.Action != Continue {
				return rerr
			}
			e.logRecordError(rerr, nil, nil)
		}
	}
	return nil
}

// commit makes the output of every processed record durable, flushes the
// stores and commits the offsets of the processed records. Called with mu
// held.
func (e *Engine) commit(ctx context.Context) error {
	if e.sess != nil {
		return e.endTransaction(ctx, kgo.TryCommit)
	}
	var errs []error
	for _, t := range e.taskList() {
		errs = append(errs, t.Flush())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(e.processed) == 0 {
		return e.checkpoint()
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for k, off := range e.processed {
		m := offsets[k.topic]
		if m == nil {
			m = map[int32]kgo.EpochOffset{}
			offsets[k.topic] = m
		}
		m[k.partition] = off
	}
	var commitErr error
	// A stop request must not interrupt a commit half way.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e.cl.CommitOffsetsSync(cctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && commitErr == nil {
					commitErr = fmt.Errorf("committing %s[%d]: %w", t.Topic, p.Partition, perr)
				}
			}
		}
	})
	if commitErr != nil {
		return fmt.Errorf("committing offsets: %w", commitErr)
	}
	clear(e.processed)
	return e.checkpoint()
}

// checkpoint writes every task's checkpoint file after a successful
// commit: the stores were flushed and their changelog records
// acknowledged. Under exactly_once_v2 only a clean close checkpoints (Kafka
// Streams' rule: while processing, the stores may hold uncommitted
// writes). Called with mu held.
func (e *Engine) checkpoint() error {
	var errs []error
	for _, t := range e.taskList() {
		errs = append(errs, t.Checkpoint())
	}
	return errors.Join(errs...)
}

func (e *Engine) taskList() []*streams.Task {
	out := make([]*streams.Task, 0, len(e.tasks))
	for _, t := range e.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].ID(), out[j].ID()
		if a.SubTopology != b.SubTopology {
			return a.SubTopology < b.SubTopology
		}
		return a.Partition < b.Partition
	})
	return out
}

// shutdown flushes, commits what was processed and leaves the group.
func (e *Engine) shutdown(runErr error) {
	e.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	e.closing = true
	reachable := e.finalFlush(ctx)
	if !reachable {
		// Kafka is unavailable: nothing more becomes durable, and the
		// records since the last commit are processed again on the next
		// start.
		e.abortUnreachable()
	} else if runErr != nil && e.sess != nil {
		// Nothing of the failed transaction becomes visible; everything
		// since the last commit is processed again on the next start.
		if err := e.endTransaction(ctx, kgo.TryAbort); err != nil {
			e.log.Error("aborting the transaction failed", "error", err)
		}
	} else if err := e.commit(ctx); err != nil {
		e.log.Error("final commit failed", "error", err)
	} else if e.sess != nil && !e.inTxn {
		// A clean close under exactly_once_v2: the stores hold exactly
		// the committed state, so the next start restores only the tail.
		if err := e.checkpoint(); err != nil {
			e.log.Error("writing checkpoints failed; the next start restores in full", "error", err)
		}
	}
	e.closeTasks(nil)
	e.mu.Unlock()
	e.log.Debug("tasks closed after the final commit; leaving the consumer group")
	done := make(chan struct{})
	go func() {
		e.cl.CloseAllowingRebalance()
		close(done)
	}()
	select {
	case <-done:
		e.log.Debug("left the consumer group")
	case <-ctx.Done():
		e.log.Warn("leaving the consumer group timed out")
		return
	}
	if id := e.opts.Client.GroupInstanceID; id != "" && e.opts.LeaveGroupOnStop && reachable {
		// Best effort, bounded: a member that could not leave is
		// removed when its session times out.
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		e.leaveStatic(lctx, id)
		cancel()
	}
}

// leaveStatic removes the static member id from the group (the client's
// close does not: a static member is expected back). A failure is logged:
// the member then leaves when its session times out.
func (e *Engine) leaveStatic(ctx context.Context, id string) {
	group := e.opts.Client.GroupID
	resps, err := e.adm.LeaveGroup(ctx, kadm.LeaveGroup(group).InstanceIDs(id).Reason("ksml stopped"))
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		e.log.Warn("leaving the consumer group as static member failed; its partitions move to the others after session.timeout.ms",
			"group.instance.id", id, "error", err.Error())
		return
	}
	e.log.Info("left the consumer group", "group.instance.id", id)
}

// closeTasks closes the tasks that read only partitions in revoked (all
// tasks when revoked is nil). Called with mu held.
func (e *Engine) closeTasks(revoked map[string][]int32) {
	if revoked == nil {
		for id, t := range e.tasks {
			if err := t.Close(); err != nil {
				e.log.Warn("closing task", "task", id.String(), "error", err)
			}
		}
		clear(e.tasks)
		clear(e.owner)
		clear(e.assigned)
		clear(e.position)
		e.resume(nil)
		return
	}
	lo, _ := e.observer.(LagObserver)
	for topic, parts := range revoked {
		for _, p := range parts {
			k := tp{topic, p}
			if lo != nil {
				lo.LagRemoved(topic, p)
			}
			delete(e.assigned, k)
			delete(e.owner, k)
			delete(e.processed, k)
			delete(e.position, k)
			delete(e.counted, k)
		}
	}
	e.resume(revoked)
	for id, t := range e.tasks {
		sub := e.topo.SubTopologies()[id.SubTopology]
		still := false
		for _, topic := range sub.SourceTopics() {
			if e.assigned[tp{topic, id.Partition}] {
				still = true
				break
			}
		}
		if !still {
			if err := t.Close(); err != nil {
				e.log.Warn("closing task", "task", id.String(), "error", err)
			}
			delete(e.tasks, id)
			for _, topic := range sub.SourceTopics() {
				delete(e.owner, tp{topic, id.Partition})
			}
		}
	}
}

// resume resumes fetching the paused partitions among only (all when only
// is nil): their queues are gone with their tasks, and a partition left
// paused would never be fetched again when it comes back. Called with mu
// held.
func (e *Engine) resume(only map[string][]int32) {
	out := map[string][]int32{}
	for k := range e.paused {
		if only != nil && !contains(only[k.topic], k.partition) {
			continue
		}
		out[k.topic] = append(out[k.topic], k.partition)
		delete(e.paused, k)
	}
	if len(out) > 0 && e.cl != nil {
		e.cl.ResumeFetchPartitions(out)
	}
}

func contains(ps []int32, p int32) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func (e *Engine) onAssigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cl != e.cl || e.closing {
		return
	}
	if err := e.createTasks(ctx, assigned); err != nil {
		e.fatal = err
		return
	}
	e.log.Info("partitions assigned", "partitions", fmtPartitions(assigned), "tasks", len(e.tasks))
	if e.opts.OnAssigned != nil {
		e.opts.OnAssigned(assigned)
	}
}

// createTasks creates and restores the tasks of newly assigned partitions.
// Called with mu held.
func (e *Engine) createTasks(ctx context.Context, assigned map[string][]int32) error {
	var created []*streams.Task
	for topic, parts := range assigned {
		sub, ok := e.topo.SubTopologyFor(topic)
		if !ok {
			continue
		}
		for _, p := range parts {
			k := tp{topic, p}
			e.assigned[k] = true
			id := streams.TaskID{SubTopology: sub.ID, Partition: p}
			t := e.tasks[id]
			if t == nil {
				if e.sess != nil {
					// Exactly-once: a store without a checkpoint (no clean
					// close) may hold aborted writes; it is rebuilt in full.
					wiped, err := streams.WipeUncheckpointedState(e.topo, sub, id)
					if err != nil {
						return err
					}
					if len(wiped) > 0 {
						e.log.Info("no checkpoint under exactly_once_v2: wiping the task's stores to restore them in full",
							"task", id.String(), "stores", fmt.Sprint(wiped))
					}
				}
				var err error
				t, err = streams.NewTask(e.topo, sub, p, e.out)
				if err != nil {
					return fmt.Errorf("creating task %s: %w", id, err)
				}
				t.SetGroupConfig(streams.GroupConfig{MaxTaskIdleMs: e.opts.Client.MaxTaskIdleMs,
					BufferedRecordsPerPartition: e.opts.Client.BufferedRecordsPerPartition})
				e.tasks[id] = t
				created = append(created, t)
			}
			e.owner[k] = t
		}
	}
	if len(created) > 0 {
		return e.restore(ctx, created)
	}
	return nil
}

func (e *Engine) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cl != e.cl || e.closing || len(revoked) == 0 {
		return
	}
	// Under exactly_once_v2 the session aborts the open transaction on
	// revocation; endTransaction then rebuilds the remaining tasks.
	if e.fatal == nil && e.sess == nil {
		if err := e.commit(ctx); err != nil {
			e.log.Error("commit before revocation failed", "error", err)
		}
	}
	e.closeTasks(revoked)
	e.log.Info("partitions revoked", "partitions", fmtPartitions(revoked), "tasks", len(e.tasks))
}

func (e *Engine) onLost(_ context.Context, cl *kgo.Client, lost map[string][]int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if cl != e.cl || e.closing || len(lost) == 0 {
		return
	}
	e.closeTasks(lost)
	e.log.Warn("partitions lost", "partitions", fmtPartitions(lost))
}

func fmtPartitions(m map[string][]int32) string {
	topics := make([]string, 0, len(m))
	for t := range m {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	s := ""
	for i, t := range topics {
		ps := append([]int32(nil), m[t]...)
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s%v", t, ps)
	}
	return s
}

// WithTasks calls fn with the running tasks while no record is processed,
// so fn may read their stores (interactive queries). fn must not block.
func (e *Engine) WithTasks(fn func(tasks []*streams.Task)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(e.taskList())
}

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms) }

// endTransaction flushes the stores and ends the open transaction (commit
// or abort). When the transaction did not commit (a rebalance, or an
// abort), the client is back at the last committed offsets and the tasks'
// stores hold changes that were rolled back: the tasks are rebuilt from
// their changelogs. Called with mu held.
func (e *Engine) endTransaction(ctx context.Context, try kgo.TransactionEndTry) error {
	if !e.inTxn {
		return nil
	}
	var errs []error
	if try == kgo.TryCommit {
		for _, t := range e.taskList() {
			errs = append(errs, t.Flush())
		}
		if err := errors.Join(errs...); err != nil {
			try = kgo.TryAbort
			e.log.Error("flushing before the transaction commit failed; aborting", "error", err)
		}
	}
	if try == kgo.TryCommit {
		e.rewindQueued()
	}
	e.out.expectAborts(try == kgo.TryAbort)
	// Cancelling End leaves the transactional client unusable: a stop
	// request waits for it.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.endTimeout())
	defer cancel()
	committed, err := e.sess.End(ectx, try)
	e.inTxn = false
	e.out.expectAborts(false)
	clear(e.processed)
	if err != nil {
		return fmt.Errorf("ending the transaction: %w", err)
	}
	if committed {
		return nil
	}
	e.resets++ // the session moved the positions back to the last commit
	if try == kgo.TryCommit {
		e.log.Warn("transaction aborted by a rebalance; processing again from the last commit")
	}
	e.out.clearErr()
	if e.closing {
		return nil
	}
	assigned := map[string][]int32{}
	for k := range e.assigned {
		assigned[k.topic] = append(assigned[k.topic], k.partition)
	}
	e.closeTasks(nil)
	return e.createTasks(ctx, assigned)
}

// rewindQueued moves the fetch position of every partition with queued,
// unprocessed records back to the first of them and drops them from the
// queue; they are fetched again. A transaction commits the client's fetch
// positions as the group's offsets, and those must not pass a record that
// was not processed (a task waiting for an empty partition, or a full
// queue). Called with mu held, before ending a transaction.
func (e *Engine) rewindQueued() {
	set := map[string]map[int32]kgo.EpochOffset{}
	var resume []tp
	for _, t := range e.taskList() {
		if t.BufferedTotal() == 0 {
			continue
		}
		p := t.ID().Partition
		for _, topic := range e.topo.SubTopologies()[t.ID().SubTopology].SourceTopics() {
			off, epoch, ok := t.FirstQueued(topic)
			if !ok {
				continue
			}
			if set[topic] == nil {
				set[topic] = map[int32]kgo.EpochOffset{}
			}
			set[topic][p] = kgo.EpochOffset{Epoch: epoch, Offset: off}
			t.DropQueued(topic)
			k := tp{topic, p}
			delete(e.position, k)
			if e.paused[k] {
				resume = append(resume, k)
			}
		}
	}
	if len(set) == 0 {
		return
	}
	e.cl.SetOffsets(set)
	for _, k := range resume {
		delete(e.paused, k)
		e.cl.ResumeFetchPartitions(map[string][]int32{k.topic: {k.partition}})
	}
}

// transactionalID names this instance's transactional producer: stable
// across restarts when the instance has a process id.
// resolvedTransactionalID is the transactional id on the cluster: ksml's
// id passed through axual.transactional.id.pattern when one is configured,
// as upstream's resolving producer does.
func resolvedTransactionalID(cfg *kafkaclient.Config, processID string) string {
	return cfg.Resolver.TransactionalID(transactionalID(cfg.ApplicationID, processID))
}

func transactionalID(appID, processID string) string {
	if processID != "" {
		return appID + "-" + processID
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%s-%d-%d", appID, host, os.Getpid(), time.Now().UnixNano())
}

// payload renders record bytes for a log line: text as is, other bytes as
// base64 with a "(base64)" prefix, null as "null".
func payload(b []byte) string {
	if b == nil {
		return "null"
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return "(base64)" + base64.StdEncoding.EncodeToString(b)
}
