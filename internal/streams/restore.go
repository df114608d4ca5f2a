package streams

import "fmt"

// Restore applies one changelog record to a store without logging it again:
// a nil value deletes the key (or session). Key/value, window and session
// stores restore this way (window and session changelog keys carry the
// window, as Kafka Streams writes them); a store of another kind, or a
// changelog key that does not parse, is an error.
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
