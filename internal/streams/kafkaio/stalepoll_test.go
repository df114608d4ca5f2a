package kafkaio_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// logWatch is a slog handler that calls see for every record the engine
// logs, at every level, with the record's message and its attributes.
type logWatch struct {
	see func(msg string, attrs map[string]string)
}

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w logWatch) WithGroup(string) slog.Handler            { return w }
func (w logWatch) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	w.see(r.Message, attrs)
	return nil
}

// signal is a channel closed once.
type signal struct {
	once sync.Once
	ch   chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }
func (s *signal) fire()  { s.once.Do(func() { close(s.ch) }) }
func (s *signal) fired() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

func (s *signal) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting until %s", what)
	}
}

// TestAbortRetriedAfterAPollDropsThePolledRecords reproduces, step by step,
// how exactly_once_v2 once processed records twice after a broker outage:
// a transaction cannot commit (a produce request fails), and the abort of
// it fails too (its EndTxn is held past the abort's deadline, as an
// unreachable broker does), which moves the fetch positions back to the
// last commit. The engine retries the abort on its next iteration, after
// a poll that already returned records from the moved-back positions; the
// retried abort moves the positions back once more, so those records are
// fetched again. Queueing the polled records as well processed each of
// them twice in the next transaction. The engine now drops a poll's
// records when the positions moved back since the poll: every input record
// is in the committed output exactly once.
func TestAbortRetriedAfterAPollDropsThePolledRecords(t *testing.T) {
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	created, err := adm.CreateTopics(ctx, 1, -1, nil, "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	outID := created["out"].ID
	abortFailed, recovered, dropped := newSignal(), newSignal(), newSignal()
	var logMu sync.Mutex
	var logged []string
	t.Cleanup(func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("engine log:\n%s", strings.Join(logged, "\n"))
			logMu.Unlock()
		}
	})
	watch := logWatch{see: func(msg string, attrs map[string]string) {
		logMu.Lock()
		logged = append(logged, fmt.Sprintf("%s %v", msg, attrs))
		logMu.Unlock()
		switch {
		case attrs["operation"] == "aborting the transaction":
			abortFailed.fire()
		case strings.HasPrefix(msg, "the transaction could not commit and was aborted"):
			recovered.fire()
		case strings.HasPrefix(msg, "dropping records polled before the positions went back") && attrs["records"] != "0":
			dropped.fire()
		}
	}}
	cfg, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": b.BootstrapServers(), "application.id": "stale", "processing.guarantee": "exactly_once_v2",
		"commit.interval.ms": "1000",
		// A fetch from moved-back positions is answered at once.
		"fetch.max.wait.ms": "10",
	}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// afterCommit, when set, runs once after the engine's next commit.
	var afterCommit func()
	var commitMu sync.Mutex
	runEngine(t, kafkaio.WithAbortTimeout(kafkaio.Options{
		Topology: passTopology(t, "stale", streams.OffsetReset{}), Client: cfg,
		// A poll waits for records up to 500ms: the poll after the
		// failed abort returns the records fetched again (within
		// milliseconds), never nothing.
		PollInterval: 500 * time.Millisecond,
		Logger:       slog.New(watch),
		OnCommit: func() {
			commitMu.Lock()
			f := afterCommit
			afterCommit = nil
			commitMu.Unlock()
			if f != nil {
				f()
			}
		},
	}, 300*time.Millisecond))

	// "a" is committed: its output partition takes part in every
	// transaction after it, so aborting one sends an EndTxn.
	produce(t, cl, "in", "a=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 1); got != "a=x" {
		t.Fatalf("committed output %s", got)
	}

	// The next produce request to "out" fails (a transient broker error):
	// the transaction cannot commit.
	c := b.Cluster()
	produceFailed := newSignal()
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		pr := req.(*kmsg.ProduceRequest)
		if !producesTo(pr, "out", outID) {
			return nil, nil, false // the test's own produce requests; kept
		}
		produceFailed.fire()
		return failedProduce(pr, kerr.UnknownServerError), nil, true
	})
	// The first abort's EndTxn is held until the abort gave up (its
	// deadline passed, the engine logged the failure); the broker then
	// aborts the transaction as asked.
	var heldOnce sync.Once
	c.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if req.(*kmsg.EndTxnRequest).Commit {
			return nil, nil, false
		}
		heldOnce.Do(func() {
			c.SleepControl(func() {
				select {
				case <-abortFailed.ch:
				case <-time.After(15 * time.Second):
				}
			})
		})
		return nil, nil, false
	})

	// b is produced right after a commit, so no commit is due (1s) while
	// its failure is noticed and the abort fails: the transaction breaks
	// on the failed produce, not in a commit.
	commitMu.Lock()
	afterCommit = func() { // on the engine's goroutine: no t.Fatal
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Key: []byte("b"), Value: []byte("x")}).FirstErr(); err != nil {
			t.Errorf("producing b: %v", err)
		}
	}
	commitMu.Unlock()
	produceFailed.wait(t, "the produce request of b failed")
	// A record to poll, so the engine's next iteration comes at once.
	produce(t, cl, "in", "c=x")
	abortFailed.wait(t, "the first abort failed")
	recovered.wait(t, "the retried abort succeeded and the tasks were rebuilt")

	produce(t, cl, "in", "d=x")
	if got := readCommitted(t, b.BootstrapServers(), "out", 4); got != "a=x b=x c=x d=x" {
		t.Fatalf("committed output %s, want every input record once", got)
	}
	if !dropped.fired() {
		t.Fatal("the poll between the failed and the retried abort returned no records: the interleaving under test did not happen")
	}
}

// TestStopAfterARebuildMakesTheFinalCommit: under exactly_once_v2 a
// transaction that cannot commit is aborted and the tasks rebuilt from the
// changelogs; both need the broker, so a stop that comes before the next
// commit still makes the final commit. The engine used to take Kafka for
// unavailable until a commit succeeded, skip the final commit and abort
// the records processed since the rebuild.
func TestStopAfterARebuildMakesTheFinalCommit(t *testing.T) {
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	created, err := adm.CreateTopics(ctx, 1, -1, nil, "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	outID := created["out"].ID
	recovered := newSignal()
	var logMu sync.Mutex
	var logged []string
	watch := logWatch{see: func(msg string, attrs map[string]string) {
		logMu.Lock()
		logged = append(logged, fmt.Sprintf("%s %v", msg, attrs))
		logMu.Unlock()
		if strings.HasPrefix(msg, "the transaction could not commit and was aborted") {
			recovered.fire()
		}
	}}
	cfg, err := kafkaclient.FromProperties(map[string]string{
		"bootstrap.servers": b.BootstrapServers(), "application.id": "rebuilt", "processing.guarantee": "exactly_once_v2",
		// No commit is due between the rebuild and the stop.
		"commit.interval.ms": "30000", "transaction.timeout.ms": "60000",
	}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The first produce request to "out" fails with a transient error:
	// the transaction cannot commit.
	c := b.Cluster()
	var failOnce sync.Once
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		pr := req.(*kmsg.ProduceRequest)
		failed := false
		if producesTo(pr, "out", outID) {
			failOnce.Do(func() { failed = true })
		}
		if !failed {
			return nil, nil, false
		}
		return failedProduce(pr, kerr.UnknownServerError), nil, true
	})
	r := runEngine(t, kafkaio.Options{
		Topology: passTopology(t, "rebuilt", streams.OffsetReset{}), Client: cfg,
		Logger: slog.New(watch),
	})
	produce(t, cl, "in", "a=x")
	recovered.wait(t, "the transaction was aborted and the tasks rebuilt")
	// a is processed again after the rebuild, in a new transaction.
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", 1)); got != "a=x" {
		t.Fatalf("output after the rebuild %s, want a=x", got)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("engine stopped with %v", err)
	}
	logMu.Lock()
	all := strings.Join(logged, "\n")
	logMu.Unlock()
	if strings.Contains(all, "stopping without a final commit") {
		t.Fatalf("the stop skipped the final commit after a successful rebuild:\n%s", all)
	}
	if got := readCommitted(t, b.BootstrapServers(), "out", 1); got != "a=x" {
		t.Fatalf("committed output %s, want a=x", got)
	}
}

// producesTo reports whether a produce request writes to topic, named or,
// in newer requests, given by its id.
func producesTo(pr *kmsg.ProduceRequest, topic string, id [16]byte) bool {
	for _, tt := range pr.Topics {
		if tt.Topic == topic || tt.TopicID == id {
			return true
		}
	}
	return false
}

// failedProduce answers a produce request with err for every partition.
func failedProduce(pr *kmsg.ProduceRequest, err *kerr.Error) *kmsg.ProduceResponse {
	resp := pr.ResponseKind().(*kmsg.ProduceResponse)
	for _, tt := range pr.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = tt.Topic, tt.TopicID
		for _, p := range tt.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = err.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
