package kafkaio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransientErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		context.DeadlineExceeded,
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		fmt.Errorf("committing offsets: %w", kerr.IllegalGeneration),
		fmt.Errorf("committing t[0]: %w", kerr.NotCoordinator),
		kerr.RequestTimedOut, kerr.InvalidProducerEpoch, kerr.OutOfOrderSequenceNumber, kerr.UnknownMemberID,
		errors.New("unable to dial: dial tcp 127.0.0.1:1: connect: connection refused"),
	} {
		if !transient(err) {
			t.Errorf("%v is not transient", err)
		}
	}
	for _, err := range []error{
		nil, context.Canceled, kgo.ErrClientClosed, kerr.TopicAuthorizationFailed, kerr.MessageTooLarge,
		errors.New("KeyError: 'qty'"),
	} {
		if transient(err) {
			t.Errorf("%v is transient", err)
		}
	}
}

func TestRetrierBoundsAStreakByTheTaskTimeout(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := retrier{log: slog.New(slog.NewTextHandler(&buf, nil)), timeout: 50 * time.Millisecond}
	if err := r.failed("commit", kerr.NotCoordinator); err != nil || !r.failing() {
		t.Fatalf("first transient failure: %v", err)
	}
	if err := r.failed("commit", kerr.TopicAuthorizationFailed); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("a failure that is not transient is returned as is: %v", err)
	}
	r.succeeded("commit")
	if r.failing() || !strings.Contains(buf.String(), "Kafka is available again; the tasks resume") {
		t.Fatalf("after success: failing %v, log:\n%s", r.failing(), buf.String())
	}
	r.failed("commit", kerr.NotCoordinator)
	time.Sleep(60 * time.Millisecond) // let the streak outlast the timeout
	err := r.failed("commit", kerr.NotCoordinator)
	if err == nil || !errors.Is(err, kerr.NotCoordinator) || !strings.Contains(err.Error(), "task.timeout.ms is 50ms") {
		t.Fatalf("a streak longer than the task timeout: %v", err)
	}
	if n := strings.Count(buf.String(), "Kafka is unavailable; the tasks pause and retry"); n != 2 {
		t.Errorf("pause logged %d times, want once per streak:\n%s", n, buf.String())
	}
}

// Kafka answering during a streak (an abort, a restore) makes it reachable
// again without ending the streak: the task timeout still bounds failures
// that keep coming.
func TestRetrierReachedDuringAStreak(t *testing.T) {
	t.Parallel()
	r := retrier{log: slog.New(slog.DiscardHandler), timeout: 50 * time.Millisecond}
	r.reached() // no streak: nothing to record
	if r.failing() || r.unavailable() {
		t.Fatal("healthy retrier is failing")
	}
	if err := r.failed("commit", kerr.NotCoordinator); err != nil || !r.unavailable() {
		t.Fatalf("after a transient failure: %v, unavailable %v", err, r.unavailable())
	}
	r.reached()
	if !r.failing() || r.unavailable() {
		t.Fatalf("after Kafka answered: failing %v (want true), unavailable %v (want false)", r.failing(), r.unavailable())
	}
	if err := r.failed("commit", kerr.NotCoordinator); err != nil || !r.unavailable() {
		t.Fatalf("a failure after the answer: %v, unavailable %v (want true)", err, r.unavailable())
	}
	r.reached()
	time.Sleep(60 * time.Millisecond) // let the streak outlast the timeout
	if err := r.failed("commit", kerr.NotCoordinator); err == nil {
		t.Fatal("the streak outlasted the task timeout without an error: reached ended it")
	}
	r.succeeded("commit")
	if r.failing() || r.unavailable() {
		t.Fatal("after success the retrier is still failing")
	}
}
