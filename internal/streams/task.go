package streams

import (
	"errors"
	"fmt"
)

// TaskID identifies a task: a sub-topology and a partition, printed as
// Kafka Streams does ("0_1").
type TaskID struct {
	SubTopology int
	Partition   int32
}

func (id TaskID) String() string { return fmt.Sprintf("%d_%d", id.SubTopology, id.Partition) }

// RawRecord is a record as the I/O layer reads it from a topic partition.
type RawRecord struct {
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     int64
	TimestampType string
	Key           []byte
	Value         []byte
	Headers       []Header
	// LeaderEpoch is the partition leader epoch the record was fetched
	// at (-1 when unknown), committed with its offset.
	LeaderEpoch int32
}

// Task runs one sub-topology for one partition. It owns processor
// instances, stores, stream time and punctuators. A task is used from one
// goroutine at a time.
type Task struct {
	id         TaskID
	topo       *Topology
	sub        *SubTopology
	collector  RecordCollector
	contexts   []*ProcessorContext
	sources    map[string]*ProcessorContext
	stores     map[string]StateStore
	storeList  []StateStore
	streamTime int64
	lastWall   int64
	group      partitionGroup
	state      stateManager
	cur        RawRecord
	rc         RecordContext
	consumed   ConsumedRecord

	punctuators []*punctuator
	closed      bool
}

// NewTask creates the task for partition of sub-topology sub: it builds the
// stores, instantiates and initializes every processor. On error nothing is
// left open.
func NewTask(topo *Topology, sub *SubTopology, partition int32, collector RecordCollector) (*Task, error) {
	if !topo.built {
		return nil, errors.New("topology must be built before creating tasks")
	}
	t := &Task{
		id:         TaskID{SubTopology: sub.ID, Partition: partition},
		topo:       topo,
		sub:        sub,
		collector:  collector,
		sources:    map[string]*ProcessorContext{},
		stores:     map[string]StateStore{},
		streamTime: -1,
		lastWall:   -1,
		group:      partitionGroup{byTopic: map[string]*recordQueue{}, cfg: DefaultGroupConfig()},
	}
	for _, name := range sub.Stores {
		b := topo.stores[name]
		st, err := b.Build(t.id)
		if err != nil {
			t.closeStores()
			return nil, fmt.Errorf("creating store %q: %w", name, err)
		}
		if b.Logging() {
			st = t.logged(st, ChangelogTopic(topo.ApplicationID, name), timestampedValues(b))
		}
		t.stores[name] = st
		t.storeList = append(t.storeList, st)
	}
	if err := t.initState(); err != nil {
		t.closeStores()
		return nil, fmt.Errorf("task %s: %w", t.id, err)
	}
	byNode := make(map[*Node]*ProcessorContext, len(sub.Nodes))
	for _, n := range sub.Nodes {
		c := &ProcessorContext{task: t, node: n}
		switch n.Kind {
		case SourceNode:
			c.proc = ProcessorFunc(func(ctx *ProcessorContext, rec Record) error { return ctx.Forward(rec) })
			for _, tp := range n.Topics {
				t.sources[tp] = c
				t.group.add(tp, c)
			}
		case SinkNode:
			c.proc = &sinkProcessor{node: n}
		default:
			c.proc = n.Supplier()
			if c.proc == nil {
				t.closeStores()
				return nil, fmt.Errorf("processor %q: supplier returned nil", n.Name)
			}
		}
		byNode[n] = c
		t.contexts = append(t.contexts, c)
	}
	for _, c := range t.contexts {
		for _, child := range c.node.Children {
			c.children = append(c.children, byNode[child])
		}
	}
	for _, c := range t.contexts {
		if err := c.proc.Init(c); err != nil {
			t.Close()
			return nil, fmt.Errorf("initializing processor %q: %w", c.node.Name, err)
		}
	}
	return t, nil
}

// ID returns the task id.
func (t *Task) ID() TaskID { return t.id }

// StreamTime returns the highest timestamp processed, -1 before any record.
func (t *Task) StreamTime() int64 { return t.streamTime }

// Store returns one of the task's stores by name.
func (t *Task) Store(name string) (StateStore, bool) {
	s, ok := t.stores[name]
	return s, ok
}

// Process deserializes a record read from one of the task's topics, sets
// its timestamp and pushes it through the graph depth first, right away,
// bypassing the task's queues (tests and callers that order records
// themselves). Then it fires stream-time punctuators that became due.
// Records with a negative extracted timestamp are skipped (Kafka Streams'
// behaviour) and report nil.
func (t *Task) Process(raw *RawRecord) error {
	if t.closed {
		return errClosed(t)
	}
	q, ok := t.group.byTopic[raw.Topic]
	if !ok {
		return errNotMine(t, raw.Topic)
	}
	key, value, ts, err := t.prepare(q, raw)
	if err != nil {
		return err
	}
	if ts > q.partTime {
		q.partTime = ts
	}
	return t.run(q.src, raw, key, value, ts)
}

func errClosed(t *Task) error { return errors.New("task " + t.id.String() + " is closed") }

func errNotMine(t *Task, topic string) error {
	return fmt.Errorf("task %s does not read topic %q", t.id, topic)
}

// prepare deserializes key and value and extracts the timestamp of a record
// of q's partition (Kafka Streams does this when a record becomes the head
// of its RecordQueue).
func (t *Task) prepare(q *recordQueue, raw *RawRecord) (key, value any, ts int64, err error) {
	src := q.src
	opts := &src.node.Source
	key, err = deserialize(opts.KeySerde, raw.Topic, raw.Headers, raw.Key)
	if err != nil {
		src.node.Stats.errors.Add(1)
		return nil, nil, 0, &NodeError{Node: src.node.Name, Err: fmt.Errorf("deserializing key: %w", err)}
	}
	value, err = deserialize(opts.ValueSerde, raw.Topic, raw.Headers, raw.Value)
	if err != nil {
		src.node.Stats.errors.Add(1)
		return nil, nil, 0, &NodeError{Node: src.node.Name, Err: fmt.Errorf("deserializing value: %w", err)}
	}
	ts = raw.Timestamp
	if opts.TimestampExtractor != nil {
		t.consumed = ConsumedRecord{Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset,
			Timestamp: raw.Timestamp, TimestampType: raw.TimestampType, Key: key, Value: value, Headers: raw.Headers}
		ts, err = opts.TimestampExtractor(&t.consumed, q.partTime)
		if err != nil {
			src.node.Stats.errors.Add(1)
			return nil, nil, 0, &NodeError{Node: src.node.Name, Err: fmt.Errorf("timestamp extractor: %w", err)}
		}
	}
	return key, value, ts, nil
}

// run pushes a prepared record through the graph from its source node and
// fires due stream-time punctuators. A negative timestamp drops the record.
func (t *Task) run(src *ProcessorContext, raw *RawRecord, key, value any, ts int64) error {
	if ts < 0 {
		return nil
	}
	if ts > t.streamTime {
		t.streamTime = ts
	}
	t.rc = RecordContext{Topic: raw.Topic, Partition: raw.Partition, Offset: raw.Offset, Timestamp: ts, Headers: raw.Headers}
	if err := src.process(Record{Key: key, Value: value, Timestamp: ts, Headers: raw.Headers}); err != nil {
		return err
	}
	return t.punctuate(StreamTime, t.streamTime)
}

// PunctuateWallClock fires wall-clock punctuators due at now (epoch ms).
func (t *Task) PunctuateWallClock(now int64) error {
	t.lastWall = now
	return t.punctuate(WallClockTime, now)
}

func (t *Task) punctuate(typ PunctuationType, now int64) error {
	if now < 0 {
		return nil
	}
	for _, p := range t.punctuators {
		if p.cancelled || p.typ != typ {
			continue
		}
		if p.next < 0 {
			// The first punctuation is one interval after the schedule starts.
			p.next = now + p.interval
			continue
		}
		if now < p.next {
			continue
		}
		t.rc = RecordContext{Topic: "", Partition: t.id.Partition, Offset: -1, Timestamp: now}
		if err := p.fn(p.ctx, now); err != nil {
			return &NodeError{Node: p.ctx.node.Name, Err: fmt.Errorf("punctuator: %w", err)}
		}
		for p.next <= now {
			p.next += p.interval
		}
	}
	return nil
}

// Flush flushes all stores and the collector (a commit point).
func (t *Task) Flush() error {
	var errs []error
	if err := t.FlushCaches(); err != nil {
		errs = append(errs, err)
	}
	for _, s := range t.storeList {
		if err := s.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("flushing store %q: %w", s.Name(), err))
		}
	}
	if err := t.collector.Flush(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close closes processors and stores; it is safe to call twice.
func (t *Task) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	for _, c := range t.contexts {
		if c.proc != nil {
			if err := c.proc.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing processor %q: %w", c.node.Name, err))
			}
		}
	}
	errs = append(errs, t.closeStores())
	return errors.Join(errs...)
}

func (t *Task) closeStores() error {
	var errs []error
	for _, s := range t.storeList {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing store %q: %w", s.Name(), err))
		}
	}
	t.storeList = nil
	return errors.Join(errs...)
}

func deserialize(s Serde, topic string, headers []Header, data []byte) (any, error) {
	if s == nil {
		return nil, errors.New("no serde configured")
	}
	return s.Deserialize(topic, headers, data)
}

// loggedKeyValueStore sends every change to the store's changelog topic,
// to the task's partition, with the timestamp of the current record; a
// timestamped store's values go out as Kafka Streams writes them (see
// changelogValue).
type loggedKeyValueStore struct {
	KeyValueStore
	task        *Task
	topic       string
	timestamped bool
}

func (l *loggedKeyValueStore) log(key, value []byte) error {
	v, ts, err := changelogValue(l.Name(), value, l.timestamped, l.task.rc.Timestamp)
	if err != nil {
		return err
	}
	return l.task.collector.Send(l.topic, l.task.id.Partition, key, v, ts, nil)
}

func (l *loggedKeyValueStore) Put(key, value []byte) error {
	if err := l.KeyValueStore.Put(key, value); err != nil {
		return err
	}
	return l.log(key, value)
}

func (l *loggedKeyValueStore) PutIfAbsent(key, value []byte) ([]byte, error) {
	prev, err := l.KeyValueStore.PutIfAbsent(key, value)
	if err != nil || prev != nil {
		return prev, err
	}
	return nil, l.log(key, value)
}

func (l *loggedKeyValueStore) Delete(key []byte) ([]byte, error) {
	prev, err := l.KeyValueStore.Delete(key)
	if err != nil {
		return prev, err
	}
	return prev, l.log(key, nil)
}
