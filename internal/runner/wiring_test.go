package runner_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/topology"
)

const windowCountDefinition = `streams:
  temps:
    topic: temps
    keyType: string
    valueType: string
functions:
  not_skipped:
    type: predicate
    code: |
      return value != "skip"
pipelines:
  per_window:
    from: temps
    via:
      - type: filter
        if: not_skipped
      - type: groupByKey
      - type: windowByTime
        windowType: tumbling
        duration: 10s
        grace: 0s
      - type: count
        store:
          name: temp_counts
          type: window
          retention: 1h
`

// TestWindowedQueriesExecutionTimeAndDroppedRecords runs a windowed count
// behind a Python filter with metrics and the application server on: the
// window store answers /state/windowed queries, every filter call is timed
// into ksml_execution_time, the late record is counted in
// ksml_dropped_records_total, and ksml_app carries the version.
func TestWindowedQueriesExecutionTimeAndDroppedRecords(t *testing.T) {
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "temps", 1)
	work := t.TempDir()
	writeDefinition(t, work, "wincount.yaml", windowCountDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    wincount: wincount.yaml
  prometheus:
    enabled: true
    host: 127.0.0.1
    port: %d
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: %d
`, work, work, freePort(t), freePort(t)), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "wincount"})
	// The dropped-record counts are the process's: start from what earlier
	// runs of this test left.
	var droppedBefore int64
	topology.DroppedRecords.Each(func(task, processor string, n int64) {
		if task == "0_0" && processor == "wincount_pipelines_per_window_via_step4_count" {
			droppedBefore = n
		}
	})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Version: "1.2.3",
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	rec := func(key string, ts int64) *kgo.Record {
		return &kgo.Record{Topic: "temps", Key: []byte(key), Value: []byte("x"), Timestamp: time.UnixMilli(ts)}
	}
	produce(t, cl, rec("a", 1000), rec("a", 2000), rec("b", 3000), rec("a", 15000),
		rec("b", 5000)) // late: [0,10s) closed at stream time 10s (grace 0)
	waitFor(t, "five records", 10*time.Second, func() bool { return rr.r.Counters().Get("consumed", "temps") == 5 })

	app := "http://" + rr.r.AppServerAddr() + "/state/windowed/temp_counts"
	w0 := `"window":{"start":0,"end":10000,"startTime":"1970-01-01T00:00:00Z","endTime":"1970-01-01T00:00:10Z"}`
	w10 := `"window":{"start":10000,"end":20000,"startTime":"1970-01-01T00:00:10Z","endTime":"1970-01-01T00:00:20Z"}`
	all := `[{"key":"a","value":2,` + w0 + `},{"key":"a","value":1,` + w10 + `},{"key":"b","value":1,` + w0 + `}]`
	for _, c := range []struct {
		path, want string
		code       int
	}{
		{"/all", all, 200},
		{"/local/all", all, 200},
		{"/get/a/0", `{"key":"a","value":2,` + w0 + `}`, 200},
		{"/local/get/a/10000", `{"key":"a","value":1,` + w10 + `}`, 200},
		{"/local/get/b/0", `{"key":"b","value":1,` + w0 + `}`, 200},
		{"/get/b/10000", ``, 204}, // b has no window starting at 10s
		{"/get/a/5", ``, 204},     // windows are found by their start
	} {
		code, body := httpGet(t, app+c.path)
		if code != c.code || body != c.want {
			t.Errorf("GET %s: %d %s\nwant %d %s", c.path, code, body, c.code, c.want)
		}
	}
	if code, body := httpGet(t, "http://"+rr.r.AppServerAddr()+"/state/windowed/nope/all"); code != http.StatusNotFound ||
		body != "Could not find store nope of type windowed" {
		t.Errorf("unknown store: %d %s", code, body)
	}

	_, body := httpGet(t, "http://"+rr.r.MetricsAddr()+"/metrics")
	for _, want := range []string{
		`ksml_execution_time_count{function_name="not_skipped",function_type="predicate",namespace="wincount",` +
			`operation_name="wincount_pipelines_per_window_via_step1_filter",pipeline="per_window",step="1"} 5`,
		fmt.Sprintf(`ksml_dropped_records_total{processor="wincount_pipelines_per_window_via_step4_count",task="0_0"} %d`, droppedBefore+1),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks\n%s\nin:\n%s", want, grepLines(body, "execution_time_count")+"\n"+grepLines(body, "dropped"))
		}
	}
	m := regexp.MustCompile(`ksml_app\{app_id="wincount",build_time="([^"]*)",name="ksml",version="1.2.3"\} 1`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("ksml_app: %s", grepLines(body, "ksml_app"))
	}
	if _, err := time.Parse(time.RFC3339, m[1]); err != nil {
		t.Errorf("build_time %q: %v", m[1], err)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}

const persistentCountDefinition = `streams:
  clicks:
    topic: pclicks
    keyType: string
    valueType: string
  counts:
    topic: pclick-counts
    keyType: string
    valueType: long
pipelines:
  count_pages:
    from: clicks
    via:
      - type: groupByKey
      - type: count
        store:
          name: page_counts
          type: keyValue
          persistent: true
          logging: false
      - type: toStream
    to: counts
`

// TestPersistentStoreUnderStorageDirectory runs a count into a persistent
// store without a changelog: its Pebble files live under
// <storageDirectory>/<application.id>/<task>/<store>, and after a clean
// restart the counts continue from them (nothing else holds the state).
func TestPersistentStoreUnderStorageDirectory(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "pclicks", 1)
	work := t.TempDir()
	state := filepath.Join(work, "state")
	writeDefinition(t, work, "pages.yaml", persistentCountDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  createStorageDirectory: true\n  definitions:\n    pages: pages.yaml\n", work, state),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "pcount", "commit.interval.ms": "100"})
	opts := runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))}
	click := func(page string) *kgo.Record {
		return &kgo.Record{Topic: "pclicks", Key: []byte(page), Value: []byte("x")}
	}
	counts := func(min int) []string {
		var out []string
		for _, r := range readAll(t, b.Bootstrap, "pclick-counts", min, 700*time.Millisecond) {
			out = append(out, fmt.Sprintf("%s=%x", r.Key, r.Value))
		}
		return out
	}

	rr := startRunner(t, opts)
	if got := rr.r.StateDir(); got != filepath.Join(state, "pcount") {
		t.Errorf("StateDir = %s", got)
	}
	produce(t, cl, click("home"), click("home"), click("docs"))
	if got := strings.Join(counts(3), " "); got != "home=0000000000000001 home=0000000000000002 docs=0000000000000001" {
		t.Fatalf("counts %s", got)
	}
	storeDir := filepath.Join(state, "pcount", "0_0", "page_counts")
	if m, _ := filepath.Glob(filepath.Join(storeDir, "MANIFEST-*")); len(m) != 1 {
		t.Fatalf("no Pebble store under %s (manifests %v)", storeDir, m)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	if internal := rr.r.Topology().InternalTopics(); len(internal) != 0 {
		t.Fatalf("internal topics %v: the store must have no changelog", internal)
	}

	startRunner(t, opts)
	produce(t, cl, click("home"), click("docs"))
	if got := strings.Join(counts(5)[3:], " "); got != "home=0000000000000003 docs=0000000000000002" {
		t.Fatalf("counts after restart %s, want home=3 docs=2", got)
	}
}

const convertingProducersDefinition = `functions:
  gen_dict:
    type: generator
    code: |
      return ("k1", {"a": 1, "b": "x", "c": [True, None]})
  gen_bad:
    type: generator
    code: |
      return ("k2", "not a number")
  gen_text_number:
    type: generator
    code: |
      return (7, "42")
producers:
  dicts:
    generator: gen_dict
    to:
      topic: dict-text
      keyType: string
      valueType: string
  bad:
    generator: gen_bad
    to:
      topic: bad-numbers
      keyType: string
      valueType: long
  texts:
    generator: gen_text_number
    to:
      topic: text-numbers
      keyType: string
      valueType: long
`

// TestProducersConvertToTopicTypes checks that generated keys and values
// are converted to the target topic's types before serialization: a dict
// into a string topic is its JSON text, a long key into a string key is its
// decimal text, numeric text into a long topic is the number; a value that
// does not convert is skipped with an error log and counted as failed.
// It also checks that the default-notation warning reaches the runner's
// logger, not the process-wide one.
func TestProducersConvertToTopicTypes(t *testing.T) {
	// Not parallel: it swaps the process-wide default logger.
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "gen.yaml", convertingProducersDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    gen: gen.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "convert"})
	var defaultLog syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLog, nil)))
	defer slog.SetDefault(prev)
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	select {
	case err := <-rr.done:
		close(rr.done)
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("producers did not finish")
	}
	recs := readAll(t, b.Bootstrap, "dict-text", 1, 300*time.Millisecond)
	if len(recs) != 1 || string(recs[0].Key) != "k1" || string(recs[0].Value) != `{"a":1,"b":"x","c":[true,null]}` {
		t.Errorf("dict-text: %d records, first %q=%q", len(recs), recs[0].Key, recs[0].Value)
	}
	recs = readAll(t, b.Bootstrap, "text-numbers", 1, 300*time.Millisecond)
	if len(recs) != 1 || string(recs[0].Key) != "7" || fmt.Sprintf("%x", recs[0].Value) != "000000000000002a" {
		t.Errorf("text-numbers: %d records, first %q=%x", len(recs), recs[0].Key, recs[0].Value)
	}
	if n := rr.r.Counters().Get("failed.produce", "bad-numbers"); n != 1 {
		t.Errorf("failed.produce bad-numbers = %d, want 1", n)
	}
	if n := rr.r.Counters().Get("produced", "bad-numbers"); n != 0 {
		t.Errorf("produced bad-numbers = %d, want 0", n)
	}
	out := logs.String()
	if !strings.Contains(out, `level=ERROR msg="skipping generated message" producer=gen.bad topic=bad-numbers key=k2 value="not a number" error="value does not convert to long: `) {
		t.Errorf("no error log for the skipped message in:\n%s", grepLines(out, "skipping"))
	}
	// Nothing in the definition uses Avro: upstream's warning is only a
	// debug line (TestFallbackAvroWarnsWhenUsed has the other side).
	if !strings.Contains(out, `level=DEBUG msg="No notations configured. Loading default Avro notation`) || strings.Contains(out, `level=WARN msg="No notations configured`) {
		t.Errorf("the default-notation line is not a debug line on the runner's logger:\n%s", grepLines(out, "notation"))
	}
	if strings.Contains(defaultLog.String(), "No notations configured") {
		t.Errorf("the default-notation warning went to the default logger")
	}
}

// TestPersistentStoresClosedOnRevocation runs a persistent count on two
// partitions, then starts a second instance: the first closes the task it
// hands over, so its Pebble store is unlocked, while the task it keeps
// stays open.
func TestPersistentStoresClosedOnRevocation(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "pclicks", 2)
	work := t.TempDir()
	writeDefinition(t, work, "pages.yaml", persistentCountDefinition)
	config := func(name string) string {
		dir := filepath.Join(work, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return runnerConfig(t, dir, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    pages: pages.yaml\n", work, dir),
			map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "prevoke", "commit.interval.ms": "100"})
	}
	logger := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	first := startRunner(t, runner.Options{ConfigFile: config("a"), WorkDir: work, Logger: logger})
	produce(t, cl, &kgo.Record{Topic: "pclicks", Partition: 0, Key: []byte("home"), Value: []byte("x")},
		&kgo.Record{Topic: "pclicks", Partition: 1, Key: []byte("docs"), Value: []byte("x")})
	readAll(t, b.Bootstrap, "pclick-counts", 2, 500*time.Millisecond)
	dirs := []string{filepath.Join(work, "a", "prevoke", "0_0", "page_counts"), filepath.Join(work, "a", "prevoke", "0_1", "page_counts")}
	// open reports whether the store can be opened, that is whether the
	// runner has closed it (Pebble locks a store within the process too).
	open := func(dir string) bool {
		kv, err := store.OpenPebbleKeyValue("page_counts", dir)
		if err != nil {
			return false
		}
		kv.Close()
		return true
	}
	for _, d := range dirs {
		if open(d) {
			t.Fatalf("%s is not held open by the running task", d)
		}
	}
	startRunner(t, runner.Options{ConfigFile: config("b"), WorkDir: work, Logger: logger})
	var released string
	waitFor(t, "a task handed over", 20*time.Second, func() bool {
		for _, d := range dirs {
			if open(d) {
				released = d
				return true
			}
		}
		return false
	})
	var kept []int32
	first.r.WithStores(func(stores []runner.StoreEntry) {
		for _, s := range stores {
			kept = append(kept, s.Partition)
		}
	})
	if len(kept) != 1 {
		t.Fatalf("first instance keeps stores of partitions %v, want one", kept)
	}
	if want := dirs[1-kept[0]]; released != want {
		t.Errorf("released %s, want %s", released, want)
	}
	if open(dirs[kept[0]]) {
		t.Errorf("the kept task's store %s is closed", dirs[kept[0]])
	}
}
