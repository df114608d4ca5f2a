package kafkaio_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// TestRetriesWithAFullProducerBuffer: with room for one buffered record
// (MaxBufferedRecords(1)) and the broker rejecting the first produce
// requests, the Retry handler sends the rejected records again from the
// engine's goroutine. Sending them from the delivery promise, as franz-go
// warns, blocks the promise goroutine for buffer space only finished
// promises free: the engine would hang and nothing would arrive.
func TestRetriesWithAFullProducerBuffer(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()))
	defer cl.Close()
	created, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, -1, nil, "in", "out")
	if err != nil {
		t.Fatal(err)
	}
	outID := created["out"].ID
	var rejected atomic.Int32
	c := b.Cluster()
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		for _, tt := range pr.Topics {
			// Newer produce requests name topics by id.
			if tt.Topic != "out" && tt.TopicID != outID {
				return nil, nil, false
			}
		}
		if rejected.Load() >= 4 {
			return nil, nil, false
		}
		rejected.Add(1)
		return failedProduce(pr, kerr.InvalidRecord), nil, true
	})
	var in []string
	var want []string
	for i := range 20 {
		in = append(in, fmt.Sprintf("k%02d=v", i))
		want = append(want, fmt.Sprintf("k%02d=v", i))
	}
	produce(t, cl, "in", in...)
	cfg := clientConfig(t, b.BootstrapServers(), "retry-full")
	cfg.Producer = append(cfg.Producer, kgo.MaxBufferedRecords(1))
	runEngine(t, kafkaio.Options{Topology: passTopology(t, "retry-full", streams.OffsetReset{}), Client: cfg,
		Handlers: kafkaio.Handlers{Produce: kafkaio.Handler{Action: kafkaio.Retry, Retries: 5}}})
	if got := keyValues(readTopic(t, b.BootstrapServers(), "out", len(want))); got != strings.Join(want, " ") {
		t.Fatalf("output %s", got)
	}
	if n := rejected.Load(); n != 4 {
		t.Fatalf("the broker rejected %d produce requests, want 4", n)
	}
}
