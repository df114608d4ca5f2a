package runner_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/runner"
)

// threadsDefinition maps every record in Python and counts it per key in a
// persistent, logged store: Python work (the GIL) and Go-side state work.
const threadsDefinition = `streams:
  input:
    topic: threads-in
    keyType: string
    valueType: string
  mapped:
    topic: threads-mapped
    keyType: string
    valueType: string
  counted:
    topic: threads-counts
    keyType: string
    valueType: long
pipelines:
  map:
    from: input
    via:
      - type: mapValues
        mapper:
          expression: key + ":" + value.upper()
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
    to: counted
`

// threadsRun is what one run of threadsDefinition wrote, per key in
// partition order: the mapped values and the counts.
type threadsRun struct {
	mapped map[string][]string
	counts map[string][]int64
	logs   string
}

const (
	threadsPartitions = 4
	threadsKeys       = 8
	threadsPerKey     = 60
)

// runThreads feeds a 4-partition topic (key k<i> on partition i%4) and runs
// threadsDefinition with num.stream.threads = threads until every record
// is mapped and counted.
func runThreads(t *testing.T, threads int, guarantee string) threadsRun {
	t.Helper()
	bootstrap := startBrokerB(t)
	cl := newClient(t, bootstrap)
	createTopic(t, cl, "threads-in", threadsPartitions)
	work := t.TempDir()
	writeDefinition(t, work, "threads.yaml", threadsDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    threads: threads.yaml\n", work, work),
		map[string]string{"bootstrap.servers": bootstrap, "application.id": "threads", "processing.guarantee": guarantee,
			"num.stream.threads": strconv.Itoa(threads), "commit.interval.ms": "200"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner log:\n%s", tail(logs.String(), 100))
		}
	})

	// The input follows once every thread has its tasks, so the threads
	// share the work (the first thread to join would otherwise finish it
	// alone before the second one joins).
	waitFor(t, "the tasks to spread over the threads", 30*time.Second, func() bool {
		tasks := threadTasks(logs.String())
		if threads == 1 {
			return true
		}
		n := 0
		for _, c := range tasks {
			if c > 0 {
				n++
			}
		}
		return n == threads
	})
	var recs []*kgo.Record
	for i := range threadsPerKey {
		for k := range threadsKeys {
			recs = append(recs, &kgo.Record{Topic: "threads-in", Partition: int32(k % threadsPartitions),
				Key: []byte("k" + strconv.Itoa(k)), Value: []byte("v" + strconv.Itoa(i))})
		}
	}
	produce(t, cl, recs...)

	out := threadsRun{mapped: map[string][]string{}, counts: map[string][]int64{}}
	rd, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics("threads-mapped", "threads-counts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	want := threadsKeys * threadsPerKey
	got := 0
	deadline := time.Now().Add(60 * time.Second)
	for got < 2*want {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d of %d output records", got, 2*want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := rd.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			got++
			k := string(r.Key)
			switch r.Topic {
			case "threads-mapped":
				out.mapped[k] = append(out.mapped[k], string(r.Value))
			case "threads-counts":
				if len(r.Value) != 8 {
					t.Errorf("count of %s is %d bytes", k, len(r.Value))
					return
				}
				out.counts[k] = append(out.counts[k], int64(binary.BigEndian.Uint64(r.Value)))
			}
		})
	}
	if err := rr.stop(t); err != nil {
		t.Fatalf("runner stopped with %v", err)
	}
	out.logs = logs.String()
	return out
}

// wantThreads is the exact output: per key, the values in input order and
// the counts 1..n.
func wantThreads() threadsRun {
	w := threadsRun{mapped: map[string][]string{}, counts: map[string][]int64{}}
	for k := range threadsKeys {
		key := "k" + strconv.Itoa(k)
		for i := range threadsPerKey {
			w.mapped[key] = append(w.mapped[key], key+":V"+strconv.Itoa(i))
			w.counts[key] = append(w.counts[key], int64(i+1))
		}
	}
	return w
}

var assignedLine = regexp.MustCompile(`msg="partitions (assigned|revoked)" thread=(\d+) .*tasks=(\d+)`)

// threadTasks returns the task count of each thread after its last
// assignment or revocation, from the logs.
func threadTasks(logs string) map[string]int {
	last := map[string]int{}
	for _, l := range strings.Split(logs, "\n") {
		if m := assignedLine.FindStringSubmatch(l); m != nil {
			last[m[2]], _ = strconv.Atoi(m[3])
		}
	}
	return last
}

// TestStreamThreadsSpreadTasksAndKeepOutputs runs the same input with one
// and two stream threads: two threads share the four tasks, and every key's
// output (mapped values in order, counts 1..n) is exactly that of one
// thread.
func TestStreamThreadsSpreadTasksAndKeepOutputs(t *testing.T) {
	want := wantThreads()
	one := runThreads(t, 1, "at_least_once")
	if !reflect.DeepEqual(one.mapped, want.mapped) || !reflect.DeepEqual(one.counts, want.counts) {
		t.Fatalf("one thread:\n got  %v %v\n want %v %v", one.mapped, one.counts, want.mapped, want.counts)
	}
	if strings.Contains(one.logs, "stream threads") {
		t.Errorf("one thread logged threads:\n%s", one.logs)
	}
	two := runThreads(t, 2, "at_least_once")
	if !reflect.DeepEqual(two.mapped, one.mapped) || !reflect.DeepEqual(two.counts, one.counts) {
		t.Fatalf("two threads differ from one:\n got  %v %v\n want %v %v", two.mapped, two.counts, one.mapped, one.counts)
	}
	if !strings.Contains(two.logs, "running 2 stream threads") {
		t.Errorf("no log of the two threads")
	}
	if tasks := threadTasks(two.logs); len(tasks) != 2 || tasks["1"] != 2 || tasks["2"] != 2 {
		t.Errorf("tasks per thread after the last rebalance = %v, want 2 and 2", tasks)
	}
}

// TestStreamThreadsExactlyOnce runs two threads under exactly_once_v2 (one
// transactional producer per thread): a read_committed reader sees every
// output exactly once.
func TestStreamThreadsExactlyOnce(t *testing.T) {
	want := wantThreads()
	two := runThreads(t, 2, "exactly_once_v2")
	if !reflect.DeepEqual(two.mapped, want.mapped) || !reflect.DeepEqual(two.counts, want.counts) {
		t.Fatalf("two threads, exactly_once_v2:\n got  %v %v\n want %v %v", two.mapped, two.counts, want.mapped, want.counts)
	}
	if tasks := threadTasks(two.logs); len(tasks) != 2 || tasks["1"] != 2 || tasks["2"] != 2 {
		t.Errorf("tasks per thread after the last rebalance = %v, want 2 and 2", tasks)
	}
}

// BenchmarkStreamThreads runs a stateful count (persistent, logged store:
// Go-side work only) over a 4-partition topic with 1 and 2 stream threads
// on kfake. The clock starts once every thread has its tasks and stops when
// every count is produced. On a 2-core machine the broker and the producer
// share the cores with the threads, so the speed-up stays below 2.
func BenchmarkStreamThreads(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			bootstrap := startBrokerB(b)
			cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ProducerLinger(5*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			if _, err := kadmCreate(cl, "bench-threads-in", 4); err != nil {
				b.Fatal(err)
			}
			work := b.TempDir()
			def := `streams:
  input:
    topic: bench-threads-in
    keyType: string
    valueType: string
  counted:
    topic: bench-threads-counts
    keyType: string
    valueType: long
pipelines:
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
    to: counted
`
			if err := os.WriteFile(filepath.Join(work, "count.yaml"), []byte(def), 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := runnerConfigB(b, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    count: count.yaml\n", work, work),
				map[string]string{"bootstrap.servers": bootstrap, "application.id": "bench-threads", "num.stream.threads": strconv.Itoa(threads)})
			var logs syncBuffer
			r, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					b.Error(err)
				}
			}()
			deadline := time.Now().Add(30 * time.Second)
			for {
				spread := 0
				for _, n := range threadTasks(logs.String()) {
					if n > 0 {
						spread++
					}
				}
				if threads == 1 && strings.Contains(logs.String(), `msg="partitions assigned"`) || spread == threads {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("tasks not spread over %d threads within 30s:\n%s", threads, logs.String())
				}
				time.Sleep(10 * time.Millisecond) // polling the logs for the assignment
			}
			cpu0 := processCPU()
			b.ResetTimer()
			for i := range b.N {
				cl.Produce(context.Background(), &kgo.Record{Topic: "bench-threads-in", Key: []byte("k" + strconv.Itoa(i%50000)), Value: []byte("v")}, nil)
			}
			waitProduced(b, r, done, "bench-threads-counts", b.N)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			// The cores this process kept busy (threads, clients, the
			// embedded broker, the producer): at 2 on a 2-core machine a
			// second thread has no core to run on.
			b.ReportMetric((processCPU()-cpu0).Seconds()/b.Elapsed().Seconds(), "cores")
		})
	}
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func kadmCreate(cl *kgo.Client, topic string, partitions int32) (any, error) {
	resp, err := admin(cl).CreateTopic(context.Background(), partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	return resp, err
}
