package kafkaio_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
	"github.com/ksml-dev/ksml/internal/testgate"
)

// restoreLog records what the restore of each run read.
type restoreLog struct {
	mu      sync.Mutex
	from    int64
	to      int64
	records int64
	took    time.Duration
}

// timedRestorer times the restore itself (not the group join around it).
type timedRestorer struct {
	inner kafkaio.Restorer
	log   *restoreLog
}

func (r timedRestorer) Restore(ctx context.Context, opts []kgo.Opt, stores []kafkaio.ChangelogStore) error {
	start := time.Now()
	err := r.inner.Restore(ctx, opts, stores)
	r.log.mu.Lock()
	r.log.took = time.Since(start)
	r.log.mu.Unlock()
	return err
}

func (r *restoreLog) hook(_ streams.TaskID, _ string, from, to, records int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.from, r.to, r.records = from, to, records
}

func (r *restoreLog) get() (from, to, records int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.from, r.to, r.records
}

func persistentCounting(t *testing.T, appID, dir string) *streams.Topology {
	topo := countingTopologyFailing(t, appID, "")
	for _, sb := range topo.StoreBuilders() {
		kb := sb.(*store.KeyValueBuilder)
		kb.IsPersistent, kb.Dir = true, dir
	}
	return topo
}

// fillChangelog writes n records "k%07d"="1" to partition 0 of topic.
func fillChangelog(t testing.TB, cl *kgo.Client, topic string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("k%07d", i)), Value: []byte("1")},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				wg.Done()
			})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// TestCheckpointedRestore: a persistent, logged store whose changelog holds
// 100,000 records restores them all on its first start (no checkpoint),
// reads none of them after a clean shutdown (the checkpoint points at the
// changelog's end), and restores all of them again, correctly, when the
// checkpoint is gone as after kill -9 before any commit.
func TestCheckpointedRestore(t *testing.T) {
	t.Parallel()
	checkpointedRestore(t, 100_000)
}

// TestCheckpointedRestoreMillion is TestCheckpointedRestore with a
// changelog of a million records.
func TestCheckpointedRestoreMillion(t *testing.T) {
	testgate.Long(t, "writes and restores a million changelog records, three times")
	t.Parallel()
	checkpointedRestore(t, 1_000_000)
}

// checkpointedRestore runs the checkpoint scenario over a changelog of n
// (more than 50,000) records.
func checkpointedRestore(t *testing.T, n int) {
	b := startBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.MaxBufferedRecords(100_000), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, "in", "cp-counts-changelog"); err != nil {
		t.Fatal(err)
	}
	fillStart := time.Now()
	fillChangelog(t, cl, "cp-counts-changelog", n)
	t.Logf("wrote %d changelog records in %v", n, time.Since(fillStart).Round(time.Millisecond))
	dir := t.TempDir()
	checkpoint := filepath.Join(dir, "0_0", streams.CheckpointFile)

	var progress syncBuffer
	run := func(name string) (*engineRun, *restoreLog) {
		rl := &restoreLog{}
		restorer := kafkaio.ChangelogRestorer{Logger: slog.New(slog.NewTextHandler(&progress, nil)), ProgressInterval: 20 * time.Millisecond}
		r := runEngine(t, kafkaio.Options{Topology: persistentCounting(t, "cp", dir), Client: clientConfig(t, b.BootstrapServers(), "cp"),
			OnRestored: rl.hook, Restorer: timedRestorer{restorer, rl}})
		from, to, records := rl.get()
		t.Logf("%s: restored %d records (offsets %d..%d) in %v", name, records, from, to, rl.took.Round(time.Millisecond))
		return r, rl
	}

	first, rl := run("first start, no checkpoint")
	if from, to, records := rl.get(); from != 0 || to != int64(n) || records != int64(n) {
		t.Fatalf("first restore read %d..%d (%d records), want 0..%d", from, to, records, n)
	}
	if !strings.Contains(progress.String(), `msg="restoring state stores" restored=`) {
		t.Errorf("no restore progress in the log:\n%s", progress.String())
	}
	produce(t, cl, "in", "k0000001=x")
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 1)); got != "k0000001=2" {
		t.Fatalf("output %s", got)
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	cp, err := os.ReadFile(checkpoint)
	if err != nil {
		t.Fatalf("no checkpoint after a clean shutdown: %v", err)
	}
	if want := fmt.Sprintf("0\n1\ncp-counts-changelog 0 %d\n", n+1); string(cp) != want {
		t.Fatalf("checkpoint %q, want %q", cp, want)
	}

	second, rl := run("restart after clean shutdown")
	if from, to, records := rl.get(); from != int64(n+1) || to != int64(n+1) || records > int64(n/100) {
		t.Fatalf("restart restored %d..%d (%d records), want only the tail after %d (< 1%%)", from, to, records, n+1)
	}
	produce(t, cl, "in", "k0000001=x", fmt.Sprintf("k%07d=x", n-1))
	if got, want := keyValues(readTopic(t, b.BootstrapServers(), "out", 3)), fmt.Sprintf("k0000001=2 k0000001=3 k%07d=2", n-1); got != want {
		t.Fatalf("output after restart %s, want %s", got, want)
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}

	// kill -9 before the first commit leaves no checkpoint.
	if err := os.Remove(checkpoint); err != nil {
		t.Fatal(err)
	}
	_, rl = run("restart without checkpoint")
	if from, to, records := rl.get(); from != 0 || to != int64(n+3) || records != int64(n+3) {
		t.Fatalf("restore without checkpoint read %d..%d (%d records), want all %d", from, to, records, n+3)
	}
	last := fmt.Sprintf("k%07d", n-1)
	produce(t, cl, "in", "k0000001=x", "k0050000=x")
	if got, want := keyValues(readTopic(t, b.BootstrapServers(), "out", 5)), "k0000001=2 k0000001=3 k0000001=4 k0050000=2 "+last+"=2"; got != want {
		t.Fatalf("output after the full restore %s, want %s", got, want)
	}
}

// TestExactlyOnceCheckpoints: under exactly_once_v2 a clean shutdown
// writes the checkpoint and the next start restores only the tail; while
// processing there is no checkpoint file (Kafka Streams deletes it), so
// after a crash the store, which may hold writes of aborted transactions,
// is wiped and restored in full.
func TestExactlyOnceCheckpoints(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	dir := t.TempDir()
	checkpoint := filepath.Join(dir, "0_0", streams.CheckpointFile)
	run := func() (*engineRun, *restoreLog) {
		rl := &restoreLog{}
		r := runEngine(t, kafkaio.Options{Topology: persistentCounting(t, "ecp", dir), Client: eosConfig(t, b.BootstrapServers(), "ecp"),
			OnRestored: rl.hook})
		return r, rl
	}
	first, _ := run()
	produce(t, cl, "in", "a=x", "b=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 2); got != "a=1 b=1" {
		t.Fatalf("committed output %s", got)
	}
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}
	cp, err := streams.ReadCheckpoint(checkpoint)
	if err != nil || len(cp) != 1 || cp["ecp-counts-changelog 0"] < 2 {
		t.Fatalf("checkpoint after a clean shutdown: %v (%v)", cp, err)
	}

	second, rl := run()
	// Past the checkpoint there is only the transaction's commit marker.
	if from, to, records := rl.get(); from != cp["ecp-counts-changelog 0"] || records != 0 || to != from+1 {
		t.Fatalf("restart restored %d..%d (%d records), want only the commit marker after the checkpoint %d", from, to, records, cp["ecp-counts-changelog 0"])
	}
	if _, err := os.Stat(checkpoint); !os.IsNotExist(err) {
		t.Fatalf("checkpoint file present while processing under exactly_once_v2 (%v)", err)
	}
	produce(t, cl, "in", "a=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 3); got != "a=1 a=2 b=1" {
		t.Fatalf("committed output %s", got)
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}

	// A crash: no checkpoint (it was deleted while processing), and the
	// store's files hold a write of a transaction that never committed.
	if err := os.Remove(checkpoint); err != nil {
		t.Fatal(err)
	}
	kv, err := store.OpenPebbleKeyValue("counts", filepath.Join(dir, "0_0", "counts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put([]byte("z"), []byte("41")); err != nil {
		t.Fatal(err)
	}
	if err := kv.Close(); err != nil {
		t.Fatal(err)
	}
	_, rl = run()
	if from, _, records := rl.get(); from != 0 || records != 3 {
		t.Fatalf("restore after the crash read from %d, %d records; want all 3 committed changelog records", from, records)
	}
	produce(t, cl, "in", "z=x", "b=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 5); got != "a=1 a=2 b=1 b=2 z=1" {
		t.Fatalf("committed output after the crash %s, want the aborted z write gone", got)
	}
}

// TestRestoreEndsAtLastStableOffset: under read_committed the restore
// stops at the changelog's last stable offset; records of a transaction
// that stays open past it (a producer that died mid-transaction) are
// neither applied nor waited for.
func TestRestoreEndsAtLastStableOffset(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, "lso-changelog"); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "lso-changelog", "a=1", "b=1")
	txn, err := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()), kgo.TransactionalID("stuck"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(context.Background(), &kgo.Record{Topic: "lso-changelog", Key: []byte("a"), Value: []byte("2")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The transaction stays open.
	var applied []string
	var next, records int64
	start := time.Now()
	err = kafkaio.ChangelogRestorer{ReadCommitted: true}.Restore(context.Background(), []kgo.Opt{kgo.SeedBrokers(b.BootstrapServers())},
		[]kafkaio.ChangelogStore{{Name: "s", Topic: "lso-changelog", Partition: 0,
			Apply: func(k, v []byte, _ int64) error { applied = append(applied, string(k)+"="+string(v)); return nil },
			Done:  func(n, r int64) { next, records = n, r }}})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("restore took %v", took)
	}
	if fmt.Sprint(applied) != "[a=1 b=1]" || next != 2 || records != 2 {
		t.Fatalf("applied %v, ended at %d after %d records; want [a=1 b=1] ending at the last stable offset 2", applied, next, records)
	}
}

// syncBuffer is a log sink safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
