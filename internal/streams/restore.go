package streams

import "fmt"

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
