// Package testdriver runs a topology in memory, synchronously and
// deterministically: the equivalent of Kafka Streams' TopologyTestDriver.
//
// Every topic has one partition and one task per sub-topology runs
// partition 0; a partition chosen by a partitioner is recorded on the output
// record but not checked against a partition count (as TopologyTestDriver). A record piped in is processed to completion before Pipe
// returns; records the topology writes are kept per topic, and records
// written to a topic the topology itself reads (repartition topics, or
// pipelines chained through a topic) are fed back in the order they were
// written, after the record that caused them. Processing errors are
// returned from Pipe; the driver stays usable for the next record.
package testdriver

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// OutputRecord is a record written to a topic.
type OutputRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp int64
	Headers   []streams.Header
}

// Options tune a Driver.
type Options struct {
	// WallClockStart is the initial wall-clock time in epoch ms.
	WallClockStart int64
}

// Driver feeds records to the tasks of a topology and captures its output.
type Driver struct {
	topo      *streams.Topology
	tasks     *streams.Tasks
	written   map[string][]OutputRecord
	read      map[string]int
	offsets   map[string]int64
	pending   []OutputRecord
	wallClock int64
	raw       streams.RawRecord
	closed    bool
}

// New builds topo (if needed) and creates one task per sub-topology.
func New(topo *streams.Topology, opts Options) (*Driver, error) {
	d := &Driver{
		topo:      topo,
		written:   map[string][]OutputRecord{},
		read:      map[string]int{},
		offsets:   map[string]int64{},
		wallClock: opts.WallClockStart,
	}
	tasks, err := streams.NewTasks(topo, (*collector)(d))
	if err != nil {
		return nil, err
	}
	d.tasks = tasks
	// Every record of a topic is piped before it is processed: the tasks
	// never wait for more (fetched lag 0), as TopologyTestDriver's
	// consumer is always caught up.
	tasks.SetCaughtUp(true)
	if err := tasks.Assign(0); err != nil {
		tasks.Close()
		return nil, err
	}
	return d, nil
}

// Pipe writes one record to topic and processes it and everything it causes
// to completion. A record for a topic no source reads is dropped.
func (d *Driver) Pipe(topic string, key, value []byte, timestamp int64, headers []streams.Header) error {
	if d.closed {
		return errors.New("test driver is closed")
	}
	d.pending = d.pending[:0]
	off := d.offsets[topic]
	d.offsets[topic] = off + 1
	d.pending = append(d.pending, OutputRecord{Topic: topic, Offset: off, Key: key, Value: value, Timestamp: timestamp, Headers: headers})
	if err := d.drainPending(); err != nil {
		return err
	}
	return d.flushCaches()
}

// flushCaches forwards what record caches hold back after each record, as
// TopologyTestDriver's commit after each record does, and processes what
// that writes to the topology's own topics.
func (d *Driver) flushCaches() error {
	for i := 0; i < 100; i++ {
		if err := d.tasks.FlushCaches(); err != nil {
			return err
		}
		if len(d.pending) == 0 {
			return nil
		}
		if err := d.drainPending(); err != nil {
			return err
		}
	}
	return errors.New("record caches keep producing records")
}

func (d *Driver) append(topic string, key, value []byte, ts int64, headers []streams.Header) OutputRecord {
	off := d.offsets[topic]
	d.offsets[topic] = off + 1
	rec := OutputRecord{Topic: topic, Offset: off, Key: key, Value: value, Timestamp: ts, Headers: headers}
	d.written[topic] = append(d.written[topic], rec)
	return rec
}

// AdvanceWallClock moves the wall clock forward and fires wall-clock
// punctuators of every task.
func (d *Driver) AdvanceWallClock(ms int64) error {
	if ms < 0 {
		return fmt.Errorf("cannot move the wall clock back (%d ms)", ms)
	}
	d.wallClock += ms
	d.pending = d.pending[:0]
	err := d.tasks.PunctuateWallClock(d.wallClock)
	return errors.Join(err, d.drainPending())
}

func (d *Driver) drainPending() error {
	var errs []error
	for i := 0; i < len(d.pending); i++ {
		rec := d.pending[i]
		if !d.tasks.Owns(rec.Topic, 0) {
			continue
		}
		d.raw = streams.RawRecord{Topic: rec.Topic, Offset: rec.Offset, Timestamp: rec.Timestamp,
			TimestampType: streams.TimestampTypeCreateTime, Key: rec.Key, Value: rec.Value, Headers: rec.Headers}
		// The same path as on Kafka: the record joins its partition's
		// queue and the task takes it in timestamp order.
		if err := d.tasks.Enqueue(&d.raw); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := d.tasks.ProcessReady(d.wallClock); err != nil {
			errs = append(errs, err)
		}
	}
	d.pending = d.pending[:0]
	return errors.Join(errs...)
}

// Output returns every record the topology wrote to topic so far, without
// consuming them. Records piped in are not output (as TopologyTestDriver).
func (d *Driver) Output(topic string) []OutputRecord { return d.written[topic] }

// ReadOutput returns the records written to topic since the last
// ReadOutput call for it, like reading an output topic to the end.
func (d *Driver) ReadOutput(topic string) []OutputRecord {
	all := d.written[topic]
	from := d.read[topic]
	d.read[topic] = len(all)
	return all[from:]
}

// Topics returns the names of all topics the topology wrote to, sorted.
func (d *Driver) Topics() []string {
	out := make([]string, 0, len(d.written))
	for t := range d.written {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Store returns the store called name from whichever task owns it.
func (d *Driver) Store(name string) (streams.StateStore, bool) {
	return d.tasks.Store(name, 0)
}

// Close closes all tasks.
func (d *Driver) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.tasks.Close()
}

// collector is the driver seen as the tasks' RecordCollector.
type collector Driver

func (c *collector) Send(topic string, partition int32, key, value []byte, ts int64, headers []streams.Header) error {
	d := (*Driver)(c)
	rec := d.append(topic, key, value, ts, headers)
	if partition > 0 {
		// Like TopologyTestDriver: every topic has one partition for
		// processing, but the partition a partitioner chose is kept.
		rec.Partition = partition
		d.written[topic][len(d.written[topic])-1].Partition = partition
	}
	d.pending = append(d.pending, rec)
	return nil
}

func (c *collector) Partitions(string) (int, error) { return 1, nil }

func (c *collector) Flush() error { return nil }
