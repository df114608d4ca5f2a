package broker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startBroker(t *testing.T, opts Options) *Broker {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	b, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func newClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.BootstrapServers())}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceEach produces every record in its own request, so each one is a
// separate batch on the broker.
func produceEach(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range recs {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s=%s: %v", r.Key, r.Value, err)
		}
	}
}

// consumeAll reads topic from the start until it has read up to the end
// offsets the broker reports now, and returns "key=value" strings.
func consumeAll(t *testing.T, b *Broker, topic string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(newClient(t, b))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("ListEndOffsets: %v", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("ListStartOffsets: %v", err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(topic, o.Partition)
		if o.Offset > s.Offset {
			want[o.Partition] = o.Offset
		}
	})
	cl := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []string
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: timed out with %v so far", topic, out)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, string(r.Key)+"="+string(r.Value))
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func rec(topic, k, v string) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(v)}
}

func TestAutoCreatedTopicHasOnePartition(t *testing.T) {
	b := startBroker(t, Options{})
	cl := newClient(t, b, kgo.AllowAutoTopicCreation())
	produceEach(t, cl, rec("orders", "a", "1"), rec("orders", "b", "2"))

	ctx := context.Background()
	td, err := kadm.NewClient(cl).ListTopics(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["orders"].Partitions); n != 1 {
		t.Fatalf("auto-created topic has %d partitions, want 1", n)
	}
	equal(t, "orders", consumeAll(t, b, "orders"), []string{"a=1", "b=2"})
}

func TestCreateTopicsKeepsRequestedPartitions(t *testing.T) {
	b := startBroker(t, Options{})
	adm := kadm.NewClient(newClient(t, b))
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 6, -1, nil, "app-store-changelog"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, -1, -1, nil, "defaulted"); err != nil {
		t.Fatal(err)
	}
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(td["app-store-changelog"].Partitions); n != 6 {
		t.Fatalf("changelog has %d partitions, want 6", n)
	}
	if n := len(td["defaulted"].Partitions); n != 1 {
		t.Fatalf("-1 partitions gave %d, want 1", n)
	}
	_, err = adm.CreateTopic(ctx, 1, 3, nil, "replicated")
	if err == nil || !strings.Contains(err.Error(), "INVALID_REPLICATION_FACTOR") {
		t.Fatalf("replication factor 3 on one broker: got %v, want INVALID_REPLICATION_FACTOR", err)
	}
}

func TestAutoCreateDisabled(t *testing.T) {
	b := startBroker(t, Options{DisableAutoCreateTopics: true})
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.RecordRetries(1), kgo.MetadataMinAge(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := cl.ProduceSync(ctx, rec("missing", "k", "v")).FirstErr()
	if err == nil {
		t.Fatal("produce to a missing topic succeeded with auto creation disabled")
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	b1, err := Start(ctx, Options{Listen: "127.0.0.1:0", DataDir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, b1, kgo.AllowAutoTopicCreation())
	produceEach(t, cl, rec("events", "k1", "v1"), rec("events", "k2", "v2"), rec("events", "k3", "v3"))
	adm := kadm.NewClient(cl)
	offs := kadm.Offsets{}
	offs.AddOffset("events", 0, 2, -1)
	if _, err := adm.CommitOffsets(ctx, "app", offs); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cl.Close()
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, Options{DataDir: dir})
	equal(t, "after restart", consumeAll(t, b2, "events"), []string{"k1=v1", "k2=v2", "k3=v3"})
	fetched, err := kadm.NewClient(newClient(t, b2)).FetchOffsets(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	o, ok := fetched.Lookup("events", 0)
	if !ok || o.At != 2 {
		t.Fatalf("committed offset after restart: %+v (found %v), want 2", o, ok)
	}
}

func TestCompaction(t *testing.T) {
	b := startBroker(t, Options{MaintenanceInterval: -1})
	cl := newClient(t, b)
	ctx := context.Background()
	compact := "compact"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, "store-changelog"); err != nil {
		t.Fatal(err)
	}
	produceEach(t, cl,
		rec("store-changelog", "k1", "a"),
		rec("store-changelog", "k2", "b"),
		rec("store-changelog", "k1", "c"),
		rec("store-changelog", "k3", "d"))
	equal(t, "before compaction", consumeAll(t, b, "store-changelog"), []string{"k1=a", "k2=b", "k1=c", "k3=d"})
	b.Maintain()
	equal(t, "after compaction", consumeAll(t, b, "store-changelog"), []string{"k2=b", "k1=c", "k3=d"})
}

func TestRetention(t *testing.T) {
	b := startBroker(t, Options{MaintenanceInterval: -1})
	cl := newClient(t, b, kgo.AllowAutoTopicCreation())
	ctx := context.Background()
	minute := "60000"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"retention.ms": &minute}, "short"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	oldRec := func(topic, k, v string) *kgo.Record {
		r := rec(topic, k, v)
		r.Timestamp = old
		return r
	}
	produceEach(t, cl, oldRec("short", "a", "1"), oldRec("short", "b", "2"), rec("short", "c", "3"))
	// A topic without retention.ms keeps old records: default retention
	// is unlimited.
	produceEach(t, cl, oldRec("forever", "a", "1"), oldRec("forever", "b", "2"))
	b.Maintain()
	equal(t, "short after retention", consumeAll(t, b, "short"), []string{"c=3"})
	equal(t, "forever after retention", consumeAll(t, b, "forever"), []string{"a=1", "b=2"})
}

func TestPeriodicMaintenance(t *testing.T) {
	b := startBroker(t, Options{MaintenanceInterval: 20 * time.Millisecond})
	cl := newClient(t, b)
	ctx := context.Background()
	minute := "60000"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"retention.ms": &minute}, "short"); err != nil {
		t.Fatal(err)
	}
	r := rec("short", "a", "1")
	r.Timestamp = time.Now().Add(-time.Hour)
	produceEach(t, cl, r, rec("short", "b", "2"))
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(3 * time.Second)
	for {
		starts, err := adm.ListStartOffsets(ctx, "short")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := starts.Lookup("short", 0); o.Offset == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the periodic maintenance did not apply retention")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWildcardListenAdvertisesLoopback(t *testing.T) {
	b := startBroker(t, Options{Listen: "0.0.0.0:0"})
	if !strings.HasPrefix(b.Addr(), "0.0.0.0:") {
		t.Fatalf("Addr = %q, want the bound wildcard address", b.Addr())
	}
	port := strings.TrimPrefix(b.Addr(), "0.0.0.0:")
	if want := "127.0.0.1:" + port; b.BootstrapServers() != want {
		t.Fatalf("BootstrapServers = %q, want %q", b.BootstrapServers(), want)
	}
	md, err := kadm.NewClient(newClient(t, b)).BrokerMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 1 || fmt.Sprintf("%s:%d", md.Brokers[0].Host, md.Brokers[0].Port) != b.BootstrapServers() {
		t.Fatalf("metadata brokers = %+v, want one at %s", md.Brokers, b.BootstrapServers())
	}
}

func TestExplicitAdvertise(t *testing.T) {
	b := startBroker(t, Options{Advertise: "kafka.example:19092"})
	if b.BootstrapServers() != "kafka.example:19092" {
		t.Fatalf("BootstrapServers = %q", b.BootstrapServers())
	}
}

func TestStartErrors(t *testing.T) {
	b := startBroker(t, Options{})
	_, err := Start(context.Background(), Options{Listen: b.Addr(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "embedded broker: listen on "+b.Addr()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second broker on a used port: got %v", err)
	}
	_, err = Start(context.Background(), Options{Listen: "9092", Logger: quietLogger()})
	if err == nil || err.Error() != `broker listen address "9092": address 9092: missing port in address` {
		t.Fatalf("bad listen address: got %v", err)
	}
}

func TestContextCancelClosesBroker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b, err := Start(ctx, Options{Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-b.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("broker did not stop after its context was cancelled")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// The port is free again.
	b2, err := Start(context.Background(), Options{Listen: b.Addr(), Logger: quietLogger()})
	if err != nil {
		t.Fatalf("restart on the same port: %v", err)
	}
	b2.Close()
}
