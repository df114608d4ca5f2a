package kafkaio_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

func eosConfig(t *testing.T, bootstrap, appID string) *kafkaclient.Config {
	t.Helper()
	cfg, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": bootstrap, "application.id": appID, "processing.guarantee": "exactly_once_v2",
	}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// readCommitted reads topic as a read_committed consumer until n records
// arrived and nothing more comes for a while.
func readCommitted(t *testing.T, bootstrap, topic string, n int) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		got := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); got++ })
		if len(out) >= n && got == 0 {
			return keyValues(out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s: %d committed records (%s), want %d", topic, len(out), keyValues(out), n)
		}
	}
}

// TestExactlyOnceFailureRollsBack shows exactly_once_v2: a record that
// fails aborts the open transaction, so neither its output nor its store
// change nor the output of the records before it in the transaction becomes
// visible; the next start restores the store from the committed changelog
// and processes those records once more, so every count is right.
func TestExactlyOnceFailureRollsBack(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	first := runEngine(t, kafkaio.Options{Topology: countingTopologyFailing(t, "eos", "fail"), Client: eosConfig(t, b.BootstrapServers(), "eos")})
	produce(t, cl, "in", "a=x", "b=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 2); got != "a=1 b=1" {
		t.Fatalf("committed output %s", got)
	}
	produce(t, cl, "in", "a=x", "a=fail")
	var err error
	select {
	case err = <-first.done:
		close(first.done)
	case <-time.After(15 * time.Second):
		t.Fatal("engine did not stop on the failing record")
	}
	var rerr *kafkaio.RecordError
	if !errors.As(err, &rerr) {
		t.Fatalf("Run = %v", err)
	}
	if got := readCommitted(t, b.BootstrapServers(), "out", 2); got != "a=1 b=1" {
		t.Fatalf("committed output after the failure %s, want the aborted a=2 invisible", got)
	}
	if got := readCommitted(t, b.BootstrapServers(), "eos-counts-changelog", 2); got != "a=1 b=1" {
		t.Fatalf("committed changelog after the failure %s", got)
	}

	runEngine(t, kafkaio.Options{Topology: countingTopologyFailing(t, "eos", ""), Client: eosConfig(t, b.BootstrapServers(), "eos")})
	if got := readCommitted(t, b.BootstrapServers(), "out", 4); got != "a=1 a=2 a=3 b=1" {
		t.Fatalf("committed output after restart %s, want a=2 and a=3 counted once", got)
	}
}

// TestExactlyOncePersistentStoreRollsBack runs the failing count on a
// persistent (Pebble) store under exactly_once_v2: the aborted transaction
// wrote a new key c into the store's files, but the next start rebuilds
// the store from the committed changelog only, so c is counted once.
func TestExactlyOncePersistentStoreRollsBack(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	dir := t.TempDir()
	persistent := func(topo *streams.Topology) *streams.Topology {
		for _, sb := range topo.StoreBuilders() {
			kb := sb.(*store.KeyValueBuilder)
			kb.IsPersistent, kb.Dir = true, dir
		}
		return topo
	}
	first := runEngine(t, kafkaio.Options{Topology: persistent(countingTopologyFailing(t, "peos", "fail")), Client: eosConfig(t, b.BootstrapServers(), "peos")})
	produce(t, cl, "in", "a=x", "b=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 2); got != "a=1 b=1" {
		t.Fatalf("committed output %s", got)
	}
	produce(t, cl, "in", "c=x", "a=fail")
	select {
	case <-first.done:
		close(first.done)
	case <-time.After(15 * time.Second):
		t.Fatal("engine did not stop on the failing record")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "0_0", "counts", "MANIFEST-*")); len(m) != 1 {
		t.Fatalf("no Pebble store under %s", dir)
	}

	runEngine(t, kafkaio.Options{Topology: persistent(countingTopologyFailing(t, "peos", "")), Client: eosConfig(t, b.BootstrapServers(), "peos")})
	if got := readCommitted(t, b.BootstrapServers(), "out", 4); got != "a=1 a=2 b=1 c=1" {
		t.Fatalf("committed output after restart %s, want c counted once", got)
	}
}
