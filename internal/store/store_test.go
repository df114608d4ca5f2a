package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

func entries(t *testing.T, s *store.MemoryKeyValue, from, to []byte, reverse bool) string {
	t.Helper()
	var parts []string
	if err := s.Range(from, to, reverse, func(k, v []byte) bool {
		parts = append(parts, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, " ")
}

func TestMemoryKeyValueOrdersByKeyBytes(t *testing.T) {
	s := store.NewMemoryKeyValue("s")
	for _, k := range []string{"b", "a", "c", "ab"} {
		if err := s.Put([]byte(k), []byte(strings.ToUpper(k))); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := entries(t, s, nil, nil, false), "a=A ab=AB b=B c=C"; got != want {
		t.Errorf("all: %q want %q", got, want)
	}
	if got, want := entries(t, s, []byte("ab"), []byte("c"), false), "ab=AB b=B"; got != want {
		t.Errorf("range: %q want %q", got, want)
	}
	if got, want := entries(t, s, nil, nil, true), "c=C b=B ab=AB a=A"; got != want {
		t.Errorf("reverse: %q want %q", got, want)
	}
	prev, _ := s.PutIfAbsent([]byte("a"), []byte("X"))
	if string(prev) != "A" {
		t.Errorf("putIfAbsent existing: %q", prev)
	}
	prev, _ = s.PutIfAbsent([]byte("d"), []byte("D"))
	if prev != nil {
		t.Errorf("putIfAbsent new: %q", prev)
	}
	if err := s.Put([]byte("b"), nil); err != nil { // nil value deletes
		t.Fatal(err)
	}
	old, _ := s.Delete([]byte("c"))
	if string(old) != "C" {
		t.Errorf("delete returned %q", old)
	}
	if got, want := entries(t, s, nil, nil, false), "a=A ab=AB d=D"; got != want {
		t.Errorf("after changes: %q want %q", got, want)
	}
	if n := s.ApproximateNumEntries(); n != 3 {
		t.Errorf("entries: %d", n)
	}
	// Writing while iterating is allowed and does not disturb the walk.
	var seen []string
	s.Range(nil, nil, false, func(k, v []byte) bool {
		seen = append(seen, string(k))
		s.Put([]byte("zz"+string(k)), v)
		return true
	})
	if strings.Join(seen, ",") != "a,ab,d" {
		t.Errorf("iteration with writes saw %v", seen)
	}
}

type jsonSerde struct{}

func (jsonSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return types.MarshalJSON(v)
}

func (jsonSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return types.DecodeJSON(b)
}

func TestTypedKeyValue(t *testing.T) {
	b := &store.KeyValueBuilder{StoreName: "typed", KeySerde: jsonSerde{}, ValueSerde: jsonSerde{}}
	raw, err := b.Build(streams.TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := b.Typed(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := types.NewStruct(1)
	v.Set("n", int64(1))
	if err := kv.Put("k1", v); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put("k2", []any{true}); err != nil {
		t.Fatal(err)
	}
	got, _ := kv.Get("k1")
	if types.Format(got) != types.Format(v) {
		t.Errorf("get: %v", types.Format(got))
	}
	if missing, err := kv.Get("nope"); missing != nil || err != nil {
		t.Errorf("missing: %v %v", missing, err)
	}
	if _, err := kv.Get(nil); err == nil || err.Error() != `store "typed": key must not be null` {
		t.Errorf("null key: %v", err)
	}
	prev, _ := kv.PutIfAbsent("k2", "other")
	if types.Format(prev) != "[true]" {
		t.Errorf("putIfAbsent: %v", types.Format(prev))
	}
	all, _ := kv.All()
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%v=%s", e.Key, types.Format(e.Value)))
	}
	if got := strings.Join(parts, " "); got != `k1={"n": 1} k2=[true]` {
		t.Errorf("all: %s", got)
	}
	if err := kv.Put("k1", nil); err != nil {
		t.Fatal(err)
	}
	if kv.ApproximateNumEntries() != 1 {
		t.Errorf("entries after tombstone: %d", kv.ApproximateNumEntries())
	}
}

func TestTimestampedLayoutAndViews(t *testing.T) {
	b := &store.KeyValueBuilder{StoreName: "ts", KeySerde: jsonSerde{}, ValueSerde: jsonSerde{}, Timestamped: true}
	raw, _ := b.Build(streams.TaskID{})
	ts, err := b.TypedTimestamped(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.PutWithTimestamp("k", "v", 258); err != nil {
		t.Fatal(err)
	}
	bytes, _ := raw.(streams.KeyValueStore).Get([]byte(`"k"`))
	if want := "\x00\x00\x00\x00\x00\x00\x01\x02\"v\""; string(bytes) != want {
		t.Errorf("layout %q want %q", bytes, want)
	}
	vt := func(v any) string {
		st, ok := v.(*types.Struct)
		if !ok {
			return fmt.Sprintf("%T", v)
		}
		val, _ := st.Get("value")
		ts, _ := st.Get("timestamp")
		return fmt.Sprintf("%v@%v", val, ts)
	}
	got, _ := ts.Get("k")
	if vt(got) != "v@258" {
		t.Errorf("get: %s", vt(got))
	}
	prev, _ := ts.PutIfAbsentWithTimestamp("k", "w", 1)
	if vt(prev) != "v@258" {
		t.Errorf("putIfAbsent: %s", vt(prev))
	}
	plain, _ := b.Typed(raw)
	if v, _ := plain.Get("k"); v != "v" {
		t.Errorf("plain get: %v", v)
	}
	if err := plain.Put("p", "x"); err != nil {
		t.Fatal(err)
	}
	got, _ = ts.Get("p")
	if vt(got) != "x@-1" {
		t.Errorf("plain put: %s", vt(got))
	}
	if _, err := (&store.KeyValueBuilder{StoreName: "x"}).TypedTimestamped(raw); err == nil {
		t.Error("a plain store has no timestamped view")
	}
}
