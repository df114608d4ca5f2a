package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ksml-dev/ksml/internal/streams"
)

// PebbleKeyValue is a persistent key/value store on Pebble, ordered by key
// bytes like the in-memory store.
//
// A bounded cache of recent keys sits in front of Pebble, as RocksDB's
// write buffer and Kafka Streams' caching layer do for its stores: Get of a
// recently read or written key (an aggregate's next update) is a map
// lookup, and Put only marks the key dirty. Dirty keys are written to
// Pebble in one batch (the latest value per key, each once) when the store
// is flushed (the task's commit point), before every Range (which reads
// Pebble) and when the cache outgrows its budget. Writes skip the WAL sync;
// Flush syncs it, so a crash loses at most the writes since the last
// commit, which the changelog restores. The store's changelog and the
// records forwarded downstream are not affected: they see every write.
type PebbleKeyValue struct {
	name string
	dir  string
	db   *pebble.DB

	// mu guards the cache; the engine serializes store use already, so it
	// is uncontended and only keeps a stray concurrent reader safe.
	mu          sync.Mutex
	recent      map[string]*recentValue
	recentBytes int
	dirty       int
}

// recentValue is a cached key: its value or that it is absent, and
// whether Pebble has yet to be told.
type recentValue struct {
	value   []byte
	present bool
	dirty   bool
}

// recentBudget bounds a store's cache of recent keys, counted as key and
// value bytes plus recentOverhead per entry (the map's own memory).
const (
	recentBudget   = 8 << 20
	recentOverhead = 96
)

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
	return &PebbleKeyValue{name: name, dir: dir, db: db, recent: map[string]*recentValue{}}, nil
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

// Flush writes the dirty keys and makes every write so far durable. On
// error the keys stay dirty and a later Flush tries again.
func (p *PebbleKeyValue) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writeDirty(); err != nil {
		return err
	}
	return p.db.LogData(nil, pebble.Sync)
}

// Close flushes, syncs and closes the database.
func (p *PebbleKeyValue) Close() error {
	if p.db == nil {
		return nil
	}
	err := errors.Join(p.Flush(), p.db.Close())
	p.mu.Lock()
	p.db, p.recent, p.recentBytes, p.dirty = nil, nil, 0, 0
	p.mu.Unlock()
	return err
}

// writeDirty writes the dirty keys to Pebble in one batch, without sync.
// Called with mu held.
func (p *PebbleKeyValue) writeDirty() error {
	if p.dirty == 0 {
		return nil
	}
	b := p.db.NewBatch()
	defer b.Close()
	for k, v := range p.recent {
		if !v.dirty {
			continue
		}
		var err error
		if v.present {
			err = b.Set([]byte(k), v.value, nil)
		} else {
			err = b.Delete([]byte(k), nil)
		}
		if err != nil {
			return fmt.Errorf("store %q: %w", p.name, err)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store %q: writing %d keys: %w", p.name, p.dirty, err)
	}
	for _, v := range p.recent {
		v.dirty = false
	}
	p.dirty = 0
	return nil
}

// Get returns the value of key, nil when absent.
func (p *PebbleKeyValue) Get(key []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.recent[string(key)]; ok {
		if !r.present {
			return nil, nil
		}
		return append([]byte{}, r.value...), nil
	}
	v, closer, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, p.remember(key, nil, false)
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, v...)
	if err := closer.Close(); err != nil {
		return nil, err
	}
	return append([]byte{}, out...), p.remember(key, out, false)
}

// remember caches the value of key (nil: absent), dirty when Pebble has
// yet to get it. A cached key is updated in place (one map lookup, no
// allocation). Over budget, it first writes the dirty keys and then drops
// arbitrary entries (Go's map order is random). Called with mu held.
func (p *PebbleKeyValue) remember(key, value []byte, dirty bool) error {
	size := len(key) + len(value) + recentOverhead
	e, ok := p.recent[string(key)]
	if ok {
		p.recentBytes -= len(key) + len(e.value) + recentOverhead
		if e.dirty {
			p.dirty--
		}
	}
	if p.recentBytes+size > recentBudget {
		if err := p.writeDirty(); err != nil {
			if ok { // unchanged
				p.recentBytes += len(key) + len(e.value) + recentOverhead
				if e.dirty {
					p.dirty++
				}
			}
			return err
		}
		for ek, ev := range p.recent {
			if p.recentBytes+size <= recentBudget/2 {
				break
			}
			if ev != e {
				p.recentBytes -= len(ek) + len(ev.value) + recentOverhead
				delete(p.recent, ek)
			}
		}
	}
	if size > recentBudget/16 {
		// Too large to be worth caching: straight to Pebble.
		if ok {
			delete(p.recent, string(key))
		}
		if !dirty {
			return nil
		}
		if value == nil {
			return p.db.Delete(key, pebble.NoSync)
		}
		return p.db.Set(key, value, pebble.NoSync)
	}
	if !ok {
		e = &recentValue{}
		p.recent[string(key)] = e
	}
	e.value, e.present, e.dirty = value, value != nil, dirty
	p.recentBytes += size
	if dirty {
		p.dirty++
	}
	return nil
}

// Put stores value under key; a nil value deletes the key.
func (p *PebbleKeyValue) Put(key, value []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if value != nil {
		value = append([]byte{}, value...)
	}
	return p.remember(key, value, true)
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
	return prev, p.Put(key, nil)
}

// Range iterates entries with from <= key < to in byte order. The iterator
// reads a snapshot, so fn may write to the store.
func (p *PebbleKeyValue) Range(from, to []byte, reverse bool, fn func(key, value []byte) bool) error {
	p.mu.Lock()
	err := p.writeDirty()
	p.mu.Unlock()
	if err != nil {
		return err
	}
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
