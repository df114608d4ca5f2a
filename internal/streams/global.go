package streams

import (
	"sort"
	"sync"
)

// Global topics feed globalTables: every application instance reads all of
// their partitions, from the start, and a global store is complete before
// the instance processes anything else (Kafka Streams' global state). The
// topology marks them; the I/O layer reads them outside the consumer group.
//
// The marks live beside the Topology (keyed by it) so the graph type stays
// unchanged.

var globalTopics sync.Map // *Topology -> map[string]bool

// MarkGlobal declares that topic feeds a global store.
func (t *Topology) MarkGlobal(topic string) {
	m, _ := globalTopics.LoadOrStore(t, &sync.Map{})
	m.(*sync.Map).Store(topic, true)
}

// IsGlobal reports whether topic feeds a global store.
func (t *Topology) IsGlobal(topic string) bool {
	m, ok := globalTopics.Load(t)
	if !ok {
		return false
	}
	_, ok = m.(*sync.Map).Load(topic)
	return ok
}

// GlobalTopics returns the topics that feed global stores, sorted. The I/O
// layer must not balance them in the consumer group: it reads every
// partition of each from the beginning up to its end offset before
// processing other records (bootstrap), then keeps following them. Their
// records go to Task.Process of a task of the sub-topology that reads them
// (SubTopologyFor), whatever partition they come from; one such task per
// instance suffices.
func (t *Topology) GlobalTopics() []string {
	m, ok := globalTopics.Load(t)
	if !ok {
		return nil
	}
	var out []string
	m.(*sync.Map).Range(func(k, _ any) bool { out = append(out, k.(string)); return true })
	sort.Strings(out)
	return out
}
