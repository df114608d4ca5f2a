package streams

import "fmt"

// Restore applies one changelog record (its key, value and timestamp) to a
// store without logging it again: a nil value deletes the key (or
// session). Key/value, window and session stores restore this way (window
// and session changelog keys carry the window, as Kafka Streams writes
// them; a timestamped store gets the record's timestamp back in front of
// the value); a store of another kind, or a changelog key that does not
// parse, is an error.
func (t *Task) Restore(store string, key, value []byte, timestamp int64) error {
	st, ok := t.stores[store]
	if !ok {
		return fmt.Errorf("task %s has no store %q", t.id, store)
	}
	if l, ok := st.(*loggedKeyValueStore); ok {
		st, value = l.KeyValueStore, storedValue(value, l.timestamped, timestamp)
	}
	if handled, err := restoreWindowed(st, key, value, timestamp); handled {
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
