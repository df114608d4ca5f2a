package streams

import "errors"

// CachingProcessor is a processor with a record cache: it holds back the
// updates of a materialized table and forwards only the latest per key when
// the cache is flushed, as Kafka Streams does for stores with caching on.
// Caches are flushed at every commit point (Task.Flush), before the stores
// and the collector, so what they forward is part of the commit.
type CachingProcessor interface {
	Processor
	FlushCache(ctx *ProcessorContext) error
}

// FlushCaches makes every caching processor of the task forward what it
// holds back. The test driver calls it after each record, as
// TopologyTestDriver commits after each record.
func (t *Task) FlushCaches() error {
	var errs []error
	for _, c := range t.contexts {
		if cp, ok := c.proc.(CachingProcessor); ok {
			if err := cp.FlushCache(c); err != nil {
				errs = append(errs, &NodeError{Node: c.node.Name, Err: err})
			}
		}
	}
	return errors.Join(errs...)
}

// FlushCaches flushes the record caches of every task.
func (m *Tasks) FlushCaches() error {
	var errs []error
	for _, t := range m.List() {
		if err := t.FlushCaches(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
