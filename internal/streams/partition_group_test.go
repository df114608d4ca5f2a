package streams

import (
	"fmt"
	"strings"
	"testing"
)

// groupTask builds a task reading topics (one source node) that forwards
// every record to "out" as "topic:value@ts".
func groupTask(t testing.TB, cfg GroupConfig, topics ...string) (*Task, *captureCollector) {
	t.Helper()
	topo := NewTopology("app")
	if err := topo.AddSource("in", topics, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddProcessor("tag", func() Processor {
		return ProcessorFunc(func(ctx *ProcessorContext, r Record) error {
			return ctx.Forward(r.WithValue(fmt.Sprintf("%s:%v", ctx.RecordContext().Topic, r.Value)))
		})
	}, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddSink("out", "out", SinkOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{},
		Partitioner: func(string, any, any, int) ([]int32, error) { return []int32{0}, nil }}, "tag"); err != nil {
		t.Fatal(err)
	}
	if err := topo.Build(); err != nil {
		t.Fatal(err)
	}
	c := &captureCollector{}
	task, err := NewTask(topo, topo.SubTopologies()[0], 0, c)
	if err != nil {
		t.Fatal(err)
	}
	task.SetGroupConfig(cfg)
	t.Cleanup(func() { task.Close() })
	return task, c
}

func add(t *testing.T, task *Task, topic string, tss ...int64) {
	t.Helper()
	for _, ts := range tss {
		if _, err := task.AddRecord(&RawRecord{Topic: topic, Offset: ts, Timestamp: ts, Key: []byte("k"), Value: []byte(fmt.Sprint(ts))}); err != nil {
			t.Fatal(err)
		}
	}
}

// drain processes while the task is ready at now and returns how many
// records it took.
func drain(t *testing.T, task *Task, now int64) int {
	t.Helper()
	n := 0
	for {
		_, ok, err := task.ProcessNext(now)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
		n++
	}
}

func values(c *captureCollector) string {
	out := make([]string, len(c.sent))
	for i, s := range c.sent {
		// "out/0 k=a:5@5" -> "a:5"
		v := s[strings.Index(s, "=")+1:]
		out[i] = v[:strings.Index(v, "@")]
	}
	return strings.Join(out, " ")
}

// TestPartitionGroupProcessesLowestTimestampFirst: batches fetched one
// topic after the other come out in timestamp order over three topics,
// ties going to the earlier topic (Kafka Streams' StreamTaskTest
// shouldProcessInOrder).
func TestPartitionGroupProcessesLowestTimestampFirst(t *testing.T) {
	task, c := groupTask(t, DefaultGroupConfig(), "a", "b", "c")
	add(t, task, "a", 10, 20, 30, 40)
	add(t, task, "b", 15, 25, 35)
	add(t, task, "c", 5, 20, 45)
	for _, topic := range []string{"a", "b", "c"} {
		task.SetFetchedLag(topic, 0)
	}
	if n := drain(t, task, 0); n != 10 {
		t.Fatalf("processed %d records, want 10", n)
	}
	want := "c:5 a:10 b:15 a:20 c:20 b:25 a:30 b:35 a:40 c:45"
	if got := values(c); got != want {
		t.Errorf("order\n got %s\nwant %s", got, want)
	}
	if task.StreamTime() != 45 {
		t.Errorf("stream time %d", task.StreamTime())
	}
	// a:40 goes while b is empty, c:45 while a and b are: both at lag 0
	// after max.task.idle.ms 0, so both count as enforced processing.
	if got := task.EnforcedProcessing(); got != 2 {
		t.Errorf("enforced processing %d, want 2", got)
	}
}

// TestPartitionGroupWaitsForUnknownAndNonzeroLag: with max.task.idle.ms 0
// (the default) an empty partition without fetch metadata or with records
// still on the broker holds the task back (PartitionGroupTest
// shouldWaitForFetchesWhenMetadataIsIncomplete and
// shouldWaitForPollWhenLagIsNonzero); at lag 0 it goes on right away.
func TestPartitionGroupWaitsForUnknownAndNonzeroLag(t *testing.T) {
	task, c := groupTask(t, DefaultGroupConfig(), "a", "b")
	add(t, task, "a", 1, 2)
	task.SetFetchedLag("a", 0)
	if n := drain(t, task, 100); n != 0 {
		t.Fatalf("processed %d with b's lag unknown", n)
	}
	task.SetFetchedLag("b", 5)
	if n := drain(t, task, 100); n != 0 {
		t.Fatalf("processed %d with b's lag 5", n)
	}
	add(t, task, "b", 0)
	if n := drain(t, task, 100); n != 1 {
		// b:0 goes with both queues holding records; then b is empty with
		// lag 5 again, so a:1 waits.
		t.Fatalf("processed %d, want 1", n)
	}
	task.SetFetchedLag("b", 0)
	if n := drain(t, task, 100); n != 2 {
		t.Fatalf("processed %d at lag 0, want 2", n)
	}
	if got, want := values(c), "b:0 a:1 a:2"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := task.EnforcedProcessing(); got != 2 {
		t.Errorf("enforced processing %d, want 2", got)
	}
}

// TestPartitionGroupIdlesMaxTaskIdleMs: at lag 0 the task waits
// max.task.idle.ms of wall-clock time from the moment it found the
// partition empty, then processes and counts it as enforced
// (PartitionGroupTest shouldIdleAsSpecifiedWhenLagIsZero); a record that
// arrives in time is ordered first.
func TestPartitionGroupIdlesMaxTaskIdleMs(t *testing.T) {
	task, c := groupTask(t, GroupConfig{MaxTaskIdleMs: 100}, "a", "b")
	task.SetFetchedLag("a", 0)
	task.SetFetchedLag("b", 0)
	add(t, task, "a", 50)
	if n := drain(t, task, 1000); n != 0 {
		t.Fatal("processed before the idle deadline")
	}
	if n := drain(t, task, 1099); n != 0 {
		t.Fatal("processed 1 ms before the idle deadline")
	}
	add(t, task, "b", 40)
	if n := drain(t, task, 1099); n != 1 {
		t.Fatalf("processed %d with both buffered, want 1 (b:40)", n)
	}
	// b is empty again: a new idle period starts at 1099.
	if n := drain(t, task, 1100); n != 0 {
		t.Fatal("the idle deadline did not restart")
	}
	if n := drain(t, task, 1199); n != 1 {
		t.Fatal("a:50 not processed at the new deadline")
	}
	if got, want := values(c), "b:40 a:50"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := task.EnforcedProcessing(); got != 1 {
		t.Errorf("enforced processing %d, want 1", got)
	}
}

// TestPartitionGroupIdlingDisabled: max.task.idle.ms -1 processes what is
// buffered even when another partition's lag is unknown
// (shouldNeverWaitIfIdlingIsDisabled), and counts nothing as enforced.
func TestPartitionGroupIdlingDisabled(t *testing.T) {
	task, c := groupTask(t, GroupConfig{MaxTaskIdleMs: MaxTaskIdleDisabled}, "a", "b")
	add(t, task, "a", 7, 3)
	if n := drain(t, task, 0); n != 2 {
		t.Fatalf("processed %d, want 2", n)
	}
	if got, want := values(c), "a:7 a:3"; got != want {
		t.Errorf("got %s, want %s (one partition keeps its offset order)", got, want)
	}
	if task.EnforcedProcessing() != 0 || task.StreamTime() != 7 {
		t.Errorf("enforced %d, stream time %d", task.EnforcedProcessing(), task.StreamTime())
	}
}

// TestPartitionGroupBufferLimit: AddRecord reports a queue longer than
// buffered.records.per.partition, and Resumable turns true once it drained
// back to the limit (StreamTask's pause/resume).
func TestPartitionGroupBufferLimit(t *testing.T) {
	task, _ := groupTask(t, GroupConfig{MaxTaskIdleMs: MaxTaskIdleDisabled, BufferedRecordsPerPartition: 2}, "a", "b")
	var fulls []bool
	for ts := int64(1); ts <= 4; ts++ {
		full, err := task.AddRecord(&RawRecord{Topic: "a", Offset: ts, Timestamp: ts, Value: []byte("v")})
		if err != nil {
			t.Fatal(err)
		}
		fulls = append(fulls, full)
	}
	if fmt.Sprint(fulls) != "[false false true true]" {
		t.Errorf("full after each add: %v", fulls)
	}
	var res []bool
	for range 4 {
		if _, ok, err := task.ProcessNext(0); !ok || err != nil {
			t.Fatal(ok, err)
		}
		res = append(res, task.Resumable("a"))
	}
	if fmt.Sprint(res) != "[false true true true]" || task.BufferedTotal() != 0 {
		t.Errorf("resumable after each record: %v, buffered %d", res, task.BufferedTotal())
	}
}
