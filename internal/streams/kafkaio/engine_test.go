package kafkaio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// stringSerde is a UTF-8 serde that fails to read values starting with "!"
// (consume errors) and to write "out!" (produce errors at a sink).
type stringSerde struct{}

func (stringSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	str, ok := v.(string)
	if !ok || str == "out!" {
		return nil, fmt.Errorf("cannot write %v", v)
	}
	return []byte(str), nil
}

func (stringSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	if strings.HasPrefix(string(b), "!") {
		return nil, fmt.Errorf("cannot read %q", b)
	}
	return string(b), nil
}

func startBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func clientConfig(t *testing.T, bootstrap, appID string) *kafkaclient.Config {
	t.Helper()
	cfg, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": bootstrap, "application.id": appID, "commit.interval.ms": "100",
		// Members notice a rebalance at their next heartbeat.
		"heartbeat.interval.ms": "300",
	}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// countingTopology counts records per key in a logged store "counts" and
// writes key=count to "out".
func countingTopology(t *testing.T, appID string) *streams.Topology {
	return countingTopologyFailing(t, appID, "fail")
}

// countingTopologyFailing fails on records whose value is failOn (after
// counting them), or never when failOn is empty.
func countingTopologyFailing(t *testing.T, appID, failOn string) *streams.Topology {
	t.Helper()
	topo := streams.NewTopology(appID)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := stringSerde{}
	must(topo.AddSource("in", []string{"in"}, streams.SourceOptions{KeySerde: s, ValueSerde: s}))
	must(topo.AddProcessor("count", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, rec streams.Record) error {
			st, err := ctx.Store("counts")
			if err != nil {
				return err
			}
			kv := st.(streams.KeyValueStore)
			k := []byte(rec.Key.(string))
			old, err := kv.Get(k)
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(old))
			n++
			if err := kv.Put(k, []byte(strconv.Itoa(n))); err != nil {
				return err
			}
			if failOn != "" && rec.Value == failOn {
				return errors.New("asked to fail")
			}
			return ctx.Forward(rec.WithValue(strconv.Itoa(n)))
		})
	}, "in"))
	must(topo.AddSink("out", "out", streams.SinkOptions{KeySerde: s, ValueSerde: s}, "count"))
	must(topo.AddStateStore(&store.KeyValueBuilder{StoreName: "counts", LoggingOn: true}, "count"))
	return topo
}

type engineRun struct {
	eng    *kafkaio.Engine
	cancel context.CancelFunc
	done   chan error
}

func runEngine(t *testing.T, opts kafkaio.Options) *engineRun {
	t.Helper()
	assigned := make(chan struct{}, 16)
	user := opts.OnAssigned
	opts.OnAssigned = func(m map[string][]int32) {
		select {
		case assigned <- struct{}{}:
		default:
		}
		if user != nil {
			user(m)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	eng, err := kafkaio.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &engineRun{eng: eng, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-assigned:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("engine stopped before assignment: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("no partitions assigned within 15s")
	}
	return r
}

func (r *engineRun) stop(t *testing.T) error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("engine did not stop")
	}
	return nil
}

func produce(t *testing.T, cl *kgo.Client, topic string, kvs ...string) {
	t.Helper()
	var recs []*kgo.Record
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readTopic reads topic from the start until n records arrived (fails
// after 20s) and then briefly checks nothing else comes.
func readTopic(t *testing.T, bootstrap, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(20 * time.Second)
	for {
		wait := 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		fs := cl.PollFetches(ctx)
		cancel()
		got := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); got++ })
		if len(out) >= n && got == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s: %d records, want %d", topic, len(out), n)
		}
	}
}

func keyValues(recs []*kgo.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r.Key)+"="+string(r.Value))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// TestChangelogRestore stops an engine with state and starts a new one with
// fresh stores: the counts continue from the changelog.
func TestChangelogRestore(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	first := runEngine(t, kafkaio.Options{Topology: countingTopology(t, "restore"), Client: clientConfig(t, b.BootstrapServers(), "restore")})
	produce(t, cl, "in", "a=x", "b=x", "a=x")
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 3)); got != "a=1 a=2 b=1" {
		t.Fatalf("first run output %s", got)
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	// The changelog is compacted and holds the latest counts.
	cfgs, err := kadm.NewClient(cl).DescribeTopicConfigs(context.Background(), "restore-counts-changelog")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cfgs.On("restore-counts-changelog", nil); err != nil || !hasConfig(v.Configs, "cleanup.policy", "compact") {
		t.Errorf("changelog configs %+v (%v), want cleanup.policy=compact", v.Configs, err)
	}

	runEngine(t, kafkaio.Options{Topology: countingTopology(t, "restore"), Client: clientConfig(t, b.BootstrapServers(), "restore")})
	produce(t, cl, "in", "a=x", "b=x")
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 5)); got != "a=1 a=2 a=3 b=1 b=2" {
		t.Fatalf("output after restart %s, want the counts to continue (a=3 b=2)", got)
	}
	// Restoring does not write the restored records to the changelog again.
	if got := keyValues(readTopic(t, b.BootstrapServers(), "restore-counts-changelog", 5)); got != "a=1 a=2 a=3 b=1 b=2" {
		t.Errorf("changelog %s", got)
	}
}

func hasConfig(cs []kadm.Config, key, value string) bool {
	for _, c := range cs {
		if c.Key == key && c.Value != nil && *c.Value == value {
			return true
		}
	}
	return false
}

// TestConsumeErrorDeadLetter sends a record the source cannot deserialize
// to the dead-letter topic and goes on.
func TestConsumeErrorDeadLetter(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	var failed counter
	runEngine(t, kafkaio.Options{
		Topology: countingTopology(t, "consume"), Client: clientConfig(t, b.BootstrapServers(), "consume"),
		Handlers: kafkaio.Handlers{Consume: kafkaio.Handler{Action: kafkaio.Continue, DeadLetterTopic: "dlt"}},
		Observer: &failed,
	})
	produce(t, cl, "in", "a=x", "b=!broken", "c=x")
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 2)); got != "a=1 c=1" {
		t.Fatalf("output %s", got)
	}
	dlt := readTopic(t, b.BootstrapServers(), "dlt", 1)
	if len(dlt) != 1 || string(dlt[0].Key) != "b" || string(dlt[0].Value) != "!broken" {
		t.Fatalf("dead letters %s", keyValues(dlt))
	}
	h := map[string]string{}
	for _, x := range dlt[0].Headers {
		h[x.Key] = string(x.Value)
	}
	if h[kafkaio.HeaderHandler] != "consume" || h[kafkaio.HeaderNode] != "in" || h[kafkaio.HeaderOffset] != "1" ||
		!strings.Contains(h[kafkaio.HeaderMessage], `cannot read "!broken"`) {
		t.Errorf("dead-letter headers %v", h)
	}
	if got := failed.get("failed.consume"); got != 1 {
		t.Errorf("consume failures counted %d, want 1", got)
	}
}

// TestTwoInstancesShareThePartitions runs two engines in one group over a
// four-partition topic: each gets a share, and every record is counted.
func TestTwoInstancesShareThePartitions(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, -1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	var c1, c2 counter
	runEngine(t, kafkaio.Options{Topology: countingTopology(t, "pair"), Client: clientConfig(t, b.BootstrapServers(), "pair"), Observer: &c1})
	second := make(chan struct{}, 1)
	runEngine(t, kafkaio.Options{Topology: countingTopology(t, "pair"), Client: clientConfig(t, b.BootstrapServers(), "pair"), Observer: &c2,
		OnAssigned: func(m map[string][]int32) {
			if len(m) > 0 {
				select {
				case second <- struct{}{}:
				default:
				}
			}
		}})
	select {
	case <-second:
	case <-time.After(15 * time.Second):
		t.Fatal("the second instance got no partitions")
	}
	var kvs []string
	for i := 0; i < 400; i++ {
		kvs = append(kvs, fmt.Sprintf("k%d=x", i%40))
	}
	produce(t, cl, "in", kvs...)
	out := readTopic(t, b.BootstrapServers(), "out", 400)
	final := map[string]int{}
	for _, r := range out {
		n, _ := strconv.Atoi(string(r.Value))
		final[string(r.Key)] = max(final[string(r.Key)], n)
	}
	for i := 0; i < 40; i++ {
		if n := final[fmt.Sprintf("k%d", i)]; n != 10 {
			t.Errorf("k%d counted to %d, want 10", i, n)
		}
	}
	if c1.get("consumed") == 0 || c2.get("consumed") == 0 {
		t.Errorf("work not shared: %d and %d records consumed", c1.get("consumed"), c2.get("consumed"))
	}
	if c1.get("consumed")+c2.get("consumed") != 400 {
		t.Errorf("%d + %d records consumed, want 400", c1.get("consumed"), c2.get("consumed"))
	}
}

// TestStopOnFailCommitsBeforeTheRecord stops on a failing record: Run
// returns the record error, and the committed offset points at the failing
// record so it is processed again on the next start.
func TestStopOnFailCommitsBeforeTheRecord(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	r := runEngine(t, kafkaio.Options{Topology: countingTopology(t, "stop"), Client: clientConfig(t, b.BootstrapServers(), "stop")})
	produce(t, cl, "in", "a=x", "a=x", "a=fail", "a=x")
	var err error
	select {
	case err = <-r.done:
		close(r.done)
	case <-time.After(15 * time.Second):
		t.Fatal("engine did not stop on the failing record")
	}
	var rerr *kafkaio.RecordError
	if !errors.As(err, &rerr) || rerr.Kind != kafkaio.ProcessError || rerr.Offset != 2 || rerr.Node != "count" {
		t.Fatalf("Run returned %v", err)
	}
	offs, ferr := kadm.NewClient(cl).FetchOffsets(context.Background(), "stop")
	if ferr != nil {
		t.Fatal(ferr)
	}
	if o, ok := offs.Lookup("in", 0); !ok || o.At != 2 {
		t.Errorf("committed offset %+v, want 2", o)
	}
}

// counter is an Observer for tests.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[k]++
	c.mu.Unlock()
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *counter) Consumed(string)                         { c.add("consumed") }
func (c *counter) Produced(string)                         { c.add("produced") }
func (c *counter) Failed(kind kafkaio.ErrorKind, _ string) { c.add("failed." + string(kind)) }

// passTopology copies "in" to "out" with the given offset reset policy.
func passTopology(t *testing.T, appID string, reset streams.OffsetReset) *streams.Topology {
	t.Helper()
	topo := streams.NewTopology(appID)
	s := stringSerde{}
	if err := topo.AddSource("in", []string{"in"}, streams.SourceOptions{KeySerde: s, ValueSerde: s, OffsetReset: reset}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddSink("out", "out", streams.SinkOptions{KeySerde: s, ValueSerde: s}, "in"); err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestOffsetResetPolicies starts sources without committed offsets: latest
// skips what was there before, by_duration starts at records newer than the
// duration, none refuses to start.
func TestOffsetResetPolicies(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, -1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := cl.ProduceSync(context.Background(),
		&kgo.Record{Topic: "in", Key: []byte("old"), Value: []byte("x"), Timestamp: old},
		&kgo.Record{Topic: "in", Key: []byte("recent"), Value: []byte("x")},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	t.Run("none", func(t *testing.T) {
		eng, err := kafkaio.New(kafkaio.Options{Topology: passTopology(t, "reset-none", streams.OffsetReset{Policy: "none"}),
			Client: clientConfig(t, b.BootstrapServers(), "reset-none"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = eng.Run(ctx)
		if err == nil || !strings.Contains(err.Error(), `topic "in" partition 0 has no committed offset`) {
			t.Fatalf("Run = %v, want the none policy to refuse", err)
		}
	})
	t.Run("by_duration", func(t *testing.T) {
		r := runEngine(t, kafkaio.Options{Topology: passTopology(t, "reset-duration", streams.OffsetReset{Policy: "by_duration", DurationMs: 60_000}),
			Client: clientConfig(t, b.BootstrapServers(), "reset-duration")})
		if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 1)); got != "recent=x" {
			t.Fatalf("output %s, want only the record of the last minute", got)
		}
		r.stop(t)
	})
	t.Run("latest", func(t *testing.T) {
		runEngine(t, kafkaio.Options{Topology: passTopology(t, "reset-latest", streams.OffsetReset{Policy: "latest"}),
			Client: clientConfig(t, b.BootstrapServers(), "reset-latest")})
		produce(t, cl, "in", "new=x")
		// "out" already holds recent=x from by_duration.
		if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 2)); got != "new=x recent=x" {
			t.Fatalf("output %s, want only the record produced after the start", got)
		}
	})
}

// bigTopology copies "in" to "out", blowing up values "big" to 2 MiB, more
// than a producer batch may hold, so the record fails to produce.
func bigTopology(t *testing.T, appID string) *streams.Topology {
	t.Helper()
	topo := streams.NewTopology(appID)
	s := stringSerde{}
	if err := topo.AddSource("in", []string{"in"}, streams.SourceOptions{KeySerde: s, ValueSerde: s}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddProcessor("grow", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, rec streams.Record) error {
			if rec.Value == "big" {
				rec = rec.WithValue(strings.Repeat("x", 2<<20))
			}
			return ctx.Forward(rec)
		})
	}, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddSink("out", "out", streams.SinkOptions{KeySerde: s, ValueSerde: s}, "grow"); err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestProduceErrors sends a record the producer rejects: continueOnFail
// logs and counts it and goes on; stopOnFail and retryOnFail (after its
// retries) stop the engine with a produce error.
func TestProduceErrors(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, -1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "in", "a=small", "b=big", "c=small")

	t.Run("continue", func(t *testing.T) {
		var c counter
		var logs strings.Builder
		var mu sync.Mutex
		lg := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), nil))
		runEngine(t, kafkaio.Options{Topology: bigTopology(t, "produce-continue"), Client: clientConfig(t, b.BootstrapServers(), "produce-continue"),
			Handlers: kafkaio.Handlers{Produce: kafkaio.Handler{Log: true, Action: kafkaio.Continue}}, Observer: &c, Logger: lg})
		if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 2)); got != "a=small c=small" {
			t.Fatalf("output %s", got)
		}
		if n := c.get("failed.produce"); n != 1 {
			t.Errorf("produce failures counted %d, want 1", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(logs.String(), "kind=produce") || !strings.Contains(logs.String(), `key=***** value=*****`) {
			t.Errorf("log lacks the masked produce failure:\n%s", logs.String())
		}
	})
	for _, tc := range []struct {
		name   string
		action kafkaio.Action
	}{{"stop", kafkaio.Stop}, {"retry", kafkaio.Retry}} {
		t.Run(tc.name, func(t *testing.T) {
			app := "produce-" + tc.name
			r := runEngine(t, kafkaio.Options{Topology: bigTopology(t, app), Client: clientConfig(t, b.BootstrapServers(), app),
				Handlers: kafkaio.Handlers{Produce: kafkaio.Handler{Action: tc.action, Retries: 2}}})
			var err error
			select {
			case err = <-r.done:
				close(r.done)
			case <-time.After(15 * time.Second):
				t.Fatal("engine did not stop on the produce failure")
			}
			var rerr *kafkaio.RecordError
			if !errors.As(err, &rerr) || rerr.Kind != kafkaio.ProduceError || rerr.Topic != "out" {
				t.Fatalf("Run = %v, want a produce error on out", err)
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestHandoverRestoresState stops one of two instances: its partitions
// move to the other one, which restores their counts from the changelog
// and goes on counting without losing or repeating a step.
func TestHandoverRestoresState(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, -1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	var c1, c2 counter
	one := runEngine(t, kafkaio.Options{Topology: countingTopology(t, "handover"), Client: clientConfig(t, b.BootstrapServers(), "handover"), Observer: &c1})
	second := make(chan struct{}, 1)
	runEngine(t, kafkaio.Options{Topology: countingTopology(t, "handover"), Client: clientConfig(t, b.BootstrapServers(), "handover"), Observer: &c2,
		OnAssigned: func(m map[string][]int32) {
			if len(m) > 0 {
				select {
				case second <- struct{}{}:
				default:
				}
			}
		}})
	select {
	case <-second:
	case <-time.After(15 * time.Second):
		t.Fatal("the second instance got no partitions")
	}
	var kvs []string
	for i := 0; i < 200; i++ {
		kvs = append(kvs, fmt.Sprintf("k%d=x", i%20))
	}
	produce(t, cl, "in", kvs...)
	readTopic(t, b.BootstrapServers(), "out", 200)
	if c1.get("consumed") == 0 || c2.get("consumed") == 0 {
		t.Fatalf("work not shared before the handover: %d and %d", c1.get("consumed"), c2.get("consumed"))
	}
	if err := one.stop(t); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "in", kvs...)
	out := readTopic(t, b.BootstrapServers(), "out", 400)
	if len(out) != 400 {
		t.Errorf("%d outputs for 400 inputs", len(out))
	}
	seen := map[string]bool{}
	for _, r := range out {
		kv := string(r.Key) + "=" + string(r.Value)
		if seen[kv] {
			t.Errorf("count %s produced twice", kv)
		}
		seen[kv] = true
	}
	for i := 0; i < 20; i++ {
		for n := 1; n <= 20; n++ {
			if kv := fmt.Sprintf("k%d=%d", i, n); !seen[kv] {
				t.Errorf("count %s missing", kv)
			}
		}
	}
}

// TestSerializationErrorDeadLetter sends the input record whose output a
// sink cannot serialize to the produce handler's dead-letter topic.
func TestSerializationErrorDeadLetter(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, -1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	runEngine(t, kafkaio.Options{Topology: passTopology(t, "serialize", streams.OffsetReset{}), Client: clientConfig(t, b.BootstrapServers(), "serialize"),
		Handlers: kafkaio.Handlers{Produce: kafkaio.Handler{Action: kafkaio.Continue, DeadLetterTopic: "dlt"}}})
	produce(t, cl, "in", "a=x", "b=out!", "c=x")
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 2)); got != "a=x c=x" {
		t.Fatalf("output %s", got)
	}
	dlt := readTopic(t, b.BootstrapServers(), "dlt", 1)
	if len(dlt) != 1 || string(dlt[0].Key) != "b" || string(dlt[0].Value) != "out!" {
		t.Fatalf("dead letters %s", keyValues(dlt))
	}
	h := map[string]string{}
	for _, x := range dlt[0].Headers {
		h[x.Key] = string(x.Value)
	}
	if h[kafkaio.HeaderHandler] != "produce" || h[kafkaio.HeaderNode] != "out" || !strings.Contains(h[kafkaio.HeaderMessage], "cannot write out!") {
		t.Errorf("dead-letter headers %v", h)
	}
}
