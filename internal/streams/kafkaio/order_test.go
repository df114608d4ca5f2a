package kafkaio_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// mergeTopology reads topics with one source (one task per partition) and
// writes "topic@timestamp" for every record to out.
func mergeTopology(t *testing.T, appID string, topics ...string) *streams.Topology {
	t.Helper()
	topo := streams.NewTopology(appID)
	s := stringSerde{}
	if err := topo.AddSource("in", topics, streams.SourceOptions{KeySerde: s, ValueSerde: s}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddProcessor("tag", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			return ctx.Forward(r.WithValue(fmt.Sprintf("%s@%d", ctx.RecordContext().Topic, r.Timestamp)))
		})
	}, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddSink("out", "out", streams.SinkOptions{KeySerde: s, ValueSerde: s}, "tag"); err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestTaskReadsTopicsInTimestampOrder: records of two and of three topics
// in one task, written topic after topic so that every fetch brings
// batches that interleave in time, come out in timestamp order.
func TestTaskReadsTopicsInTimestampOrder(t *testing.T) {
	t.Parallel()
	for _, topics := range [][]string{{"a", "b"}, {"x", "y", "z"}} {
		t.Run(strings.Join(topics, "+"), func(t *testing.T) {
			b := startBroker(t)
			cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
			defer cl.Close()
			if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, topics...); err != nil {
				t.Fatal(err)
			}
			const perTopic = 300
			var want []string
			for i := range perTopic {
				for j, topic := range topics {
					want = append(want, fmt.Sprintf("%s@%d", topic, 1000+i*10+j))
				}
			}
			for j, topic := range topics {
				var recs []*kgo.Record
				for i := range perTopic {
					recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("v"),
						Timestamp: time.UnixMilli(int64(1000 + i*10 + j))})
				}
				if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			app := "order-" + strings.Join(topics, "")
			runEngine(t, kafkaio.Options{Topology: mergeTopology(t, app, topics...), Client: clientConfig(t, b.BootstrapServers(), app)})
			recs := readTopic(t, b.BootstrapServers(), "out", len(want))
			got := make([]string, len(recs))
			for i, r := range recs {
				got[i] = string(r.Value)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				first := 0
				for first < len(got) && first < len(want) && got[first] == want[first] {
					first++
				}
				t.Fatalf("%d records, out of order from #%d: got %v, want %v", len(got), first,
					got[first:min(first+5, len(got))], want[first:min(first+5, len(want))])
			}
		})
	}
}

// TestPausedPartitionsResumeAndEmptyTopicsDoNotStall: with
// buffered.records.per.partition 5 the engine pauses and resumes the
// partition over and over, and an input topic that never holds a record
// (lag 0 on the broker) does not hold the task back under the default
// max.task.idle.ms.
func TestPausedPartitionsResumeAndEmptyTopicsDoNotStall(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, "full", "empty"); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	var want []string
	for i := range 200 {
		recs = append(recs, &kgo.Record{Topic: "full", Key: []byte("k"), Value: []byte("v"), Timestamp: time.UnixMilli(int64(i))})
		want = append(want, fmt.Sprintf("full@%d", i))
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": b.BootstrapServers(), "application.id": "paused", "commit.interval.ms": "100",
		"buffered.records.per.partition": "5", "max.poll.records": "50",
	}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BufferedRecordsPerPartition != 5 || cfg.MaxTaskIdleMs != 0 {
		t.Fatalf("config %d %d", cfg.BufferedRecordsPerPartition, cfg.MaxTaskIdleMs)
	}
	var obs enforcedCounter
	var logs syncBuffer
	runEngine(t, kafkaio.Options{Topology: mergeTopology(t, "paused", "full", "empty"), Client: cfg, Observer: &obs,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	out := readTopic(t, b.BootstrapServers(), "out", len(want))
	got := make([]string, len(out))
	for i, r := range out {
		got[i] = string(r.Value)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %d records %v..., want %d", len(got), got[:min(5, len(got))], len(want))
	}
	if n := strings.Count(logs.String(), `msg="queue full: fetching paused" topic=full partition=0`); n < 2 ||
		strings.Count(logs.String(), `msg="queue drained: fetching resumed" topic=full partition=0`) < n-1 {
		t.Errorf("fetching of the full partition was paused %d times, resumed %d times", n,
			strings.Count(logs.String(), "fetching resumed"))
	}
	// Every record went while "empty" was empty at lag 0.
	if n := obs.get("enforced.0_0"); n != len(want) {
		t.Errorf("enforced processing reported %d, want %d", n, len(want))
	}
}

// enforcedCounter also counts enforced processing per task.
type enforcedCounter struct{ counter }

func (c *enforcedCounter) EnforcedProcessing(task string, n int64) {
	for range n {
		c.add("enforced." + task)
	}
}

// TestQueuedRecordsAreNotCommitted: records a task holds back (waiting on
// an empty partition for max.task.idle.ms) are not processed, so no commit
// may pass them, under at-least-once and exactly_once_v2 (whose
// transactions commit the client's fetch positions). The next instance,
// which does not wait, processes them.
func TestQueuedRecordsAreNotCommitted(t *testing.T) {
	t.Parallel()
	for _, guarantee := range []string{"at_least_once", "exactly_once_v2"} {
		t.Run(guarantee, func(t *testing.T) {
			b := startBroker(t)
			cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
			defer cl.Close()
			if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, "held", "idle"); err != nil {
				t.Fatal(err)
			}
			produce(t, cl, "held", "a=1", "b=2", "c=3")
			config := func(idle string) *kafkaclient.Config {
				cfg, err := kafkaclient.FromProperties(map[string]string{
					"bootstrap.servers": b.BootstrapServers(), "application.id": "held", "commit.interval.ms": "50",
					"processing.guarantee": guarantee, "max.task.idle.ms": idle,
				}, kafkaclient.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return cfg
			}
			var obs counter
			var commits atomic.Int32
			first := runEngine(t, kafkaio.Options{Topology: mergeTopology(t, "held", "held", "idle"), Client: config("600000"), Observer: &obs,
				OnCommit: func() {
					if obs.get("consumed") == 3 {
						commits.Add(1)
					}
				}})
			// Let the records arrive and several commits pass while they wait.
			deadline := time.Now().Add(15 * time.Second)
			for commits.Load() < 5 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if commits.Load() < 5 {
				t.Fatalf("consumed %d records, %d commits after", obs.get("consumed"), commits.Load())
			}
			if err := first.stop(t); err != nil {
				t.Fatal(err)
			}
			committed, err := kadm.NewClient(cl).FetchOffsets(context.Background(), "held")
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := committed.Lookup("held", 0); ok && o.At > 0 {
				t.Fatalf("committed offset %d past records that were never processed", o.At)
			}
			runEngine(t, kafkaio.Options{Topology: mergeTopology(t, "held", "held", "idle"), Client: config("0")})
			var got []string
			for _, r := range readTopic(t, b.BootstrapServers(), "out", 3) {
				v, _, _ := strings.Cut(string(r.Value), "@")
				got = append(got, string(r.Key)+"="+v)
			}
			if strings.Join(got, " ") != "a=held b=held c=held" {
				t.Fatalf("output %v", got)
			}
		})
	}
}

// TestEmptyPartitionOnAnotherBroker: a task's empty partition led by a
// broker that never answers a fetch with records gets no lag from the
// fetches (franz-go hands over no empty fetch); the engine asks the broker
// for its end offset, finds it caught up, and processes the other
// partition's records instead of waiting for ever.
func TestEmptyPartitionOnAnotherBroker(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(1, "busy", "quiet"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.LeaderFor("busy", 0) == c.LeaderFor("quiet", 0) {
		other := int32(0)
		if c.LeaderFor("busy", 0) == 0 {
			other = 1
		}
		if err := c.MoveTopicPartition("quiet", 0, other); err != nil {
			t.Fatal(err)
		}
	}
	if c.LeaderFor("busy", 0) == c.LeaderFor("quiet", 0) {
		t.Fatal("both partitions on one broker")
	}
	bootstrap := strings.Join(c.ListenAddrs(), ",")
	cl, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer cl.Close()
	var want []string
	var recs []*kgo.Record
	for i := range 50 {
		recs = append(recs, &kgo.Record{Topic: "busy", Key: []byte("k"), Value: []byte("v"), Timestamp: time.UnixMilli(int64(i))})
		want = append(want, fmt.Sprintf("busy@%d", i))
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var obs enforcedCounter
	runEngine(t, kafkaio.Options{Topology: mergeTopology(t, "probe", "busy", "quiet"), Client: clientConfig(t, bootstrap, "probe"), Observer: &obs})
	out := readTopic(t, c.ListenAddrs()[0], "out", len(want))
	got := make([]string, len(out))
	for i, r := range out {
		got[i] = string(r.Value)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n := obs.get("enforced.0_0"); n != len(want) {
		t.Errorf("enforced processing %d, want %d", n, len(want))
	}
}
