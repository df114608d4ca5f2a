package runner_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

// sharedDir is the shared material, relative to this package.
const sharedDir = "../../../shared"

func needShared(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(sharedDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		sharedtest.Missing(t, abs)
	}
	return abs
}

// startBroker starts an in-memory embedded broker on an ephemeral port.
func startBrokerB(t testing.TB) string {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.BootstrapServers()
}

// startBroker returns the test's cluster: a fresh embedded broker, or the
// real Apache Kafka cluster named by KSML_TEST_BOOTSTRAP (see kafkatest).
func startBroker(t *testing.T) *kafkatest.Cluster {
	t.Helper()
	return kafkatest.Start(t)
}

// startRegistry serves an in-memory Confluent-compatible schema registry.
func startRegistry(t *testing.T) (*schemaregistry.Memory, string) {
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	t.Cleanup(srv.Close)
	return mem, srv.URL
}

// runnerConfig writes a ksml-runner.yaml into a fresh directory and returns
// its path. ksml is the body of the ksml section (indented by the caller
// with two spaces), kafka extra lines of the kafka section.
func runnerConfig(t *testing.T, dir, ksml string, kafka map[string]string) string {
	return runnerConfigB(t, dir, ksml, kafka)
}

func runnerConfigB(t testing.TB, dir, ksml string, kafka map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("ksml:\n")
	b.WriteString(ksml)
	b.WriteString("kafka:\n")
	for k, v := range kafka {
		fmt.Fprintf(&b, "  %s: %q\n", k, v)
	}
	path := filepath.Join(dir, "ksml-runner.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// running is a runner started in the background.
type running struct {
	r      *runner.Runner
	cancel context.CancelFunc
	done   chan error
}

// startRunner runs the configuration and waits until its pipelines have
// partitions (or its producers started).
func startRunner(t *testing.T, opts runner.Options) *running {
	t.Helper()
	started := make(chan struct{})
	opts.OnStarted = func() { close(started) }
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	// Endpoints a configuration or definition turns on bind free ports,
	// never the defaults (9999, 8080) another test or process may hold.
	if opts.MetricsAddr == "" {
		opts.MetricsAddr = "127.0.0.1:0"
	}
	if opts.AppServerAddr == "" {
		opts.AppServerAddr = "127.0.0.1:0"
	}
	r, err := runner.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &running{r: r, cancel: cancel, done: make(chan error, 1)}
	go func() { rr.done <- r.Run(ctx) }()
	t.Cleanup(func() { rr.stop(t) })
	select {
	case <-started:
	case err := <-rr.done:
		rr.done <- err
		// A runner with only bounded producers may finish right after it
		// started; both channels are ready then and select picks either.
		select {
		case <-started:
			return rr
		default:
		}
		t.Fatalf("runner stopped before starting: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("runner did not start within 20s")
	}
	return rr
}

// stop cancels the runner and returns what Run returned (nil when already
// collected).
func (rr *running) stop(t *testing.T) error {
	rr.cancel()
	select {
	case err, ok := <-rr.done:
		if !ok {
			return nil
		}
		close(rr.done)
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("runner did not stop within 15s")
	}
	return nil
}

func newClient(t *testing.T, bootstrap string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// readAll reads topic from the start until it has at least min records
// and no more arrive for quiet, or until the timeout.
func readAll(t *testing.T, bootstrap, topic string, min int, quiet time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n == 0 && len(out) >= min {
			return out
		}
	}
	t.Fatalf("topic %s: got %d records, want at least %d", topic, len(out), min)
	return nil
}

// consumedCount is how many records of topic the runner consumed.
func consumedCount(c *runner.Counters, topic string) int64 {
	for _, n := range c.Snapshot() {
		if n.What == "consumed" && n.Topic == topic {
			return n.N
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

func admin(cl *kgo.Client) *kadm.Client { return kadm.NewClient(cl) }

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
