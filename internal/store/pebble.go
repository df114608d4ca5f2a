package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ksml-dev/ksml/internal/streams"
)

// PebbleKeyValue is a persistent key/value store on Pebble, ordered by key
// bytes like the in-memory store. Writes skip the WAL sync; Flush syncs it
// (the task's commit point), so a crash loses at most the writes since the
// last commit, which the changelog restores.
type PebbleKeyValue struct {
	name string
	dir  string
	db   *pebble.DB
}

var _ streams.KeyValueStore = (*PebbleKeyValue)(nil)

// OpenPebbleKeyValue opens (creating when missing) the store in dir.
func OpenPebbleKeyValue(name, dir string) (*PebbleKeyValue, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store %q: %w", name, err)
	}
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("store %q: opening %s: %w", name, dir, err)
	}
	return &PebbleKeyValue{name: name, dir: dir, db: db}, nil
}

// PersistentDir is where a task's persistent store lives:
// <base>/<task>/<store>, base being storageDirectory/<application.id>.
func PersistentDir(base string, task streams.TaskID, store string) string {
	return filepath.Join(base, task.String(), store)
}

// Name returns the store name.
func (p *PebbleKeyValue) Name() string { return p.name }

// Persistent reports true.
func (p *PebbleKeyValue) Persistent() bool { return true }

// Dir returns the directory of the store.
func (p *PebbleKeyValue) Dir() string { return p.dir }

// Flush makes every write so far durable.
func (p *PebbleKeyValue) Flush() error { return p.db.LogData(nil, pebble.Sync) }

// Close syncs and closes the database.
func (p *PebbleKeyValue) Close() error {
	if p.db == nil {
		return nil
	}
	err := errors.Join(p.Flush(), p.db.Close())
	p.db = nil
	return err
}

// Get returns the value of key, nil when absent.
func (p *PebbleKeyValue) Get(key []byte) ([]byte, error) {
	v, closer, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, v...)
	return out, closer.Close()
}

// Put stores value under key; a nil value deletes the key.
func (p *PebbleKeyValue) Put(key, value []byte) error {
	if value == nil {
		return p.db.Delete(key, pebble.NoSync)
	}
	return p.db.Set(key, value, pebble.NoSync)
}

// PutIfAbsent stores value unless key exists; it returns the existing value.
func (p *PebbleKeyValue) PutIfAbsent(key, value []byte) ([]byte, error) {
	prev, err := p.Get(key)
	if err != nil || prev != nil {
		return prev, err
	}
	return nil, p.Put(key, value)
}

// Delete removes key and returns its previous value.
func (p *PebbleKeyValue) Delete(key []byte) ([]byte, error) {
	prev, err := p.Get(key)
	if err != nil || prev == nil {
		return prev, err
	}
	return prev, p.db.Delete(key, pebble.NoSync)
}

// Range iterates entries with from <= key < to in byte order. The iterator
// reads a snapshot, so fn may write to the store.
func (p *PebbleKeyValue) Range(from, to []byte, reverse bool, fn func(key, value []byte) bool) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: to})
	if err != nil {
		return err
	}
	ok := it.First()
	if reverse {
		ok = it.Last()
	}
	for ; ok; ok = step(it, reverse) {
		if !fn(append([]byte{}, it.Key()...), append([]byte{}, it.Value()...)) {
			break
		}
	}
	return it.Close()
}

func step(it *pebble.Iterator, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}

// ApproximateNumEntries counts the entries (a scan; it is rarely called).
func (p *PebbleKeyValue) ApproximateNumEntries() int64 {
	var n int64
	p.Range(nil, nil, false, func(_, _ []byte) bool { n++; return true })
	return n
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// prefixEnd is the smallest key greater than every key with prefix p, or
// nil when there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
