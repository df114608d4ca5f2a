package streams

// The partition group of a task, as Kafka Streams' PartitionGroup and
// RecordQueue: one FIFO queue per input partition, filled by the I/O layer
// with what it fetched, drained by the task in timestamp order. Among the
// queues that hold records, the task processes the head with the lowest
// timestamp next, so stream time advances evenly over all the task's
// topics however the fetched batches interleave. Before taking a record
// while one of its partitions is empty, the task waits as max.task.idle.ms
// says (readyToProcess).

// Kafka Streams' defaults for the partition group settings.
const (
	// DefaultMaxTaskIdleMs is max.task.idle.ms: 0 waits for empty
	// partitions only while the broker is known to have (or may have)
	// records for them; -1 (MaxTaskIdleDisabled) never waits.
	DefaultMaxTaskIdleMs = 0
	// MaxTaskIdleDisabled turns idling off: a task processes whatever it
	// has buffered, possibly out of timestamp order across partitions.
	MaxTaskIdleDisabled = -1
	// DefaultBufferedRecordsPerPartition is buffered.records.per.partition:
	// a queue longer than this asks the I/O layer to pause fetching its
	// partition until the task drained it back to this size.
	DefaultBufferedRecordsPerPartition = 1000
	// LagUnknown is the fetched lag of a partition the I/O layer has no
	// fetch metadata for yet.
	LagUnknown = -1
)

// GroupConfig tunes a task's partition group.
type GroupConfig struct {
	// MaxTaskIdleMs is max.task.idle.ms (see DefaultMaxTaskIdleMs).
	MaxTaskIdleMs int64
	// BufferedRecordsPerPartition is buffered.records.per.partition; 0
	// means the default.
	BufferedRecordsPerPartition int
}

// DefaultGroupConfig returns Kafka Streams' defaults.
func DefaultGroupConfig() GroupConfig {
	return GroupConfig{MaxTaskIdleMs: DefaultMaxTaskIdleMs, BufferedRecordsPerPartition: DefaultBufferedRecordsPerPartition}
}

// recordQueue holds the fetched, unprocessed records of one input partition.
// The head is prepared (deserialized, timestamp extracted) once, when the
// group compares heads.
type recordQueue struct {
	topic string
	src   *ProcessorContext
	recs  []RawRecord
	first int

	prepared  bool
	key, val  any
	headTS    int64
	partTime  int64 // highest timestamp seen at the head, -1 at first
	lag       int64 // fetched lag reported by the I/O layer, LagUnknown if none
	deadline  int64 // idle deadline while empty with zero lag
	idleSince bool  // deadline is set
}

func (q *recordQueue) size() int { return len(q.recs) - q.first }

func (q *recordQueue) head() *RawRecord { return &q.recs[q.first] }

// pop removes the head, keeping the backing array.
func (q *recordQueue) pop() {
	q.recs[q.first] = RawRecord{}
	q.first++
	q.prepared, q.key, q.val = false, nil, nil
	switch {
	case q.first == len(q.recs):
		q.recs, q.first = q.recs[:0], 0
	case q.first >= 1024 && 2*q.first >= len(q.recs):
		n := copy(q.recs, q.recs[q.first:])
		clear(q.recs[n:])
		q.recs, q.first = q.recs[:n], 0
	}
}

func (q *recordQueue) clear() {
	clear(q.recs)
	q.recs, q.first = q.recs[:0], 0
	q.prepared, q.key, q.val = false, nil, nil
}

// partitionGroup is the set of queues of a task in a fixed order (the
// order of its source topics), which breaks timestamp ties.
type partitionGroup struct {
	queues      []*recordQueue
	byTopic     map[string]*recordQueue
	cfg         GroupConfig
	buffered    int
	enforced    int64
	lastEnforce bool
}

func (g *partitionGroup) add(topic string, src *ProcessorContext) {
	q := &recordQueue{topic: topic, src: src, partTime: -1, lag: LagUnknown}
	g.queues = append(g.queues, q)
	g.byTopic[topic] = q
}

// readyToProcess is Kafka Streams' PartitionGroup.readyToProcess: with
// idling disabled the task is ready whenever it has a record; otherwise
// every empty partition must be known to have nothing on the broker (lag
// 0) for max.task.idle.ms of wall-clock time, or the task waits. A record
// processed while some partition is empty counts as enforced processing.
func (g *partitionGroup) readyToProcess(now int64) bool {
	g.lastEnforce = false
	if g.buffered == 0 {
		return false
	}
	if g.cfg.MaxTaskIdleMs == MaxTaskIdleDisabled {
		return true
	}
	enforced := false
	for _, q := range g.queues {
		if q.size() > 0 {
			q.idleSince = false
			continue
		}
		switch {
		case q.lag == LagUnknown || q.lag > 0:
			// Wait for the fetch that brings the partition's records (or
			// tells us there are none).
			q.idleSince = false
			return false
		default:
			if !q.idleSince {
				q.idleSince, q.deadline = true, now+g.cfg.MaxTaskIdleMs
			}
			if now < q.deadline {
				return false
			}
			enforced = true
		}
	}
	g.lastEnforce = enforced
	return true
}

// EnforcedProcessing returns how many records the task processed while
// one of its partitions was empty (after max.task.idle.ms ran out), Kafka
// Streams' enforced-processing count. Such records may be out of timestamp
// order with records that arrive later on the empty partition.
func (t *Task) EnforcedProcessing() int64 { return t.group.enforced }

// SetGroupConfig sets max.task.idle.ms and buffered.records.per.partition
// for the task. Call it before the first record.
func (t *Task) SetGroupConfig(cfg GroupConfig) {
	if cfg.BufferedRecordsPerPartition <= 0 {
		cfg.BufferedRecordsPerPartition = DefaultBufferedRecordsPerPartition
	}
	if cfg.MaxTaskIdleMs < MaxTaskIdleDisabled {
		cfg.MaxTaskIdleMs = MaxTaskIdleDisabled
	}
	t.group.cfg = cfg
}

// AddRecord appends a fetched record to the queue of its topic partition;
// the task processes it later, in timestamp order with its other queues
// (ProcessNext). The record's byte slices must stay unchanged until then.
// It reports whether the queue is now longer than
// buffered.records.per.partition, when the I/O layer should pause fetching
// the partition (Kafka Streams' StreamTask.addRecords).
func (t *Task) AddRecord(raw *RawRecord) (full bool, err error) {
	if t.closed {
		return false, errClosed(t)
	}
	q, ok := t.group.byTopic[raw.Topic]
	if !ok {
		return false, errNotMine(t, raw.Topic)
	}
	q.recs = append(q.recs, *raw)
	t.group.buffered++
	return q.size() > t.group.cfg.BufferedRecordsPerPartition, nil
}

// SetFetchedLag records how many records the broker holds for topic's
// partition beyond what was fetched (LagUnknown when not known): the idling
// decision of readyToProcess depends on it for empty partitions.
func (t *Task) SetFetchedLag(topic string, lag int64) {
	if q, ok := t.group.byTopic[topic]; ok {
		if lag < 0 {
			lag = LagUnknown
		}
		q.lag = lag
	}
}

// Buffered returns the number of queued records of topic's partition.
func (t *Task) Buffered(topic string) int {
	if q, ok := t.group.byTopic[topic]; ok {
		return q.size()
	}
	return 0
}

// BufferedTotal returns the number of queued records of all partitions.
func (t *Task) BufferedTotal() int { return t.group.buffered }

// Resumable reports whether a paused partition's queue has drained to
// buffered.records.per.partition, so fetching it may resume.
func (t *Task) Resumable(topic string) bool {
	return t.Buffered(topic) <= t.group.cfg.BufferedRecordsPerPartition
}

// ClearBuffered drops every queued record (the positions of the I/O layer
// are reset to the last commit, as after an aborted transaction).
func (t *Task) ClearBuffered() {
	for _, q := range t.group.queues {
		q.clear()
	}
	t.group.buffered = 0
}

// ProcessNext processes the next record of the task's queues when the task
// is ready at wall-clock time now (epoch ms): the queued head with the
// lowest timestamp, earlier source topics first on ties. ok is false when
// nothing was taken (no record, or the task waits for an empty partition as
// max.task.idle.ms says). When ok is true, raw is the record taken (valid
// until the next call) and err its processing error: a record that fails to
// deserialize or to extract a timestamp is taken with its error, and one
// with a negative timestamp is taken and dropped (err nil), as Kafka
// Streams does.
func (t *Task) ProcessNext(now int64) (raw *RawRecord, ok bool, err error) {
	if t.closed {
		return nil, false, errClosed(t)
	}
	g := &t.group
	if !g.readyToProcess(now) {
		return nil, false, nil
	}
	var best *recordQueue
	for _, q := range g.queues {
		if q.size() == 0 {
			continue
		}
		if !q.prepared {
			h := q.head()
			q.key, q.val, q.headTS, err = t.prepare(q, h)
			if err != nil || q.headTS < 0 {
				// Taken right away: it has no timestamp to order it by.
				t.cur = *h
				q.pop()
				g.buffered--
				return &t.cur, true, err
			}
			q.prepared = true
			if q.headTS > q.partTime {
				q.partTime = q.headTS
			}
		}
		if best == nil || q.headTS < best.headTS {
			best = q
		}
	}
	if g.lastEnforce {
		g.enforced++
	}
	t.cur = *best.head()
	key, val, ts := best.key, best.val, best.headTS
	best.pop()
	g.buffered--
	return &t.cur, true, t.run(best.src, &t.cur, key, val, ts)
}

// FetchedLag returns the fetched lag last set for topic's partition,
// LagUnknown if none.
func (t *Task) FetchedLag(topic string) int64 {
	if q, ok := t.group.byTopic[topic]; ok {
		return q.lag
	}
	return LagUnknown
}

// FirstQueued returns the offset and leader epoch of the oldest queued
// record of topic's partition; ok is false when its queue is empty.
func (t *Task) FirstQueued(topic string) (offset int64, epoch int32, ok bool) {
	q, found := t.group.byTopic[topic]
	if !found || q.size() == 0 {
		return 0, 0, false
	}
	h := q.head()
	return h.Offset, h.LeaderEpoch, true
}

// DropQueued drops the queued records of topic's partition (the I/O layer
// moved its fetch position back to the first of them).
func (t *Task) DropQueued(topic string) {
	if q, ok := t.group.byTopic[topic]; ok {
		t.group.buffered -= q.size()
		q.clear()
	}
}
