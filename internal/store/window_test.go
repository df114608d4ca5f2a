package store_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
)

// The window and session stores behave the same in memory and on Pebble.

func windowStores(t *testing.T, dups bool) map[string]streams.WindowStore {
	kv, err := store.OpenPebbleKeyValue("w", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return map[string]streams.WindowStore{
		"memory": store.NewMemoryWindow("w", dups),
		"pebble": store.NewKVWindow(kv, dups),
	}
}

func windows(t *testing.T, s streams.WindowStore, kf, kt string, from, to int64, reverse bool) string {
	t.Helper()
	var parts []string
	var f, e []byte
	if kf != "" {
		f = []byte(kf)
	}
	if kt != "" {
		e = []byte(kt)
	}
	if err := s.FetchRange(f, e, from, to, reverse, func(k []byte, start int64, v []byte) bool {
		parts = append(parts, fmt.Sprintf("%s@%d=%s", k, start, v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, " ")
}

func TestWindowStores(t *testing.T) {
	for name, s := range windowStores(t, false) {
		t.Run(name, func(t *testing.T) {
			put := func(k string, start int64, v string) {
				var vb []byte
				if v != "" {
					vb = []byte(v)
				}
				if err := s.Put([]byte(k), start, vb); err != nil {
					t.Fatal(err)
				}
			}
			put("b", 10, "b10")
			put("a", 20, "a20")
			put("a", -5, "a-5")
			put("a", 10, "a10")
			put("a", 10, "A10") // replaces
			put("b", 30, "b30")
			put("b", 30, "") // deletes
			if got, want := windows(t, s, "a", "a", -100, 100, false), "a@-5=a-5 a@10=A10 a@20=a20"; got != want {
				t.Errorf("key a: %q want %q", got, want)
			}
			if got, want := windows(t, s, "a", "a", 0, 15, true), "a@10=A10"; got != want {
				t.Errorf("key a time range: %q want %q", got, want)
			}
			if got, want := windows(t, s, "", "", 10, 10, false), "a@10=A10 b@10=b10"; got != want {
				t.Errorf("all keys: %q want %q", got, want)
			}
			if v, _ := s.Fetch([]byte("a"), 20); string(v) != "a20" {
				t.Errorf("fetch: %q", v)
			}
			if v, _ := s.Fetch([]byte("b"), 30); v != nil {
				t.Errorf("deleted window: %q", v)
			}
			if err := s.ExpireBefore(10); err != nil {
				t.Fatal(err)
			}
			if got, want := windows(t, s, "", "", -100, 100, false), "a@10=A10 a@20=a20 b@10=b10"; got != want {
				t.Errorf("after expiry: %q want %q", got, want)
			}
		})
	}
}

func TestWindowStoresWithDuplicates(t *testing.T) {
	for name, s := range windowStores(t, true) {
		t.Run(name, func(t *testing.T) {
			for _, v := range []string{"x", "y", "z"} {
				s.Put([]byte("k"), 5, []byte(v))
			}
			s.Put([]byte("k"), 5, nil) // ignored
			if got, want := windows(t, s, "k", "k", 0, 10, false), "k@5=x k@5=y k@5=z"; got != want {
				t.Errorf("duplicates: %q want %q", got, want)
			}
		})
	}
}

func TestSessionStores(t *testing.T) {
	kv, err := store.OpenPebbleKeyValue("s", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	for name, s := range map[string]streams.SessionStore{"memory": store.NewMemorySession("s"), "pebble": store.NewKVSession(kv)} {
		t.Run(name, func(t *testing.T) {
			s.Put([]byte("a"), 0, 10, []byte("a1"))
			s.Put([]byte("a"), 20, 30, []byte("a2"))
			s.Put([]byte("a"), 20, 30, []byte("A2"))
			s.Put([]byte("b"), 5, 6, []byte("b1"))
			s.Put([]byte("a"), 40, 40, []byte("a3"))
			s.Remove([]byte("a"), 40, 40)
			find := func(kf, kt []byte, earliestEnd, latestStart int64, reverse bool) string {
				var parts []string
				s.FindSessions(kf, kt, earliestEnd, latestStart, reverse, func(k []byte, st, e int64, v []byte) bool {
					parts = append(parts, fmt.Sprintf("%s[%d,%d]=%s", k, st, e, v))
					return true
				})
				return strings.Join(parts, " ")
			}
			if got, want := find([]byte("a"), []byte("a"), 5, 25, false), "a[0,10]=a1 a[20,30]=A2"; got != want {
				t.Errorf("a: %q want %q", got, want)
			}
			if got, want := find([]byte("a"), []byte("a"), 11, 25, true), "a[20,30]=A2"; got != want {
				t.Errorf("a from 11: %q want %q", got, want)
			}
			if got, want := find(nil, nil, 0, 100, false), "a[0,10]=a1 a[20,30]=A2 b[5,6]=b1"; got != want {
				t.Errorf("all: %q want %q", got, want)
			}
			if v, _ := s.FetchSession([]byte("b"), 5, 6); string(v) != "b1" {
				t.Errorf("fetch session: %q", v)
			}
		})
	}
}

func TestPebbleKeyValueSurvivesReopen(t *testing.T) {
	b := &store.KeyValueBuilder{StoreName: "counts", IsPersistent: true, Dir: filepath.Join(t.TempDir(), "app")}
	task := streams.TaskID{SubTopology: 1, Partition: 3}
	st, err := b.Build(task)
	if err != nil {
		t.Fatal(err)
	}
	kv := st.(streams.KeyValueStore)
	if !kv.Persistent() {
		t.Error("a persistent store reports not persistent")
	}
	for _, k := range []string{"b", "a", "c", "ab"} {
		kv.Put([]byte(k), []byte(strings.ToUpper(k)))
	}
	kv.Delete([]byte("c"))
	if prev, _ := kv.PutIfAbsent([]byte("a"), []byte("X")); string(prev) != "A" {
		t.Errorf("putIfAbsent: %q", prev)
	}
	var seen []string
	kv.Range([]byte("a"), []byte("b"), true, func(k, v []byte) bool {
		seen = append(seen, string(k)+"="+string(v))
		kv.Put([]byte("z"+string(k)), v) // writes while iterating
		return true
	})
	if strings.Join(seen, " ") != "ab=AB a=A" {
		t.Errorf("reverse range: %v", seen)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(b.Dir, "1_3", "counts"); st.(*store.PebbleKeyValue).Dir() != want {
		t.Errorf("dir %s, want %s", st.(*store.PebbleKeyValue).Dir(), want)
	}
	st, err = b.Build(task)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kv = st.(streams.KeyValueStore)
	var all []string
	kv.Range(nil, nil, false, func(k, v []byte) bool { all = append(all, string(k)+"="+string(v)); return true })
	if got, want := strings.Join(all, " "), "a=A ab=AB b=B za=A zab=AB"; got != want {
		t.Errorf("after reopen: %q want %q", got, want)
	}
	if n := kv.ApproximateNumEntries(); n != 5 {
		t.Errorf("entries: %d", n)
	}
}

// TestPebbleKeyValueCacheBeyondBudget writes more keys than the store's
// cache of recent keys holds, overwrites and deletes some: every Get, Range
// and the reopened store see exactly the last write of each key.
func TestPebbleKeyValueCacheBeyondBudget(t *testing.T) {
	b := &store.KeyValueBuilder{StoreName: "big", IsPersistent: true, Dir: filepath.Join(t.TempDir(), "app")}
	task := streams.TaskID{Partition: 0}
	st, err := b.Build(task)
	if err != nil {
		t.Fatal(err)
	}
	kv := st.(streams.KeyValueStore)
	const n = 80000 // more than the cache holds (8 MiB at ~150 bytes per entry)
	key := func(i int) []byte { return []byte(fmt.Sprintf("key-%06d", i)) }
	want := func(i int) string {
		switch {
		case i%10 == 3:
			return "" // deleted
		case i%2 == 0:
			return fmt.Sprintf("second-%d-%s", i, strings.Repeat("y", 40))
		}
		return fmt.Sprintf("first-%d-%s", i, strings.Repeat("x", 40))
	}
	for i := range n {
		if err := kv.Put(key(i), []byte(fmt.Sprintf("first-%d-%s", i, strings.Repeat("x", 40)))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		var err error
		switch {
		case i%10 == 3:
			_, err = kv.Delete(key(i))
		case i%2 == 0:
			err = kv.Put(key(i), []byte(want(i)))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for i := range n {
			v, err := kv.Get(key(i))
			if err != nil || string(v) != want(i) || (want(i) == "") != (v == nil) {
				t.Fatalf("%s: get %s = %q, %v; want %q", when, key(i), v, err, want(i))
			}
		}
		i := 0
		err := kv.Range(nil, nil, false, func(k, v []byte) bool {
			for want(i) == "" {
				i++
			}
			if string(k) != string(key(i)) || string(v) != want(i) {
				t.Fatalf("%s: range has %s=%q, want %s=%q", when, k, v, key(i), want(i))
			}
			i++
			return true
		})
		if err != nil || i != n {
			t.Fatalf("%s: range ended at %d of %d: %v", when, i, n, err)
		}
	}
	check("before reopen")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = b.Build(task); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kv = st.(streams.KeyValueStore)
	check("after reopen")
}
