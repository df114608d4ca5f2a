package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/runner"
)

// BenchmarkRunnerCQRS measures `ksml run` on the seed CQRS definition (a
// Python mapValues on JSON) on kfake: b.N events are waiting when the
// runner starts; the clock stops when all read models are written.
func BenchmarkRunnerCQRS(b *testing.B) {
	abs, _ := filepath.Abs(sharedDir)
	def := filepath.Join(abs, "acceptance/seed/definitions/cqrs.yaml")
	br := startBrokerB(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < b.N; i++ {
		v := fmt.Sprintf(`{"eventType":"USER_CREATED","entityId":"user-%d","data":{"username":"ada","email":"ada@example.com"}}`, i)
		cl.Produce(context.Background(), &kgo.Record{Topic: "write-events", Key: []byte(fmt.Sprintf("user-%d", i)), Value: []byte(v)}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	cfg := runnerConfigB(b, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    cqrs: %q\n", filepath.Dir(def), work, def),
		map[string]string{"bootstrap.servers": br, "application.id": "bench-cqrs"})
	r, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitProduced(b, r, done, "read-model", b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// waitProduced waits, in a benchmark, until the runner has produced n
// records to topic; a runner that stops first (done) fails the benchmark.
// It polls every 2 ms: the runner signals nothing per record.
func waitProduced(b *testing.B, r *runner.Runner, done <-chan error, topic string, n int) {
	b.Helper()
	for r.Counters().Get("produced", topic) < int64(n) {
		select {
		case err := <-done:
			b.Fatalf("runner stopped: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}
