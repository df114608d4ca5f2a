package runner_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/testgate"
)

// faultDefinition maps every record and counts records per key in a
// persistent, changelogged store.
const faultDefinition = `streams:
  input:
    topic: fault-in
    keyType: string
    valueType: string
  mapped:
    topic: fault-mapped
    keyType: string
    valueType: string
tables:
  counts:
    topic: fault-counts
    keyType: string
    valueType: long
pipelines:
  map:
    from: input
    via:
      - type: mapValues
        mapper:
          expression: value.upper()
    to: mapped
  count:
    from: input
    via:
      - type: groupByKey
      - type: count
        store:
          type: keyValue
          persistent: true
          logging: true
      - type: toStream
    to: counts
`

// brokerProcess runs `ksml broker` on addr with its data in dir, as an
// operator would, and waits until it accepts connections.
func brokerProcess(t *testing.T, addr, dir string) *process {
	t.Helper()
	p := startBinary(t, t.TempDir(), "broker", "--listen", addr, "--data-dir", dir)
	waitFor(t, "the broker to listen on "+addr, 30*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// faultRun is the outcome of one broker outage under a running pipeline.
type faultRun struct {
	mapped   map[string]int // value -> times seen
	counts   map[string]int64
	recovery time.Duration // from the broker's return until all output was there
}

// runBrokerOutage starts a broker process and a runner on it, feeds n
// records over the outage, SIGKILLs the broker mid-stream, restarts it
// after down, and waits until every input record's output is there. It
// fails if the runner stops.
func runBrokerOutage(t *testing.T, guarantee string, n int, down time.Duration) faultRun {
	addr, dir := fmt.Sprintf("127.0.0.1:%d", freePort(t)), t.TempDir()
	b := brokerProcess(t, addr, dir)
	work := t.TempDir()
	writeDefinition(t, work, "fault.yaml", faultDefinition)
	appID := "fault-" + strings.ReplaceAll(guarantee, "_", "-")
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    fault: fault.yaml\n", work, work),
		map[string]string{"bootstrap.servers": addr, "application.id": appID, "processing.guarantee": guarantee, "commit.interval.ms": "1000"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner log:\n%s", tail(logs.String(), 200))
		}
	})

	// The feeder writes n records, 10 keys, at a steady pace through the
	// outage; its client retries until the broker is back.
	feeder, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordDeliveryTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer feeder.Close()
	var feedErr error
	var feedMu sync.Mutex
	var acked atomic.Int64
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for i := range n {
			v := strconv.Itoa(i)
			feeder.Produce(context.Background(), &kgo.Record{Topic: "fault-in", Key: []byte("k" + strconv.Itoa(i%10)), Value: []byte("v" + v)},
				func(_ *kgo.Record, err error) {
					if err == nil {
						acked.Add(1)
					}
					if err != nil {
						feedMu.Lock()
						feedErr = err
						feedMu.Unlock()
					}
				})
			time.Sleep(5 * time.Millisecond) // the feed's pace, not a synchronization
		}
	}()

	// Mid-stream: the broker acknowledged part of the feed.
	waitFor(t, "the broker to acknowledge part of the feed", 30*time.Second, func() bool {
		return acked.Load() >= int64(n/5)
	})
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.done
	time.Sleep(down) // the outage
	brokerProcess(t, addr, dir)
	back := time.Now()
	<-fed
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := feeder.Flush(ctx); err != nil {
		t.Fatalf("feeding: %v", err)
	}
	feedMu.Lock()
	if feedErr != nil {
		t.Fatalf("feeding: %v", feedErr)
	}
	feedMu.Unlock()

	out := faultRun{mapped: map[string]int{}, counts: map[string]int64{}}
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("fault-mapped", "fault-counts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	deadline := back.Add(30 * time.Second)
	for len(out.mapped) < n || !countsDone(out.counts, n) {
		select {
		case err := <-rr.done:
			rr.done <- err
			t.Fatalf("the runner stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the broker returned: %d of %d records mapped, counts %v", len(out.mapped), n, out.counts)
		}
		pctx, pcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := rd.PollFetches(pctx)
		pcancel()
		fs.EachRecord(func(r *kgo.Record) {
			switch r.Topic {
			case "fault-mapped":
				out.mapped[string(r.Value)]++
			case "fault-counts":
				if len(r.Value) == 8 {
					out.counts[string(r.Key)] = int64(binary.BigEndian.Uint64(r.Value))
				}
			}
		})
	}
	out.recovery = time.Since(back)
	if err := rr.stop(t); err != nil {
		t.Fatalf("runner stopped with %v", err)
	}
	return out
}

// countsDone reports whether every key's count reached its share of n.
func countsDone(counts map[string]int64, n int) bool {
	if len(counts) < 10 {
		return false
	}
	for _, c := range counts {
		if c < int64(n/10) {
			return false
		}
	}
	return true
}

// faultRuns is how often each outage test runs: once in CI, more with
// KSML_FAULT_RUNS for the figures in docs/reliability.md.
func faultRuns() int {
	if n, err := strconv.Atoi(os.Getenv("KSML_FAULT_RUNS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// TestBrokerOutageAtLeastOnce kills the broker process mid-stream and
// restarts it after 5 s: the runner stays up, and every input record is
// mapped and counted (at least once) within 30 s of the broker's return.
func TestBrokerOutageAtLeastOnce(t *testing.T) {
	testgate.Long(t, "a broker outage fault run")
	kafkatest.Parallel(t)
	for i := range faultRuns() {
		const n = 1500
		r := runBrokerOutage(t, "at_least_once", n, 5*time.Second)
		dups := 0
		for _, c := range r.mapped {
			dups += c - 1
		}
		t.Logf("run %d: 0 lost, %d duplicates, all output %v after the broker returned", i+1, dups, r.recovery.Round(100*time.Millisecond))
	}
}

// TestBrokerOutageExactlyOnce: as TestBrokerOutageAtLeastOnce under
// exactly_once_v2, with no duplicates and exact counts.
func TestBrokerOutageExactlyOnce(t *testing.T) {
	testgate.Long(t, "a broker outage fault run")
	kafkatest.Parallel(t)
	for i := range faultRuns() {
		const n = 1500
		r := runBrokerOutage(t, "exactly_once_v2", n, 5*time.Second)
		dups, wrong := 0, 0
		for v, c := range r.mapped {
			if c != 1 {
				dups += c - 1
				t.Errorf("run %d: %s mapped %d times", i+1, v, c)
			}
		}
		for k, c := range r.counts {
			if c != n/10 {
				wrong++
				t.Errorf("run %d: count of %s = %d, want %d", i+1, k, c, n/10)
			}
		}
		t.Logf("run %d: 0 lost, %d duplicates, %d wrong counts, all output %v after the broker returned", i+1, dups, wrong, r.recovery.Round(100*time.Millisecond))
	}
}

// TestStopDuringBrokerOutage stops the runner while the broker process is
// dead: it stops cleanly within the stop deadline, and a runner started
// after the broker's return processes every record (nothing lost).
func TestStopDuringBrokerOutage(t *testing.T) {
	testgate.Long(t, "a broker outage fault run")
	addr, dir := fmt.Sprintf("127.0.0.1:%d", freePort(t)), t.TempDir()
	b := brokerProcess(t, addr, dir)
	work := t.TempDir()
	writeDefinition(t, work, "fault.yaml", faultDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    fault: fault.yaml\n", work, work),
		map[string]string{"bootstrap.servers": addr, "application.id": "fault-stop", "commit.interval.ms": "1000"})
	logger := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: logger})
	cl := newClient(t, addr)
	var recs []*kgo.Record
	for i := range 200 {
		recs = append(recs, &kgo.Record{Topic: "fault-in", Key: []byte("k" + strconv.Itoa(i%10)), Value: []byte("v" + strconv.Itoa(i))})
	}
	produce(t, cl, recs...)
	waitFor(t, "the runner to consume the records", 20*time.Second, func() bool { return rr.r.Counters().Get("consumed", "fault-in") == 200 })
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.done
	start := time.Now()
	if err := rr.stop(t); err != nil {
		t.Fatalf("stopping during the outage: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stopping during the outage took %v, want at most 10s", took)
	}

	brokerProcess(t, addr, dir)
	startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: logger})
	out := readAll(t, addr, "fault-mapped", 200, time.Second)
	seen := map[string]bool{}
	for _, r := range out {
		seen[string(r.Value)] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d of 200 records mapped after the restart", len(seen))
	}
}
