package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const childDirEnv = "KSML_TEST_BROKER_CHILD_DIR"

// TestBrokerChildProcess is not a test: it runs a broker on the data
// directory in childDirEnv for the tests that kill a broker process.
func TestBrokerChildProcess(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("runs only as the child process of a crash test")
	}
	b, err := Start(context.Background(), Options{Listen: "127.0.0.1:0", DataDir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ADDR " + b.BootstrapServers() + "\n")
	select {}
}

// startChildBroker runs a broker in a child process on dir and returns
// its address and the process, for SIGKILL.
func startChildBroker(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokerChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				lines <- addr
			}
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			t.Fatal("the broker process exited before it listened")
		}
		return addr, cmd
	case <-time.After(30 * time.Second):
		t.Fatal("the broker process did not start within 30s")
	}
	return "", nil
}

// TestUncleanStopWritesAbortMarkers kills a broker process while a
// transaction is open, restarts the broker on its data directory, and
// checks the log is what Kafka would hold: the open transaction ends in an
// abort marker, read_committed readers see only committed records, and the
// last stable offset is the high watermark.
func TestUncleanStopWritesAbortMarkers(t *testing.T) {
	t.Parallel() // its own broker (or broker process) on a free port
	dir := t.TempDir()
	addr, cmd := startChildBroker(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	adm, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	adm.Close()
	txn, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, kgo.StringRecord("committed")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, kgo.StringRecord("open-1"), kgo.StringRecord("open-2")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, runningFile)); err != nil {
		t.Fatalf("a killed broker leaves its in-use marker: %v", err)
	}

	b := startBroker(t, Options{DataDir: dir})
	cl := newClient(t, b)
	batches := rawBatches(t, cl, "t")
	// committed data, commit marker, open data, abort marker
	if len(batches) != 4 {
		t.Fatalf("log holds %d batches, want 4", len(batches))
	}
	last := batches[3]
	if last.Attributes&0x20 == 0 {
		t.Fatalf("last batch is not a control batch: attributes %#x", last.Attributes)
	}
	var rec kmsg.Record
	if err := rec.ReadFrom(last.Records); err != nil || len(rec.Key) < 4 || binary.BigEndian.Uint16(rec.Key[2:4]) != 0 {
		t.Fatalf("last batch is not an abort marker: key %x (%v)", rec.Key, err)
	}
	if last.ProducerID != batches[2].ProducerID || last.ProducerEpoch != batches[2].ProducerEpoch+1 {
		t.Errorf("marker of producer %d epoch %d, open transaction of producer %d epoch %d",
			last.ProducerID, last.ProducerEpoch, batches[2].ProducerID, batches[2].ProducerEpoch)
	}
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := kadm.NewClient(newClient(t, b, kgo.FetchIsolationLevel(kgo.ReadCommitted()))).ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	hwm, _ := offs.Lookup("t", 0)
	lso, _ := committed.Lookup("t", 0)
	if hwm.Offset != 5 || lso.Offset != 5 {
		t.Errorf("high watermark %d, last stable offset %d, want 5 and 5", hwm.Offset, lso.Offset)
	}
	rc := newClient(t, b, kgo.ConsumeTopics("t"), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 1 {
		fs := rc.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed consumer got %v before the deadline", got)
		}
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
	}
	equal(t, "read_committed", got, []string{"committed"})

	// A clean stop leaves no marker behind, so the next start reads nothing.
	b.Close()
	if _, err := os.Stat(filepath.Join(dir, runningFile)); !os.IsNotExist(err) {
		t.Fatalf("in-use marker after a clean stop: %v", err)
	}
	b = startBroker(t, Options{DataDir: dir})
	if n := len(rawBatches(t, newClient(t, b), "t")); n != 4 {
		t.Errorf("after a clean restart the log holds %d batches, want 4", n)
	}
}

// rawBatches reads every record batch of partition 0 of topic,
// read_uncommitted, control batches included.
func rawBatches(t *testing.T, cl *kgo.Client, topic string) []kmsg.RecordBatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes = 1 << 20
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil || len(mresp.Topics) != 1 {
		t.Fatalf("metadata: %v", err)
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = mresp.Topics[0].TopicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var out []kmsg.RecordBatch
	b := resp.Topics[0].Partitions[0].RecordBatches
	for len(b) >= 12 {
		n := 12 + int(binary.BigEndian.Uint32(b[8:12]))
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(b[:n]); err != nil {
			t.Fatal(err)
		}
		out = append(out, batch)
		b = b[n:]
	}
	return out
}
