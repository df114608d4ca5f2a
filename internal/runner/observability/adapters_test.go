package observability

import (
	"encoding/binary"
	"fmt"
	"github.com/ksml-dev/ksml/internal/streams"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
)

// longSerde stores int64 keys as 8 big-endian bytes and rejects strings,
// like a long key serde.
type longSerde struct{}

func (longSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	n, ok := v.(int64)
	if !ok {
		return nil, fmt.Errorf("expected a long, got %T", v)
	}
	return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
}

func (longSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func TestTaskStoresAdapter(t *testing.T) {
	byLong := store.NewKeyValue(store.NewMemoryKeyValue("byLong"), longSerde{}, jsonSerde{})
	if err := byLong.Put(int64(42), "answer"); err != nil {
		t.Fatal(err)
	}
	running := []TaskStore{
		{Name: "counts", Partition: 1, Store: newTaskStore(t, "counts", "b", int64(2))},
		{Name: "byLong", Partition: 0, Store: byLong},
		{Name: "counts", Partition: 0, Store: newTaskStore(t, "counts", "a", int64(1))},
	}
	visits := 0
	a := NewAppServer(nil)
	a.SetStores(TaskStores{
		Has:   func(name string) bool { return name == "counts" || name == "byLong" || name == "idle" },
		Visit: func(fn func([]TaskStore)) { visits++; fn(running) },
	})
	base := serve(t, a)
	cases := []struct {
		path, want string
		code       int
	}{
		// Partition order, whatever order the runtime lists tasks in.
		{"/state/keyValue/counts/local/all", `[{"key":"a","value":1},{"key":"b","value":2}]`, 200},
		{"/state/keyValue/counts/get/b", `{"key":"b","value":2}`, 200},
		{"/state/keyValue/byLong/get/42", `{"key":"42","value":"answer"}`, 200},
		{"/state/keyValue/byLong/get/x", `500: store "byLong": serializing key: expected a long, got string`, 500},
		{"/state/keyValue/byLong/all", `[{"key":42,"value":"answer"}]`, 200},
		// Defined but without instances (no partitions assigned yet).
		{"/state/keyValue/idle/all", `[]`, 200},
		{"/state/keyValue/missing/all", `Could not find store missing of type keyValue`, 404},
	}
	for _, c := range cases {
		if code, body, _ := httpGet(t, base+c.path); code != c.code || body != c.want {
			t.Errorf("GET %s: %d %s\nwant %d %s", c.path, code, body, c.code, c.want)
		}
	}
	if visits != 6 {
		t.Errorf("runtime visited %d times, want 6 (once per query of a known store)", visits)
	}
}

func TestStateNamesAdapter(t *testing.T) {
	streams := "STARTING"
	a := NewAppServer(nil)
	a.SetStates(StateNames{Streams: func() string { return streams }})
	base := serve(t, a)
	for _, c := range []struct {
		state            string
		live, ready, sta int
	}{
		{"CREATED", 204, 500, 500},
		{"STARTING", 204, 500, 204},
		{"STARTED", 204, 204, 204},
		{"STOPPED", 500, 500, 204},
		{"bogus", 500, 500, 500},
	} {
		streams = c.state
		got := [3]int{}
		for i, p := range []string{"/live", "/ready", "/startup"} {
			got[i], _, _ = httpGet(t, base+p)
		}
		if got != [3]int{c.live, c.ready, c.sta} {
			t.Errorf("streams %s: live/ready/startup = %v, want %v", c.state, got, [3]int{c.live, c.ready, c.sta})
		}
	}
	if ParseComponentState("STOPPING") != Stopping || ParseComponentState("NOT_APPLICABLE") != NotApplicable {
		t.Error("ParseComponentState")
	}
}

func TestTopicCounts(t *testing.T) {
	r := New(Options{Tags: map[string]string{"team": "platform"}})
	r.SetTopicCounts(func() []TopicCount {
		return []TopicCount{
			{"consumed", "orders", 7}, {"produced", "orders-out", 6}, {"failed.process", "orders", 1},
			{"failed.consume", "orders", 0}, {"something-else", "orders", 9},
		}
	})
	body := scrape(t, r)
	want := `ksml_topic_records_consumed_total{team="platform",topic="orders"} 7
ksml_topic_records_failed_total{error="consume",team="platform",topic="orders"} 0
ksml_topic_records_failed_total{error="process",team="platform",topic="orders"} 1
ksml_topic_records_produced_total{team="platform",topic="orders-out"} 6`
	if got := samples(body, "ksml_topic_"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(body, "# TYPE ksml_topic_records_consumed_total counter\n") {
		t.Errorf("not a counter:\n%s", body)
	}
	var nr *Registry
	nr.SetTopicCounts(nil)
}
