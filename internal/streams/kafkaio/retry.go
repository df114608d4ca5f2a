package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka Streams' retry model (KIP-572): an operation that fails on a
// transient broker error (the broker unreachable, a coordinator moving or
// loading, a request timing out, the group generation moving on, a
// transaction the broker aborted) does not stop the application. The tasks
// pause, the operation is retried, and only when failures last longer than
// task.timeout.ms (default 5 minutes) does the application stop. Under
// exactly_once_v2 a transaction that cannot commit is aborted and the
// tasks' state is rebuilt from the changelogs before processing resumes
// from the last commit (Kafka Streams' TaskCorruptedException path).

// commitRetryBackoff is how soon a failed commit is tried again.
const commitRetryBackoff = time.Second

// transient reports whether err is a broker or network failure that goes
// away when the broker, the coordinator or the group is back, as opposed
// to a failure that repeats (a bad record, missing permissions).
func transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, kgo.ErrClientClosed), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, kgo.ErrAborting):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		if ke.Retriable {
			return true
		}
		for _, t := range []*kerr.Error{
			// The group moved on (a rebalance, or the coordinator lost
			// its state): Kafka Streams' TaskMigratedException.
			kerr.IllegalGeneration, kerr.UnknownMemberID, kerr.RebalanceInProgress, kerr.StaleMemberEpoch,
			kerr.GroupIDNotFound,
			// The coordinator moves or loads.
			kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress,
			kerr.ConcurrentTransactions, kerr.UnstableOffsetCommit, kerr.OperationNotAttempted,
			// The broker lost or aborted the producer's state (it
			// restarted, or expired the transaction): abort, reinit.
			kerr.InvalidProducerEpoch, kerr.ProducerFenced, kerr.UnknownProducerID, kerr.OutOfOrderSequenceNumber,
			kerr.TransactionAbortable, kerr.InvalidTxnState, kerr.InvalidProducerIDMapping, kerr.TransactionCoordinatorFenced,
			kerr.UnknownServerError,
		} {
			if ke == t {
				return true
			}
		}
		return false
	}
	// franz-go reports a broker it cannot reach as "unable to dial".
	return strings.Contains(err.Error(), "unable to dial")
}

// retrier applies task.timeout.ms to a streak of transient failures and
// logs the transitions: the first failure (the tasks pause) and the first
// success after it (they resume).
type retrier struct {
	log     *slog.Logger
	timeout time.Duration
	since   time.Time // start of the current streak; zero when healthy
	count   int
}

// failed records that what failed with err. It returns nil while err is
// transient and the streak is younger than the task timeout, and the error
// that must stop the engine otherwise.
func (r *retrier) failed(what string, err error) error {
	if !transient(err) {
		return err
	}
	now := time.Now()
	r.count++
	if r.since.IsZero() {
		r.since = now
		r.log.Warn("Kafka is unavailable; the tasks pause and retry (task.timeout.ms bounds how long)",
			"operation", what, "taskTimeout", r.timeout, "error", err.Error())
	} else {
		r.log.Debug("retrying after a transient failure", "operation", what, "attempt", r.count, "since", now.Sub(r.since).Round(time.Millisecond), "error", err.Error())
	}
	if d := now.Sub(r.since); d >= r.timeout {
		return fmt.Errorf("%s kept failing for %v, task.timeout.ms is %v: %w", what, d.Round(time.Second), r.timeout, err)
	}
	return nil
}

// succeeded ends a streak of failures.
func (r *retrier) succeeded(what string) {
	if r.since.IsZero() {
		return
	}
	r.log.Info("Kafka is available again; the tasks resume", "operation", what,
		"pausedFor", time.Since(r.since).Round(time.Millisecond), "retries", r.count)
	r.since, r.count = time.Time{}, 0
}

// failing reports whether a streak of failures is under way.
func (r *retrier) failing() bool { return !r.since.IsZero() }

// producerFailed handles a failure the collector reported: a transient one
// under exactly_once_v2 breaks the transaction, which is aborted and the
// tasks rebuilt, instead of going to the produce error handler. Called
// with mu held.
func (e *Engine) producerFailed(ctx context.Context, err error) error {
	if e.sess == nil || !transient(err) {
		return err
	}
	if err = e.retry.failed("producing", err); err != nil {
		return err
	}
	e.txnBroken = true
	return e.recoverTransaction(ctx)
}

// commitFailed handles a failed commit: under at_least_once the processed
// offsets stay pending and the commit is tried again soon; under
// exactly_once_v2 the transaction is aborted and the tasks rebuilt. It
// returns the error that stops the engine, or nil. Called with mu held.
func (e *Engine) commitFailed(ctx context.Context, err error, next *time.Time) error {
	if err = e.retry.failed("commit", err); err != nil {
		return err
	}
	*next = time.Now().Add(commitRetryBackoff)
	if e.sess != nil {
		e.txnBroken = true
		return e.recoverTransaction(ctx)
	}
	return nil
}

// recoverTransaction aborts the transaction that could not commit and
// rebuilds the tasks from their changelogs (the records since the last
// commit are processed again). When the abort itself fails transiently it
// is tried again on the next iteration. Called with mu held.
func (e *Engine) recoverTransaction(ctx context.Context) error {
	if !e.txnBroken {
		return nil
	}
	e.out.expectAborts(true)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	_, err := e.sess.End(actx, kgo.TryAbort)
	cancel()
	e.out.expectAborts(false)
	e.inTxn = false
	clear(e.processed)
	if err != nil {
		return e.retry.failed("aborting the transaction", err)
	}
	e.txnBroken = false
	e.out.clearErr()
	e.log.Warn("the transaction could not commit and was aborted; the tasks' state is rebuilt from the changelogs and processing resumes from the last commit")
	assigned := map[string][]int32{}
	for k := range e.assigned {
		assigned[k.topic] = append(assigned[k.topic], k.partition)
	}
	e.closeTasks(nil)
	if err := e.createTasks(ctx, assigned); err != nil {
		return e.retry.failed("restoring the tasks", err)
	}
	return nil
}
