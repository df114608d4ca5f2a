package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
	"github.com/ksml-dev/ksml/internal/types"
)

func jsonValue(t testing.TB, s string) any {
	t.Helper()
	v, err := types.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Ports of upstream's KSML*Test classes for grouping and aggregation, with
// every emitted record checked (upstream reads them into maps or lists).

func TestUpstreamCount(t *testing.T) {
	h := corpusHarness(t, "test-count.yaml")
	for _, kv := range [][2]string{{"keyFirst", "value1"}, {"keySecond", "value1"}, {"keyThird", "value1"},
		{"keyFirst", "value2"}, {"keySecond", "value2"}, {"keyFirst", "value3"}} {
		h.mustPipe("input_topic", "string", "string", kv[0], kv[1], 1)
	}
	expect(t, "counts", h.out("output_topic", "string", "long"),
		"keyFirst=1", "keySecond=1", "keyThird=1", "keyFirst=2", "keySecond=2", "keyFirst=3")
}

func TestUpstreamAggregate(t *testing.T) {
	for _, file := range []string{"test-aggregate-store.yaml", "test-aggregate-inline.yaml"} {
		t.Run(file, func(t *testing.T) {
			h := corpusHarness(t, file)
			for i := int64(1); i <= 3; i++ {
				h.mustPipe("input_topic", "string", "long", "key1", i, i)
			}
			expect(t, "aggregates", h.out("output_topic", "string", "long"), "key1=1", "key1=3", "key1=6")
			st, ok := h.drv.Store("aggregate_store")
			if !ok {
				t.Fatal("no aggregate_store")
			}
			kv, err := h.res.Stores.KeyValue("aggregate_store").Typed(st)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := kv.Get("key1"); err != nil || v != int64(6) {
				t.Errorf("store: %v %v", v, err)
			}
		})
	}
}

func TestUpstreamAggregateStoreExplicit(t *testing.T) {
	h := corpusHarness(t, "test-aggregate-store-explicit.yaml")
	for i, tx := range []string{
		`{"transaction_id":"t1","category":"electronics","amount":299.99,"timestamp":1000}`,
		`{"transaction_id":"t2","category":"clothing","amount":79.99,"timestamp":2000}`,
		`{"transaction_id":"t3","category":"electronics","amount":599.99,"timestamp":3000}`,
		`{"transaction_id":"t4","category":"clothing","amount":119.99,"timestamp":4000}`,
		`{"transaction_id":"t5","category":"electronics","amount":199.99,"timestamp":5000}`,
	} {
		h.mustPipe("transactions", "string", "string", "t"+string(rune('1'+i)), tx, int64(i))
	}
	got := h.out("category_aggregates", "string", "string")
	if len(got) != 5 {
		t.Fatalf("want 5 updates, got %q", got)
	}
	last := map[string]string{}
	for _, l := range got {
		k, v, _ := strings.Cut(l, "=")
		last[k] = v
	}
	for k, want := range map[string][]string{"electronics": {`"total_sales":1099.97`, `"count":3`}, "clothing": {`"total_sales":199.98`, `"count":2`}} {
		for _, w := range want {
			if !strings.Contains(last[k], w) {
				t.Errorf("%s: %s lacks %s", k, last[k], w)
			}
		}
	}
}

func TestUpstreamReduce(t *testing.T) {
	h := corpusHarness(t, "test-reduce.yaml")
	for _, kv := range [][2]string{{"key1", "Hello "}, {"key1", "World"}, {"key1", " from KSML"}, {"key2", "foo"}, {"key2", "bar"}} {
		h.mustPipe("inMessages", "string", "string", kv[0], kv[1], 1)
	}
	expect(t, "reduced", h.out("outMessages", "string", "string"),
		"key1=Hello ", "key1=Hello World", "key1=Hello World from KSML", "key2=foo", "key2=foobar")
}

func TestUpstreamRepartitionCount(t *testing.T) {
	h := corpusHarness(t, "test-repartition.yaml")
	for _, a := range [][2]string{
		{"us-east", `{"activity_id":"act_00001","user_id":"user_001","region":"us-east","activity":"login","amount":0,"timestamp":1}`},
		{"us-east", `{"activity_id":"act_00002","user_id":"user_001","region":"us-east","activity":"browse","amount":0,"timestamp":2}`},
		{"us-west", `{"activity_id":"act_00003","user_id":"user_002","region":"us-west","activity":"purchase","amount":199.99,"timestamp":3}`},
		{"eu-central", `{"activity_id":"act_00004","user_id":"user_003","region":"eu-central","activity":"login","amount":0,"timestamp":4}`},
		{"ap-south", `{"activity_id":"act_00005","user_id":"user_004","region":"ap-south","activity":"browse","amount":0,"timestamp":5}`},
		{"us-east", `{"activity_id":"act_00006","user_id":"user_001","region":"us-east","activity":"logout","amount":0,"timestamp":6}`},
	} {
		h.mustPipe("user_activities", "string", "json", a[0], jsonValue(t, a[1]), 1)
	}
	expect(t, "counts", h.out("user_activity_counts", "string", "string"),
		"user_001=1", "user_001=2", "user_002=1", "user_003=1", "user_004=1", "user_001=3")
}

// persistentHarness builds a definition with persistent stores under dir.
func persistentHarness(t testing.TB, src, dir string) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "def.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := definition.Load(path, definition.Options{Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	serdes := testSerdes(t)
	res, err := Build([]*definition.Definition{def}, Options{ApplicationID: "app", StateDir: dir,
		Functions: NewPythonFunctions(pythonInterp(t)), Serdes: serdes})
	if err != nil {
		t.Fatal(err)
	}
	drv, err := testdriver.New(res.Topology, testdriver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, drv: drv, res: res, serdes: serdes}
}

func TestPersistentCountSurvivesRestart(t *testing.T) {
	src := `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: long
stores:
  counts:
    type: keyValue
    keyType: string
    valueType: long
    persistent: true
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
      - type: count
        store: counts
      - type: toStream
    to: out
`
	dir := filepath.Join(t.TempDir(), "app")
	h := persistentHarness(t, src, dir)
	h.mustPipe("in", "string", "string", "a", "x", 1)
	h.mustPipe("in", "string", "string", "a", "x", 2)
	h.mustPipe("in", "string", "string", "b", "x", 3)
	expect(t, "first run", h.out("out", "string", "long"), "a=1", "a=2", "b=1")
	if err := h.drv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "0_0", "counts")); err != nil {
		t.Fatalf("store directory: %v", err)
	}
	h = persistentHarness(t, src, dir)
	defer h.drv.Close()
	h.mustPipe("in", "string", "string", "a", "x", 4)
	h.mustPipe("in", "string", "string", "b", "x", 5)
	expect(t, "after restart", h.out("out", "string", "long"), "a=3", "b=2")
}

// Tombstones and null keys: a table forwards deletes as tombstones; a
// grouped stream aggregation skips null keys and null values.
func TestTombstonesAndNullKeys(t *testing.T) {
	h := yamlHarness(t, `
tables:
  profiles:
    topic: profiles
    keyType: string
    valueType: string
streams:
  clicks:
    topic: clicks
    keyType: string
    valueType: string
  profile_changes:
    topic: profile_changes
    keyType: string
    valueType: string
  counts:
    topic: counts
    keyType: string
    valueType: long
pipelines:
  changes:
    from: profiles
    via:
      - type: toStream
    to: profile_changes
  count:
    from: clicks
    via:
      - type: groupByKey
      - type: count
      - type: toStream
    to: counts
`)
	h.mustPipe("profiles", "string", "string", "a", "v1", 1)
	h.mustPipe("profiles", "string", "string", "a", nil, 2)
	h.mustPipe("profiles", "string", "string", nil, "ignored", 3)
	expect(t, "table changes", h.out("profile_changes", "string", "string"), "a=v1", "a=null")
	dropped := DroppedRecords.Count()
	h.mustPipe("clicks", "string", "string", "k", "x", 1)
	h.mustPipe("clicks", "string", "string", nil, "x", 2)
	h.mustPipe("clicks", "string", "string", "k", nil, 3)
	h.mustPipe("clicks", "string", "string", "k", "y", 4)
	expect(t, "counts", h.out("counts", "string", "long"), "k=1", "k=2")
	if got := DroppedRecords.Count() - dropped; got != 2 {
		t.Errorf("dropped %d records, want 2", got)
	}
}

// An aggregation in a timestamped store forwards the highest timestamp of
// its records, as Kafka Streams does; the typed view strips the timestamp.
func TestTimestampedAggregateKeepsMaxTimestamp(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: long
  out:
    topic: out
    keyType: string
    valueType: long
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
      - type: aggregate
        store:
          name: sums
          type: keyValue
          timestamped: true
        initializer:
          expression: 0
          resultType: long
        aggregator:
          expression: aggregatedValue + value
          resultType: long
      - type: toStream
    to: out
`)
	h.mustPipe("in", "string", "long", "k", int64(1), 100)
	h.mustPipe("in", "string", "long", "k", int64(2), 50) // out of order
	h.mustPipe("in", "string", "long", "k", int64(4), 200)
	var got []string
	for _, r := range h.drv.Output("out") {
		v, _ := h.serde("long", false).Deserialize("out", nil, r.Value)
		got = append(got, fmt.Sprintf("%v@%d", v, r.Timestamp))
	}
	expect(t, "sums with timestamps", got, "1@100", "3@100", "7@200")
	st, _ := h.drv.Store("sums")
	kv, err := h.res.Stores.KeyValue("sums").Typed(st)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := kv.Get("k"); v != int64(7) || err != nil {
		t.Errorf("typed view: %v %v", v, err)
	}
	ts, err := h.res.Stores.KeyValue("sums").TypedTimestamped(st)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ts.Get("k"); Format(v) != `{"value":7,"timestamp":200}` {
		t.Errorf("timestamped view: %s", Format(v))
	}
}

// Windowed and session aggregations on Pebble continue after a restart.
func TestPersistentWindowAndSessionStoresSurviveRestart(t *testing.T) {
	src := `
streams:
  in:
    topic: in
    keyType: string
    valueType: long
  windowed:
    topic: windowed
    keyType: json:windowed(string)
    valueType: long
  sessions:
    topic: sessions
    keyType: json:windowed(string)
    valueType: long
pipelines:
  tumbling:
    from: in
    via:
      - type: groupByKey
      - type: windowByTime
        windowType: tumbling
        duration: 10s
        grace: 1m
      - type: count
        store:
          name: counts
          type: window
          persistent: true
      - type: toStream
    to: windowed
  session:
    from: in
    via:
      - type: groupByKey
      - type: windowBySession
        inactivityGap: 5s
        grace: 1m
      - type: count
        store:
          name: session_counts
          type: session
          persistent: true
      - type: toStream
    to: sessions
`
	dir := filepath.Join(t.TempDir(), "app")
	h := persistentHarness(t, src, dir)
	h.mustPipe("in", "string", "long", "a", int64(0), 1000)
	h.mustPipe("in", "string", "long", "ab", int64(0), 2000) // a key that extends another key's bytes
	h.mustPipe("in", "string", "long", "a", int64(0), 3000)
	h.drv.Close()
	h = persistentHarness(t, src, dir)
	defer h.drv.Close()
	h.mustPipe("in", "string", "long", "a", int64(0), 4000)
	h.mustPipe("in", "string", "long", "ab", int64(0), 12000)
	expect(t, "windows after restart", h.windowedOut("windowed", "json:windowed(string)", "long"),
		win("a", 0, 10000)+"=3", win("ab", 10000, 20000)+"=1")
	expect(t, "sessions after restart", h.windowedOut("sessions", "json:windowed(string)", "long"),
		win("a", 1000, 3000)+"=null", win("a", 1000, 4000)+"=3", win("ab", 12000, 12000)+"=1")
}

// groupByKey repartitions when an earlier operation changed the key, and
// not otherwise.
func TestGroupByKeyRepartitionsAfterKeyChange(t *testing.T) {
	def := func(via string) string {
		return `
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
` + via + `
      - type: groupByKey
      - type: count
      - type: toStream
    to: out
`
	}
	h := yamlHarness(t, def(`      - type: mapKey
        mapper:
          expression: value
          resultType: string`))
	h.mustPipe("in", "string", "string", "k1", "a", 1)
	h.mustPipe("in", "string", "string", "k2", "a", 2)
	expect(t, "counts by new key", h.out("out", "string", "long"), "a=1", "a=2")
	if n := len(h.drv.Output("app-test_pipelines_main_via_step2_groupByKey-repartition")); n != 2 {
		t.Errorf("repartitioned records: %d (topics %v)", n, h.drv.Topics())
	}
	h = yamlHarness(t, def(`      - type: mapValues
        mapper:
          expression: value + "!"
          resultType: string`))
	h.mustPipe("in", "string", "string", "k1", "a", 1)
	for _, tp := range h.drv.Topics() {
		if strings.HasSuffix(tp, "-repartition") {
			t.Errorf("unexpected repartition topic %s", tp)
		}
	}
}

// With caching on, a store forwards only the latest update per key when
// the task commits; the test driver commits after each record.
func TestCachingForwardsLatestUpdatePerCommit(t *testing.T) {
	def := func(caching bool) string {
		return fmt.Sprintf(`
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
      - type: transformKeyValueToKeyValueList
        mapper:
          expression: '[(key, value), (key, value), ("other", value)]'
          resultType: '[(string, string)]'
      - type: groupByKey
      - type: count
        store:
          name: counts
          type: keyValue
          caching: %v
      - type: toStream
    to: out
`, caching)
	}
	h := yamlHarness(t, def(false))
	h.mustPipe("in", "string", "string", "k", "x", 1)
	expect(t, "without caching", h.out("out", "string", "long"), "k=1", "k=2", "other=1")
	h = yamlHarness(t, def(true))
	h.mustPipe("in", "string", "string", "k", "x", 1)
	h.mustPipe("in", "string", "string", "k", "x", 2)
	expect(t, "with caching", h.out("out", "string", "long"), "k=2", "other=1", "k=4", "other=2")

	// Under a Kafka task the cache holds updates until the commit.
	topo := h.res.Topology
	sub, _ := topo.SubTopologyFor("app-test_pipelines_main_via_step2_groupByKey-repartition")
	col := &collected{}
	task, err := streams.NewTask(topo, sub, 0, col)
	if err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	kb, _ := h.serde("string", true).Serialize("", nil, "k")
	vb, _ := h.serde("string", false).Serialize("", nil, "x")
	for i := 0; i < 3; i++ {
		if err := task.Process(&streams.RawRecord{Topic: sub.SourceTopics()[0], Timestamp: int64(i), Key: kb, Value: vb}); err != nil {
			t.Fatal(err)
		}
	}
	if len(col.recs["out"]) != 0 {
		t.Fatalf("forwarded before the commit: %d records", len(col.recs["out"]))
	}
	if err := task.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := len(col.recs["out"]); got != 1 {
		t.Fatalf("records at the commit: %d, want 1", got)
	}
	if v, _ := h.serde("long", false).Deserialize("out", nil, col.recs["out"][0].value); v != int64(3) {
		t.Errorf("count at the commit: %v", v)
	}
}
