package restarttest

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/testgate"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ksmlBinary builds cmd/ksml once per test process.
func ksmlBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the ksml binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ksml-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ksml")
		out, err := exec.Command("go", "build", "-o", binPath, "../../../cmd/ksml").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is a running `ksml run` process.
type instance struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func start(t *testing.T, dir string) *instance {
	t.Helper()
	cmd := exec.Command(ksmlBinary(t), "run", "-c", "ksml-runner.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KSML_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			in.mu.Lock()
			in.log.WriteString(sc.Text() + "\n")
			in.mu.Unlock()
		}
		cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.done
	})
	return in
}

func (in *instance) logs() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.log.String()
}

func (in *instance) waitLog(t *testing.T, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(in.logs(), text) {
		select {
		case <-in.done:
			t.Fatalf("ksml exited before logging %q:\n%s", text, in.logs())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v:\n%s", text, timeout, in.logs())
		}
	}
}

const countDefinition = `
streams:
  clicks:
    topic: clicks
    keyType: string
    valueType: string
  counts:
    topic: click-counts
    keyType: string
    valueType: long
stores:
  click_counts:
    type: keyValue
    keyType: string
    valueType: long
    logging: true
pipelines:
  count:
    from: clicks
    via:
      - type: groupByKey
      - type: count
        store: click_counts
      - type: toStream
    to: counts
`

func setup(t *testing.T) (string, *kgo.Client, string) {
	b, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "count.yaml"), []byte(countDefinition), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`ksml:
  configDirectory: %q
  storageDirectory: %q
  definitions:
    count: count.yaml
kafka:
  bootstrap.servers: %q
  application.id: "clickcount"
  auto.offset.reset: "earliest"
  commit.interval.ms: "100"
  session.timeout.ms: "6000"
  heartbeat.interval.ms: "500"
`, work, work, b.BootstrapServers())
	if err := os.WriteFile(filepath.Join(work, "ksml-runner.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, -1, nil, "clicks")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	return work, cl, b.BootstrapServers()
}

var keys = []string{"alice", "bob", "carol", "dave", "erin", "frank"}

// produceRound sends one click per key, n times.
func produceRound(t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		for _, k := range keys {
			recs = append(recs, &kgo.Record{Topic: "clicks", Key: []byte(k), Value: []byte("click")})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// counts reads the whole output topic: the latest count per key and the
// counts in the order they were written, per key.
func counts(t *testing.T, bootstrap string) (map[string]int64, map[string][]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics("click-counts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	latest, all := map[string]int64{}, map[string][]int64{}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			if len(r.Value) != 8 {
				t.Errorf("count of %s has %d bytes", r.Key, len(r.Value))
				return
			}
			v := int64(binary.BigEndian.Uint64(r.Value))
			latest[string(r.Key)] = v
			all[string(r.Key)] = append(all[string(r.Key)], v)
		})
		if n == 0 {
			return latest, all
		}
	}
}

func waitCounts(t *testing.T, bootstrap string, want int64) map[string][]int64 {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		latest, all := counts(t, bootstrap)
		done := len(latest) == len(keys)
		for _, k := range keys {
			if latest[k] < want {
				done = false
			}
		}
		if done {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts did not reach %d: %v", want, latest)
		}
	}
}

// appendKafkaConfig adds a property to the kafka section setup wrote
// (the last section of ksml-runner.yaml).
func appendKafkaConfig(t *testing.T, work, key, value string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(work, "ksml-runner.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(f, "  %s: %q\n", key, value); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitCommitted waits until the group committed every input record.
func waitCommitted(t *testing.T, cl *kgo.Client, total int64) {
	t.Helper()
	waitCommittedOn(t, cl, "clicks", total)
}

// waitCommittedOn waits until the group committed total records of topic
// (over its partitions). Offsets are committed once what the records
// caused is written, so committed records are processed ones.
func waitCommittedOn(t *testing.T, cl *kgo.Client, topic string, total int64) {
	t.Helper()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		offs, err := adm.FetchOffsets(context.Background(), "clickcount")
		if err == nil {
			var sum int64
			offs.Each(func(o kadm.OffsetResponse) {
				if o.Topic == topic {
					sum += o.At
				}
			})
			if sum >= total {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the group did not commit %d records of %s", total, topic)
}

// TestCountContinuesAfterKill9 kills `ksml run` with SIGKILL after its
// counts are committed, restarts it and checks that counting continues
// from the changelog: every key's next count is one more than before.
func TestCountContinuesAfterKill9(t *testing.T) {
	testgate.Long(t, "builds the binary, kill -9 fault run")
	t.Parallel()
	work, cl, bootstrap := setup(t)
	p := start(t, work)
	p.waitLog(t, "runner started", 20*time.Second)
	produceRound(t, cl, 5)
	waitCounts(t, bootstrap, 5)
	waitCommitted(t, cl, int64(5*len(keys)))
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done

	produceRound(t, cl, 3)
	p2 := start(t, work)
	p2.waitLog(t, "state stores restored", 30*time.Second)
	all := waitCounts(t, bootstrap, 8)
	for _, k := range keys {
		got := fmt.Sprint(all[k])
		if got != "[1 2 3 4 5 6 7 8]" {
			t.Errorf("%s: counts %s, want [1 2 3 4 5 6 7 8]", k, got)
		}
	}
	if t.Failed() {
		t.Logf("second run:\n%s", p2.logs())
	}
}

// TestSecondInstanceTakesOver runs two instances in one group, stops one
// and checks that the other continues its counts.
func TestSecondInstanceTakesOver(t *testing.T) {
	testgate.Long(t, "builds the binary, kill fault run")
	t.Parallel()
	work, cl, bootstrap := setup(t)
	p1 := start(t, work)
	p1.waitLog(t, "runner started", 20*time.Second)
	p2 := start(t, work)
	p2.waitLog(t, "runner started", 20*time.Second)
	produceRound(t, cl, 4)
	waitCounts(t, bootstrap, 4)
	waitCommitted(t, cl, int64(4*len(keys)))
	p1.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p1.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the first instance did not stop on SIGTERM")
	}
	produceRound(t, cl, 2)
	all := waitCounts(t, bootstrap, 6)
	for _, k := range keys {
		if got := fmt.Sprint(all[k]); got != "[1 2 3 4 5 6]" {
			t.Errorf("%s: counts %s, want [1 2 3 4 5 6]", k, got)
		}
	}
	if t.Failed() {
		t.Logf("remaining instance:\n%s", p2.logs())
	}
}

const globalJoinDefinition = `
streams:
  orders:
    topic: orders
    keyType: string
    valueType: string
  enriched:
    topic: enriched-orders
    keyType: string
    valueType: string
globalTables:
  products:
    topic: products
    keyType: string
    valueType: string
pipelines:
  enrich:
    from: orders
    via:
      - type: join
        globalTable: products
        mapper:
          expression: value
          resultType: string
        valueJoiner:
          expression: key + ":" + value2
          resultType: string
    to: enriched
`

// TestGlobalTableSurvivesKill9 restarts a stream-globalTable join after
// SIGKILL: the globalTable is loaded again from its topic before
// processing, so orders placed after the restart still find their
// products.
func TestGlobalTableSurvivesKill9(t *testing.T) {
	testgate.Long(t, "builds the binary, kill -9 fault run")
	t.Parallel()
	work, cl, bootstrap := setup(t)
	if err := os.WriteFile(filepath.Join(work, "count.yaml"), []byte(globalJoinDefinition), 0o644); err != nil {
		t.Fatal(err)
	}
	appendKafkaConfig(t, work, "log.summary.interval.ms", "100")
	for _, topic := range []string{"orders", "products"} {
		resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, -1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	produce := func(topic, key, value string) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	p := start(t, work)
	p.waitLog(t, "runner started", 20*time.Second)
	for _, prod := range []string{"laptop", "phone", "tablet", "watch"} {
		produce("products", "p-"+prod, prod)
	}
	// The global follower counts a record as it applies it, before the
	// loop processes stream records; the progress summary (every 100ms
	// here) shows when all four products are in.
	p.waitLog(t, "consumed=4 ", 20*time.Second)
	produce("orders", "o1", "p-laptop")
	waitOutput := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := readTopic(t, bootstrap, "enriched-orders")
			if strings.Join(got, " ") == strings.Join(want, " ") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("enriched orders: %v, want %v", got, want)
			}
		}
	}
	waitOutput("o1=o1:laptop")
	// Everything read is committed before the kill.
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(20 * time.Second)
	for {
		offs, err := adm.FetchOffsets(context.Background(), "clickcount")
		var sum int64
		if err == nil {
			offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		}
		if sum >= 1 { // the order; globalTables are read outside the group
			break
		}
		if time.Now().After(deadline) {
			var parts []string
			offs.Each(func(o kadm.OffsetResponse) {
				parts = append(parts, fmt.Sprintf("%s/%d=%d", o.Topic, o.Partition, o.At))
			})
			t.Fatalf("offsets not committed: %d %v\n%s", sum, parts, p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p2 := start(t, work)
	p2.waitLog(t, "runner started", 30*time.Second)
	for _, o := range []string{"phone", "tablet", "watch"} {
		produce("orders", "o-"+o, "p-"+o)
	}
	waitOutput("o-phone=o-phone:phone", "o-tablet=o-tablet:tablet", "o-watch=o-watch:watch", "o1=o1:laptop")
}

// readTopic reads a string topic from the start, sorted.
func readTopic(t *testing.T, bootstrap, topic string) []string {
	out := readTopicInOrder(t, bootstrap, topic)
	sort.Strings(out)
	return out
}

// readTopicInOrder reads a string topic from the start as "key=value", in
// the order of each partition.
func readTopicInOrder(t *testing.T, bootstrap, topic string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { n++; out = append(out, string(r.Key)+"="+string(r.Value)) })
		if n == 0 {
			return out
		}
	}
}

const fkJoinDefinition = `
tables:
  orders:
    topic: orders
    keyType: string
    valueType: string
  products:
    topic: products
    keyType: string
    valueType: string
streams:
  enriched:
    topic: enriched-orders
    keyType: string
    valueType: string
pipelines:
  enrich:
    from: orders
    via:
      - type: join
        table: products
        foreignKeyExtractor:
          expression: value
          resultType: string
        valueJoiner:
          expression: value1 + "=" + value2
          resultType: string
      - type: toStream
    to: enriched
`

// TestForeignKeyJoinAcrossPartitions runs a foreign-key join under ksml
// run with two partitions: orders and the products they refer to sit in
// different partitions, and still meet.
func TestForeignKeyJoinAcrossPartitions(t *testing.T) {
	testgate.Long(t, "builds the binary")
	t.Parallel()
	work, cl, bootstrap := setup(t)
	if err := os.WriteFile(filepath.Join(work, "count.yaml"), []byte(fkJoinDefinition), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"orders", "products"} {
		resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, -1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p := start(t, work)
	p.waitLog(t, "runner started", 20*time.Second)
	// Kafka's default partitioner places orders and products by their own
	// keys, so most orders sit in another partition than their product.
	var products, orders []*kgo.Record
	cross := 0
	for i := 0; i < 6; i++ {
		o, pr := fmt.Sprintf("o%d", i), fmt.Sprintf("p%d", i)
		products = append(products, &kgo.Record{Topic: "products", Key: []byte(pr), Value: []byte("product" + pr[1:])})
		orders = append(orders, &kgo.Record{Topic: "orders", Key: []byte(o), Value: []byte(pr)})
		if streams.DefaultPartition([]byte(o), 2) != streams.DefaultPartition([]byte(pr), 2) {
			cross++
		}
	}
	if cross == 0 {
		t.Fatal("no order sits in another partition than its product")
	}
	if err := cl.ProduceSync(context.Background(), products...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The products' table is in its stores once their offsets are committed.
	waitCommittedOn(t, cl, "products", int64(len(products)))
	if err := cl.ProduceSync(context.Background(), orders...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := "o0=p0=product0 o1=p1=product1 o2=p2=product2 o3=p3=product3 o4=p4=product4 o5=p5=product5"
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := strings.Join(readTopic(t, bootstrap, "enriched-orders"), " ")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("enriched orders: %s\nwant %s", got, want)
		}
	}
}

const windowedCountDefinition = `
streams:
  clicks:
    topic: clicks
    keyType: string
    valueType: string
  counts:
    topic: click-counts
    keyType: string
    valueType: string
pipelines:
  count:
    from: clicks
    via:
      - type: groupByKey
      - type: windowBySession
        inactivityGap: 1h
      - type: count
        store:
          name: click_sessions
          type: session
          logging: true
      - type: toStream
      - type: filter
        if:
          expression: value is not None
      - type: transformKeyValue
        mapper:
          expression: (key["key"], str(key["start"]) + "-" + str(key["end"]) + ":" + str(value))
          resultType: (string, string)
    to: counts
`

// TestSessionCountContinuesAfterKill9 restarts a session-window count after
// SIGKILL: the session store comes back from its changelog, so records
// after the restart extend the sessions counted before it.
func TestSessionCountContinuesAfterKill9(t *testing.T) {
	testgate.Long(t, "builds the binary, kill -9 fault run")
	t.Parallel()
	work, cl, bootstrap := setup(t)
	if err := os.WriteFile(filepath.Join(work, "count.yaml"), []byte(windowedCountDefinition), 0o644); err != nil {
		t.Fatal(err)
	}
	click := func(key string, ts int64) *kgo.Record {
		return &kgo.Record{Topic: "clicks", Key: []byte(key), Value: []byte("c"), Timestamp: time.UnixMilli(ts)}
	}
	p := start(t, work)
	p.waitLog(t, "runner started", 20*time.Second)
	if err := cl.ProduceSync(context.Background(), click("a", 1000), click("b", 2000), click("a", 3000)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	latest := func(want map[string]string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := map[string]string{}
			for _, l := range readTopicInOrder(t, bootstrap, "click-counts") {
				k, v, _ := strings.Cut(l, "=")
				got[k] = v // a key's updates are in one partition, in order
			}
			if fmt.Sprint(got) == fmt.Sprint(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("session counts %v, want %v", got, want)
			}
		}
	}
	latest(map[string]string{"a": "1000-3000:2", "b": "2000-2000:1"})
	waitCommitted(t, cl, 3)
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p2 := start(t, work)
	p2.waitLog(t, "state stores restored", 30*time.Second)
	if err := cl.ProduceSync(context.Background(), click("a", 5000), click("b", 4000)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	latest(map[string]string{"a": "1000-5000:3", "b": "2000-4000:2"})
}
