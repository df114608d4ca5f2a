package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// corpusFileHarness loads a definition from the corpus by its path.
func corpusFileHarness(t *testing.T, rel string) *harness {
	t.Helper()
	path := filepath.Join(corpus, rel)
	if _, err := os.Stat(path); err != nil {
		sharedtest.Missing(t, path)
	}
	h, err := buildDef(t, loadDef(t, path, "test"))
	if err != nil {
		t.Fatalf("building %s: %v", rel, err)
	}
	return h
}

func windowedString(k any) string {
	if w, ok := k.(types.Windowed); ok {
		return win(Format(w.Key), w.Start, w.End)
	}
	return Format(k)
}

// Windowed aggregation, session windows and suppression: ports of
// upstream's intermediate-tutorial windowing tests with every emitted
// record checked, plus edge cases (grace boundaries, late records, session
// merges, tombstones).

const tutorialBase = int64(1735732800000) // 2025-01-01T12:00:00Z, a multiple of 5m

func tutorialHarness(t *testing.T, path string) *harness {
	t.Helper()
	return corpusFileHarness(t, "ksml/src/test/resources/docs-examples/intermediate-tutorial/"+path)
}

func win(key string, start, end int64) string { return fmt.Sprintf("%s@[%d,%d)", key, start, end) }

// windowedOut reads a topic with windowed keys as "key@[start,end)=value".
func (h *harness) windowedOut(topic, kt, vt string) []string {
	h.t.Helper()
	var lines []string
	for _, r := range h.drv.ReadOutput(topic) {
		k, err := h.serde(kt, true).Deserialize(topic, nil, r.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		v, err := h.serde(vt, false).Deserialize(topic, nil, r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		lines = append(lines, windowedString(k)+"="+Format(v))
	}
	return lines
}

func TestTutorialTumblingCount(t *testing.T) {
	h := tutorialHarness(t, "windowing/processor-tumbling-count-working.yaml")
	click := func(user, page string) any {
		return jsonValue(t, fmt.Sprintf(`{"user_id":%q,"page":%q,"session_id":"s"}`, user, page))
	}
	const m = 60000
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/home"), tutorialBase)
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/products"), tutorialBase+2*m)
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/checkout"), tutorialBase+6*m)
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/contact"), tutorialBase+7*m)
	w1, w2 := tutorialBase, tutorialBase+5*m
	expect(t, "counts", h.windowedOut("user_click_counts_5min", "json:windowed(string)", "long"),
		win("bob", w1, w1+5*m)+"=1", win("bob", w1, w1+5*m)+"=2", win("bob", w2, w2+5*m)+"=1", win("bob", w2, w2+5*m)+"=2")
	// Within the 30s grace the first window still takes a late click; after
	// it, the click is dropped.
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/late"), tutorialBase+4*m)
	expect(t, "late within grace", h.windowedOut("user_click_counts_5min", "json:windowed(string)", "long"))
	dropped := DroppedRecords.Count()
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/x"), tutorialBase+5*m+30000)
	h.mustPipe("user_clicks", "string", "json", "bob", click("bob", "/late"), tutorialBase+4*m)
	expect(t, "after grace", h.windowedOut("user_click_counts_5min", "json:windowed(string)", "long"),
		win("bob", w2, w2+5*m)+"=3")
	if DroppedRecords.Count() != dropped+1 {
		t.Errorf("dropped records: %d, want %d", DroppedRecords.Count(), dropped+1)
	}
}

func TestTutorialSessionCount(t *testing.T) {
	h := tutorialHarness(t, "windowing/processor-session-activity.yaml")
	const b = int64(1735725600000) // 2025-01-01T10:00:00Z
	click := jsonValue(t, `{"page":"p"}`)
	h.mustPipe("user_clicks", "string", "json", "alice", click, b)
	h.mustPipe("user_clicks", "string", "json", "alice", click, b+10000)
	h.mustPipe("user_clicks", "string", "json", "bob", click, b+20000)
	h.mustPipe("user_clicks", "string", "json", "bob", click, b+30000)
	h.mustPipe("user_clicks", "string", "json", "bob", click, b+40000)
	// Session windows include their end: printed as [start,end).
	expect(t, "sessions", h.windowedOut("user_session_summary", "json:windowed(string)", "long"),
		win("alice", b, b)+"=1", win("alice", b, b)+"=null", win("alice", b, b+10000)+"=2",
		win("bob", b+20000, b+20000)+"=1", win("bob", b+20000, b+20000)+"=null", win("bob", b+20000, b+30000)+"=2",
		win("bob", b+20000, b+30000)+"=null", win("bob", b+20000, b+40000)+"=3")
}

const windowDefs = `
streams:
  in:
    topic: in
    keyType: string
    valueType: long
  out:
    topic: out
    keyType: json:windowed(string)
    valueType: long
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
%s
      - type: toStream
    to: out
`

func windowHarness(t *testing.T, ops string) *harness {
	return yamlHarness(t, fmt.Sprintf(windowDefs, ops))
}

func TestHoppingWindowAggregate(t *testing.T) {
	h := windowHarness(t, `
      - type: windowByTime
        windowType: hopping
        duration: 10s
        advanceBy: 5s
      - type: aggregate
        store:
          name: hopping_store
          type: window
        initializer:
          expression: 0
          resultType: long
        aggregator:
          expression: aggregatedValue + value
          resultType: long`)
	h.mustPipe("in", "string", "long", "k", int64(1), 12000)
	h.mustPipe("in", "string", "long", "k", int64(10), 3000)
	h.mustPipe("in", "string", "long", "k", int64(100), 14999)
	expect(t, "hopping", h.windowedOut("out", "json:windowed(string)", "long"),
		win("k", 5000, 15000)+"=1", win("k", 10000, 20000)+"=1",
		// 3000 is in [0,10000) only; [0,10000) closed? grace 0, stream time 12000: yes, dropped.
		win("k", 5000, 15000)+"=101", win("k", 10000, 20000)+"=101")
}

func TestTumblingGraceBoundary(t *testing.T) {
	h := windowHarness(t, `
      - type: windowByTime
        windowType: tumbling
        duration: 10s
        grace: 2s
      - type: reduce
        reducer:
          expression: value1 + value2
          resultType: long`)
	h.mustPipe("in", "string", "long", "k", int64(1), 1000)
	h.mustPipe("in", "string", "long", "k", int64(2), 11999) // closes [0,10s) at 12000
	h.mustPipe("in", "string", "long", "k", int64(4), 9999)  // still open: end 10000 > 11999-2000
	h.mustPipe("in", "string", "long", "k", int64(8), 12000) // stream time reaches end + grace
	h.mustPipe("in", "string", "long", "k", int64(16), 9999) // dropped
	h.mustPipe("in", "string", "long", "j", int64(32), 5000) // other keys share stream time: dropped
	expect(t, "reduced", h.windowedOut("out", "json:windowed(string)", "long"),
		win("k", 0, 10000)+"=1", win("k", 10000, 20000)+"=2", win("k", 0, 10000)+"=5", win("k", 10000, 20000)+"=10")
}

func TestSuppressUntilWindowCloses(t *testing.T) {
	h := windowHarness(t, `
      - type: windowByTime
        windowType: tumbling
        duration: 10s
        grace: 1s
      - type: count
      - type: suppress
        until: windowCloses`)
	h.mustPipe("in", "string", "long", "a", int64(0), 1000)
	h.mustPipe("in", "string", "long", "b", int64(0), 2000)
	h.mustPipe("in", "string", "long", "a", int64(0), 9000)
	h.mustPipe("in", "string", "long", "a", int64(0), 10500)
	expect(t, "before close", h.windowedOut("out", "json:windowed(string)", "long"))
	h.mustPipe("in", "string", "long", "b", int64(0), 11000)
	expect(t, "closed", h.windowedOut("out", "json:windowed(string)", "long"),
		win("a", 0, 10000)+"=2", win("b", 0, 10000)+"=1")
	h.mustPipe("in", "string", "long", "a", int64(0), 21000)
	expect(t, "second window", h.windowedOut("out", "json:windowed(string)", "long"),
		win("a", 10000, 20000)+"=1", win("b", 10000, 20000)+"=1")
}

func TestSessionMergeWithGraceAndLateRecords(t *testing.T) {
	h := windowHarness(t, `
      - type: windowBySession
        inactivityGap: 5s
        grace: 10s
      - type: aggregate
        store:
          name: session_store
          type: session
        initializer:
          expression: 0
          resultType: long
        aggregator:
          expression: aggregatedValue + value
          resultType: long
        merger:
          expression: value1 + value2
          resultType: long`)
	h.mustPipe("in", "string", "long", "k", int64(1), 0)
	h.mustPipe("in", "string", "long", "k", int64(2), 20000)
	// 10000 is more than the gap away from both: a session of its own.
	h.mustPipe("in", "string", "long", "k", int64(4), 10000)
	// 15000 bridges [10000] and [20000]: both merge into one.
	h.mustPipe("in", "string", "long", "k", int64(8), 15000)
	// Stream time 20000: sessions ending before 20000-5000-10000 are closed,
	// so a record that would extend [0,0] is dropped.
	h.mustPipe("in", "string", "long", "k", int64(16), 3000)
	expect(t, "sessions", h.windowedOut("out", "json:windowed(string)", "long"),
		win("k", 0, 0)+"=1", win("k", 20000, 20000)+"=2", win("k", 10000, 10000)+"=4",
		win("k", 10000, 10000)+"=null", win("k", 20000, 20000)+"=null", win("k", 10000, 20000)+"=14")
}

func TestPythonWindowAndSessionStores(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: long
  out:
    topic: out
    keyType: string
    valueType: string
stores:
  ws:
    type: window
    keyType: string
    valueType: long
    windowSize: 10s
    retention: 1h
  ss:
    type: session
    keyType: string
    valueType: long
    retention: 1h
functions:
  probe:
    type: valueTransformer
    stores: [ws, ss]
    code: |
      ws.put(key, value, value * 1000)
      ss.put({"key": key, "start": value * 1000, "end": value * 1000 + 500}, value)
      out = []
      for e in ws.fetch(key, 0, 100000):
        out.append(str(e["key"]) + ":" + str(e["value"]))
      out.append("one=" + str(ws.fetch(key, 2000)))
      for e in ws.fetchAll(0, 100000):
        out.append(e["key"]["key"] + "@" + str(e["key"]["start"]) + "-" + str(e["key"]["end"]))
      for e in ss.findSessions(key, 1500, 100000):
        out.append("s" + str(e["key"]["start"]) + "-" + str(e["key"]["end"]) + "=" + str(e["value"]))
      out.append("fs=" + str(ss.fetchSession(key, 1000, 1500)))
    expression: '" ".join(out)'
    resultType: string
pipelines:
  main:
    from: in
    via:
      - type: mapValues
        mapper: probe
    to: out
`)
	h.mustPipe("in", "string", "long", "a", int64(1), 1)
	h.mustPipe("in", "string", "long", "b", int64(2), 2)
	h.mustPipe("in", "string", "long", "a", int64(3), 3)
	expect(t, "probe", h.out("out", "string", "string"),
		"a=1000:1 one=None a@1000-11000 s1000-1500=1 fs=1",
		"b=2000:2 one=2 a@1000-11000 b@2000-12000 s2000-2500=2 fs=None",
		"a=1000:1 3000:3 one=None a@1000-11000 a@3000-13000 b@2000-12000 s1000-1500=1 s3000-3500=3 fs=1")
}

func TestSlidingWindowCount(t *testing.T) {
	h := windowHarness(t, `
      - type: windowByTime
        windowType: sliding
        timeDifference: 10s
        grace: 100s
      - type: count
        store:
          name: sliding_store
          type: window`)
	for _, ts := range []int64{20000, 25000, 40000} {
		h.mustPipe("in", "string", "long", "k", int64(0), ts)
	}
	expect(t, "in order", h.windowedOut("out", "json:windowed(string)", "long"),
		win("k", 10000, 20000)+"=1",
		win("k", 20001, 30001)+"=1", win("k", 15000, 25000)+"=2",
		win("k", 30000, 40000)+"=1")
	// An out-of-order record updates the windows it falls in and gets its
	// own left and right windows from its neighbours.
	h.mustPipe("in", "string", "long", "k", int64(0), 22000)
	expect(t, "out of order", h.windowedOut("out", "json:windowed(string)", "long"),
		win("k", 20001, 30001)+"=2", win("k", 15000, 25000)+"=3", win("k", 12000, 22000)+"=2", win("k", 22001, 32001)+"=1")
	// Records earlier than the time difference share the window [0, 10s].
	h.mustPipe("in", "string", "long", "e", int64(0), 3000)
	h.mustPipe("in", "string", "long", "e", int64(0), 5000)
	expect(t, "early", h.windowedOut("out", "json:windowed(string)", "long"),
		win("e", 0, 10000)+"=1", win("e", 3001, 13001)+"=1", win("e", 0, 10000)+"=2")
	// The store keeps timestamps with the aggregates; the typed view
	// strips them.
	st, _ := h.drv.Store("sliding_store")
	w, err := h.res.Stores.Windowed("sliding_store").(*store.WindowBuilder).Typed(st)
	if err != nil {
		t.Fatal(err)
	}
	wins, err := w.Fetch("e", 0, 100000)
	if err != nil || len(wins) != 2 || windowedString(wins[0].Key)+"="+Format(wins[0].Value) != win("e", 0, 10000)+"=2" {
		t.Errorf("typed sliding windows: %v %v", wins, err)
	}
	// Past the grace period a record is dropped.
	h.mustPipe("in", "string", "long", "k", int64(0), 200000)
	h.ReadAll()
	dropped := DroppedRecords.Count()
	h.mustPipe("in", "string", "long", "k", int64(0), 89999)
	expect(t, "late", h.windowedOut("out", "json:windowed(string)", "long"))
	if DroppedRecords.Count() != dropped+1 {
		t.Errorf("late record not dropped")
	}
}

// ReadAll discards the output read so far.
func (h *harness) ReadAll() {
	for _, tp := range h.drv.Topics() {
		h.drv.ReadOutput(tp)
	}
}

func TestUpstreamStateStoreWindowedAvro(t *testing.T) {
	h := corpusHarness(t, "test-state-store-windowed-avro.yaml")
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "80"), 1)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor2", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "26"), 2)
	st, ok := h.drv.Store("sensor_data_window_store")
	if !ok {
		t.Fatal("no window store")
	}
	ps, err := h.res.Stores.windowedPythonStore("sensor_data_window_store", st)
	if err != nil {
		t.Fatal(err)
	}
	for sensorName, want := range map[string][2]string{"sensor1": {"Amsterdam", "80"}, "sensor2": {"Utrecht", "26"}} {
		it, err := ps.(*pyWindow).FetchRange(sensorName, 0, 365*24*3600*1000, false)
		if err != nil {
			t.Fatal(err)
		}
		kv, ok := it.Next()
		if !ok {
			t.Fatalf("%s: no window", sensorName)
		}
		s := kv.Value.(*types.Struct)
		city, _ := s.Get("city")
		value, _ := s.Get("value")
		if kv.Key != int64(0) || city != want[0] || value != want[1] {
			t.Errorf("%s: window %v city %v value %v", sensorName, kv.Key, city, value)
		}
	}
}

// Ports of upstream's KSMLIteratorTest for window and session stores: the
// functions put entries and walk iterators; processing must not fail and
// the stores must hold what was put.
func TestUpstreamWindowAndSessionIterators(t *testing.T) {
	for file, name := range map[string]string{"test-window-iterator.yaml": "window_store", "test-session-iterator.yaml": "session_store"} {
		t.Run(file, func(t *testing.T) {
			h := corpusHarness(t, file)
			h.mustPipe("sensor_ownership_data", "string", "string", "sensor1", "value1", 1)
			h.mustPipe("sensor_ownership_data", "string", "string", "sensor2", "value2", 2)
			st, _ := h.drv.Store(name)
			ps, err := h.res.Stores.PythonStore(name, st)
			if err != nil {
				t.Fatal(err)
			}
			var it interface {
				Next() (python.KeyValue, bool)
			}
			switch s := ps.(type) {
			case *pyWindow:
				it, err = s.All(false)
			case *pySession:
				it, err = s.FetchKeyRange(nil, nil, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for kv, ok := it.Next(); ok; kv, ok = it.Next() {
				got = append(got, Format(kv.Key.(types.Windowed).Key)+"="+Format(kv.Value))
			}
			expect(t, name, got, "sensor1=value1", "sensor2=value2")
		})
	}
}

func TestTypedWindowAndSessionViews(t *testing.T) {
	h := tutorialHarness(t, "windowing/processor-tumbling-count-working.yaml")
	click := jsonValue(t, `{"user_id":"u","page":"/"}`)
	h.mustPipe("user_clicks", "string", "json", "u", click, tutorialBase)
	h.mustPipe("user_clicks", "string", "json", "u", click, tutorialBase+1000)
	h.mustPipe("user_clicks", "string", "json", "v", click, tutorialBase+400000)
	st, _ := h.drv.Store("click_counts_5min")
	w, err := h.res.Stores.Windowed("click_counts_5min").(*store.WindowBuilder).Typed(st)
	if err != nil {
		t.Fatal(err)
	}
	all, err := w.All()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, windowedString(e.Key)+"="+Format(e.Value))
	}
	expect(t, "windows", got, win("u", tutorialBase, tutorialBase+300000)+"=2", win("v", tutorialBase+300000, tutorialBase+600000)+"=1")
}

// collected keeps what a task sends, per topic.
type collected struct{ recs map[string][]collectedRecord }

type collectedRecord struct {
	key, value []byte
	timestamp  int64
}

func (c *collected) Send(topic string, _ int32, key, value []byte, ts int64, _ []streams.Header) error {
	if c.recs == nil {
		c.recs = map[string][]collectedRecord{}
	}
	c.recs[topic] = append(c.recs[topic], collectedRecord{key, value, ts})
	return nil
}
func (c *collected) Partitions(string) (int, error) { return 1, nil }
func (c *collected) Flush() error                   { return nil }

// A suppressed window survives a restart: the new task restores the buffer
// from the changelog and emits the window when it closes.
func TestSuppressBufferIsRestored(t *testing.T) {
	h := windowHarness(t, `
      - type: windowByTime
        windowType: tumbling
        duration: 10s
      - type: count
      - type: suppress
        until: windowCloses`)
	topo := h.res.Topology
	sub, _ := topo.SubTopologyFor("in")
	pipe := func(task *streams.Task, key string, ts int64) {
		kb, _ := h.serde("string", true).Serialize("in", nil, key)
		vb, _ := h.serde("long", false).Serialize("in", nil, int64(0))
		if err := task.Process(&streams.RawRecord{Topic: "in", Timestamp: ts, Key: kb, Value: vb}); err != nil {
			t.Fatal(err)
		}
	}
	col := &collected{}
	task, err := streams.NewTask(topo, sub, 0, col)
	if err != nil {
		t.Fatal(err)
	}
	pipe(task, "a", 1000)
	pipe(task, "a", 2000)
	task.Close()
	if len(col.recs["out"]) != 0 {
		t.Fatalf("emitted before the window closed: %v", col.recs["out"])
	}
	col2 := &collected{}
	task2, err := streams.NewTask(topo, sub, 0, col2)
	if err != nil {
		t.Fatal(err)
	}
	defer task2.Close()
	for _, cl := range task2.Changelogs() {
		for _, r := range col.recs[cl.Topic] {
			if err := task2.Restore(cl.Store, r.key, r.value, r.timestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	pipe(task2, "b", 10000)
	out := col2.recs["out"]
	if len(out) != 1 {
		t.Fatalf("want the restored window, got %d records", len(out))
	}
	k, _ := h.serde("json:windowed(string)", true).Deserialize("out", nil, out[0].key)
	v, _ := h.serde("long", false).Deserialize("out", nil, out[0].value)
	if got := windowedString(k) + "=" + Format(v); got != win("a", 0, 10000)+"=2" {
		t.Errorf("restored window: %s", got)
	}
}

func TestTutorialWindowedAggregate(t *testing.T) {
	h := tutorialHarness(t, "aggregations/processor-windowed-aggregate.yaml")
	for i, v := range []string{"20.5", "22.3", "19.8"} {
		h.mustPipe("sensor_temperatures", "string", "string", "temp001", v, int64(1000*(i+1)))
	}
	out := h.out("sensor_window_stats", "string", "json")
	expect(t, "keys and stats", out,
		`temp001_1970-01-01T00:00:00Z_1970-01-01T00:00:30Z={"sensor_id":"temp001","window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:00:30Z","stats":{"count":1,"sum":20.5,"min":20.5,"max":20.5,"avg":20.5}}`,
		`temp001_1970-01-01T00:00:00Z_1970-01-01T00:00:30Z={"sensor_id":"temp001","window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:00:30Z","stats":{"count":2,"sum":42.8,"min":20.5,"max":22.3,"avg":21.4}}`,
		`temp001_1970-01-01T00:00:00Z_1970-01-01T00:00:30Z={"sensor_id":"temp001","window_start":"1970-01-01T00:00:00Z","window_end":"1970-01-01T00:00:30Z","stats":{"count":3,"sum":62.599999999999994,"min":19.8,"max":22.3,"avg":20.87}}`)
}

func TestTutorialCountAndReduce(t *testing.T) {
	h := tutorialHarness(t, "aggregations/processor-count.yaml")
	for _, u := range []string{"alice", "bob", "alice", "bob", "alice"} {
		h.mustPipe("user_actions", "string", "json", u, jsonValue(t, `{"user_id":"`+u+`","action":"login"}`), 1)
	}
	expect(t, "counts", h.out("user_action_counts", "string", "string"), "alice=1", "bob=1", "alice=2", "bob=2", "alice=3")

	h = tutorialHarness(t, "aggregations/processor-reduce.yaml")
	for _, c := range []int{10000, 5000, 2500} {
		h.mustPipe("financial_transactions", "string", "json", "ACC001", jsonValue(t, fmt.Sprintf(`{"account_id":"ACC001","amount_cents":%d}`, c)), 1)
	}
	h.mustPipe("financial_transactions", "string", "json", "ACC002", jsonValue(t, `{"account_id":"ACC002","amount_cents":9999}`), 1)
	expect(t, "sums", h.out("transaction_sums", "string", "json"),
		`ACC001={"total_cents":10000,"total_dollars":100.0}`,
		`ACC001={"total_cents":15000,"total_dollars":150.0}`,
		`ACC001={"total_cents":17500,"total_dollars":175.0}`,
		`ACC002={"total_cents":9999,"total_dollars":99.99}`)
}

func TestTutorialHoppingAverage(t *testing.T) {
	h := tutorialHarness(t, "windowing/processor-hopping-average-working.yaml")
	reading := func(v float64) any {
		return jsonValue(t, fmt.Sprintf(`{"sensor_id":"humidity_01","value":%v}`, v))
	}
	h.mustPipe("sensor_readings", "string", "json", "humidity_01", reading(40), tutorialBase)
	h.mustPipe("sensor_readings", "string", "json", "humidity_01", reading(60), tutorialBase+30000)
	w := func(startOffset int64, avg string, n int, sum string) string {
		start := tutorialBase + startOffset*1000
		return fmt.Sprintf(`{"start":%d,"end":%d,"startTime":%q,"endTime":%q,"key":"humidity_01"}={"average":%s,"sample_count":%d,"total_sum":%s}`,
			start, start+120000, time.UnixMilli(start).UTC().Format(time.RFC3339), time.UnixMilli(start+120000).UTC().Format(time.RFC3339), avg, n, sum)
	}
	// A reading falls in the four 2-minute windows that hop by 30s over it.
	expect(t, "averages", h.out("sensor_moving_averages", "string", "json"),
		w(-90, "40.0", 1, "40.0"), w(-60, "40.0", 1, "40.0"), w(-30, "40.0", 1, "40.0"), w(0, "40.0", 1, "40.0"),
		w(-60, "50.0", 2, "100.0"), w(-30, "50.0", 2, "100.0"), w(0, "50.0", 2, "100.0"), w(30, "60.0", 1, "60.0"))
}

// suppress untilTimeLimit holds the latest update per key for the time
// limit; a full buffer emits its oldest entries early.
func TestSuppressUntilTimeLimitWithFullBuffer(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: long
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
      - type: count
      - type: suppress
        until: timeLimit
        duration: 10s
        maxRecords: 2
        bufferFullStrategy: emitEarlyWhenFull
      - type: toStream
    to: out
`)
	for _, r := range []struct {
		key string
		ts  int64
	}{{"a", 1000}, {"b", 2000}, {"a", 3000}, {"c", 4000}, {"d", 12500}, {"e", 14000}} {
		h.mustPipe("in", "string", "string", r.key, "x", r.ts)
	}
	// An update keeps its key's place in the buffer (Kafka Streams' buffer
	// does not reset it): c overfills the buffer and a, the oldest, goes
	// early with its latest count; d moves time past b's limit, e past c's.
	expect(t, "suppressed", h.out("out", "string", "long"), "a=2", "b=1", "c=1")
}

func TestSuppressShutdownWhenFull(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: long
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
      - type: count
      - type: suppress
        until: timeLimit
        duration: 10s
        maxRecords: 1
        bufferFullStrategy: shutdownWhenFull
      - type: toStream
    to: out
`)
	h.mustPipe("in", "string", "string", "a", "x", 1000)
	err := h.pipe("in", "string", "string", "b", "x", 2000)
	if err == nil || !strings.Contains(err.Error(), "suppress buffer is full (2 records") {
		t.Fatalf("got %v", err)
	}
}
