package streams

import (
	"errors"
	"fmt"
	"sort"
)

// Tasks manages the tasks of one application instance: it creates a task
// per (sub-topology, partition) when partitions are assigned, routes each
// consumed record to the task that owns its topic partition, and flushes or
// closes them together. An I/O layer drives it; it is used from one
// goroutine at a time.
type Tasks struct {
	topo      *Topology
	collector RecordCollector
	group     GroupConfig
	// caughtUp makes every new task consider its partitions fully fetched
	// (lag 0): the in-memory driver holds no records beyond what it queued.
	caughtUp bool
	tasks    map[TaskID]*Task
	owner    map[topicPartition]*Task
}

type topicPartition struct {
	topic     string
	partition int32
}

// NewTasks builds topo if needed and returns an empty task set.
func NewTasks(topo *Topology, collector RecordCollector) (*Tasks, error) {
	if err := topo.Build(); err != nil {
		return nil, err
	}
	return &Tasks{topo: topo, collector: collector, group: DefaultGroupConfig(), tasks: map[TaskID]*Task{}, owner: map[topicPartition]*Task{}}, nil
}

// SetGroupConfig sets the partition group settings of tasks created from
// now on.
func (m *Tasks) SetGroupConfig(cfg GroupConfig) { m.group = cfg }

// SetCaughtUp makes tasks created from now on treat their empty partitions
// as having nothing more on the broker (fetched lag 0), for an I/O layer
// that hands over every record it has at once.
func (m *Tasks) SetCaughtUp(on bool) { m.caughtUp = on }

// Assign creates the tasks for partition p of every sub-topology (partition
// p of all its source topics, which are co-partitioned). Existing tasks are
// kept.
func (m *Tasks) Assign(partitions ...int32) error {
	for _, p := range partitions {
		for _, sub := range m.topo.SubTopologies() {
			id := TaskID{SubTopology: sub.ID, Partition: p}
			if _, ok := m.tasks[id]; ok {
				continue
			}
			t, err := NewTask(m.topo, sub, p, m.collector)
			if err != nil {
				return fmt.Errorf("creating task %s: %w", id, err)
			}
			t.SetGroupConfig(m.group)
			if m.caughtUp {
				for _, topic := range sub.SourceTopics() {
					t.SetFetchedLag(topic, 0)
				}
			}
			m.tasks[id] = t
			for _, topic := range sub.SourceTopics() {
				m.owner[topicPartition{topic, p}] = t
			}
		}
	}
	return nil
}

// Revoke flushes and closes the tasks of the given partitions.
func (m *Tasks) Revoke(partitions ...int32) error {
	var errs []error
	for _, p := range partitions {
		for id, t := range m.tasks {
			if id.Partition != p {
				continue
			}
			errs = append(errs, t.Flush(), t.Close())
			delete(m.tasks, id)
			for _, topic := range t.sub.SourceTopics() {
				delete(m.owner, topicPartition{topic, p})
			}
		}
	}
	return errors.Join(errs...)
}

// Process hands a record to the task owning its topic partition.
func (m *Tasks) Process(raw *RawRecord) error {
	t, ok := m.owner[topicPartition{raw.Topic, raw.Partition}]
	if !ok {
		return fmt.Errorf("no task owns partition %d of topic %q", raw.Partition, raw.Topic)
	}
	return t.Process(raw)
}

// Enqueue adds a record to the queue of the task owning its topic
// partition; ProcessReady processes it.
func (m *Tasks) Enqueue(raw *RawRecord) error {
	t, ok := m.owner[topicPartition{raw.Topic, raw.Partition}]
	if !ok {
		return fmt.Errorf("no task owns partition %d of topic %q", raw.Partition, raw.Topic)
	}
	_, err := t.AddRecord(raw)
	return err
}

// ProcessReady lets every task process its queued records in timestamp
// order while it is ready at wall-clock time now. Errors of failing
// records are collected and processing goes on with the next record.
func (m *Tasks) ProcessReady(now int64) error {
	var errs []error
	for _, t := range m.List() {
		for {
			_, ok, err := t.ProcessNext(now)
			if err != nil {
				errs = append(errs, err)
			}
			if !ok {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// Owns reports whether a task reads the topic partition.
func (m *Tasks) Owns(topic string, partition int32) bool {
	_, ok := m.owner[topicPartition{topic, partition}]
	return ok
}

// List returns the tasks ordered by id.
func (m *Tasks) List() []*Task {
	out := make([]*Task, 0, len(m.tasks))
	for _, t := range m.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].id, out[j].id
		if a.SubTopology != b.SubTopology {
			return a.SubTopology < b.SubTopology
		}
		return a.Partition < b.Partition
	})
	return out
}

// PunctuateWallClock fires due wall-clock punctuators of every task.
func (m *Tasks) PunctuateWallClock(now int64) error {
	var errs []error
	for _, t := range m.List() {
		errs = append(errs, t.PunctuateWallClock(now))
	}
	return errors.Join(errs...)
}

// Flush flushes every task (a commit point).
func (m *Tasks) Flush() error {
	var errs []error
	for _, t := range m.List() {
		errs = append(errs, t.Flush())
	}
	return errors.Join(errs...)
}

// Store returns a store of the task for partition that owns it.
func (m *Tasks) Store(name string, partition int32) (StateStore, bool) {
	for _, t := range m.List() {
		if t.id.Partition == partition {
			if s, ok := t.Store(name); ok {
				return s, true
			}
		}
	}
	return nil, false
}

// Close closes every task.
func (m *Tasks) Close() error {
	var errs []error
	for _, t := range m.List() {
		errs = append(errs, t.Close())
	}
	m.tasks = map[TaskID]*Task{}
	m.owner = map[topicPartition]*Task{}
	return errors.Join(errs...)
}
