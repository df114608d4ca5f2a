package kafkaio

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReplacedClientFailuresAreIgnored: once the engine replaced the
// producing client (resetClient), failures the old client reports are
// neither queued for the produce handler (which would retry or resend
// them with the new client, a duplicate of output that is produced again
// from the last commit) nor turned into a second start-over; the new
// client's failures still are. The old client's promises run concurrently
// with the replacement, as franz-go runs them on its own goroutine.
func TestReplacedClientFailuresAreIgnored(t *testing.T) {
	t.Parallel()
	newClient := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	c := NewCollector(context.Background(), newClient(), nil, &Handler{Action: Retry, Retries: 5}, nil, nil)
	old := c.client()
	transientErr := kerr.NotLeaderForPartition
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 1000 {
			old.promise(&kgo.Record{Topic: "out", Context: context.Background()}, transientErr)
		}
	}()
	next := newClient()
	c.setClient(next)
	wg.Wait()
	if c.client().cl != next {
		t.Fatal("the collector does not produce with the new client")
	}
	// Failures queued before the replacement were dropped by it; those
	// after it were ignored.
	if n := c.RetryPending(); n != 0 {
		t.Fatalf("%d failures of the replaced client were handled, want 0", n)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("a failure of the replaced client was reported: %v", err)
	}
	c.client().promise(&kgo.Record{Topic: "out", Context: context.Background()}, kgo.ErrRecordTimeout)
	if n := c.RetryPending(); n != 1 {
		t.Fatalf("%d failures of the current client were handled, want 1", n)
	}
	var lost *undelivered
	if err := c.Err(); !errors.As(err, &lost) {
		t.Fatalf("the current client's failure gave %v, want an undelivered record", err)
	}
}
