package broker

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTelemetrySubscriptionsRequestNoMetrics(t *testing.T) {
	b := startBroker(t, Options{})
	cl := newClient(t, b, kgo.DisableClientMetrics())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := kmsg.NewPtrGetTelemetrySubscriptionsRequest()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("GetTelemetrySubscriptions: %v", err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("error code %d", resp.ErrorCode)
	}
	if resp.ClientInstanceID == [16]byte{} {
		t.Error("no client instance id assigned to a client without one")
	}
	if len(resp.RequestedMetrics) != 0 {
		t.Errorf("requested metrics %q, want none", resp.RequestedMetrics)
	}
	if got, want := resp.PushIntervalMillis, int32(300000); got != want {
		t.Errorf("push interval %d ms, want %d", got, want)
	}

	// A client that already has an id keeps it.
	req.ClientInstanceID = resp.ClientInstanceID
	again, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("GetTelemetrySubscriptions with an id: %v", err)
	}
	if again.ClientInstanceID != resp.ClientInstanceID {
		t.Errorf("client instance id changed from %x to %x", resp.ClientInstanceID, again.ClientInstanceID)
	}
}

// logLines records a franz-go client's log messages.
type logLines struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logLines) Level() kgo.LogLevel { return kgo.LogLevelDebug }
func (l *logLines) Log(_ kgo.LogLevel, msg string, _ ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, msg)
}

func (l *logLines) has(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// A franz-go client with client metrics on (its default) asks the broker
// for subscriptions, is told no metrics are wanted, and pushes nothing, not
// even the terminating push when it closes.
func TestClientsPushNoTelemetry(t *testing.T) {
	b := startBroker(t, Options{})
	var pushes atomic.Int32
	b.cluster.ControlKey(int16(kmsg.PushTelemetry), func(kmsg.Request) (kmsg.Response, error, bool) {
		b.cluster.KeepControl()
		pushes.Add(1)
		return nil, nil, false
	})
	logs := new(logLines)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.BootstrapServers()), kgo.AllowAutoTopicCreation(), kgo.WithLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	// Client metrics start with the first produce or fetch.
	produceEach(t, cl, rec("telemetry", "k", "v"))
	deadline := time.Now().Add(10 * time.Second)
	for !logs.has("no metrics requested") {
		if time.Now().After(deadline) {
			cl.Close()
			t.Fatalf("the client was not told that no metrics are requested within 10s; pushes: %d", pushes.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cl.Close()
	if n := pushes.Load(); n != 0 {
		t.Errorf("%d telemetry pushes reached the broker, want 0", n)
	}
	if logs.has("sending client metrics") {
		t.Error("the client sent client metrics")
	}
}
