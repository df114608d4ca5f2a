package streams

import "fmt"

// ChangelogPartition names the changelog partition a task's store restores
// from: partition p of the store's changelog topic belongs to the task of
// partition p.
type ChangelogPartition struct {
	Store     string
	Topic     string
	Partition int32
}

// Changelogs lists the changelog partitions of the task's logged stores.
// The I/O layer reads each from the beginning (or from a checkpoint) and
// feeds the records to Restore before the task processes anything.
func (t *Task) Changelogs() []ChangelogPartition {
	var out []ChangelogPartition
	for _, name := range t.sub.Stores {
		if b := t.topo.stores[name]; b.Logging() {
			out = append(out, ChangelogPartition{Store: name, Topic: ChangelogTopic(t.topo.ApplicationID, name), Partition: t.id.Partition})
		}
	}
	return out
}

// Restore applies one changelog record to a store without logging it again:
// a nil value deletes the key. Only key/value stores restore this way; other
// kinds return an error until they have a changelog format.
func (t *Task) Restore(store string, key, value []byte) error {
	st, ok := t.stores[store]
	if !ok {
		return fmt.Errorf("task %s has no store %q", t.id, store)
	}
	if l, ok := st.(*loggedKeyValueStore); ok {
		st = l.KeyValueStore
	}
	if handled, err := restoreWindowed(st, key, value); handled {
		return err
	}
	kv, ok := st.(KeyValueStore)
	if !ok {
		return fmt.Errorf("store %q cannot be restored from a changelog yet", store)
	}
	if value == nil {
		_, err := kv.Delete(key)
		return err
	}
	return kv.Put(key, value)
}
