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

	"github.com/ksml-dev/ksml/internal/kafkaclient"
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

// defaultAbortTimeout bounds one attempt to abort a transaction that cannot
// commit: franz-go's abort first waits for the produce requests in flight,
// which an unreachable broker never answers; the abort is tried again on a
// later iteration.
const defaultAbortTimeout = 10 * time.Second

// transient reports whether err is a broker or network failure that goes
// away when the broker, the coordinator or the group is back, as opposed
// to a failure that repeats (a bad record, missing permissions).
func transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, kgo.ErrClientClosed), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, kgo.ErrAborting), errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries):
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
	// answered: since the streak's last failure, Kafka answered
	// something that needed it (an abort, a restore from the changelogs)
	// although nothing has committed yet. The streak goes on, so failures
	// that keep coming still end at task.timeout.ms, but Kafka is known
	// to be reachable.
	answered bool
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
	r.answered = false
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
	r.since, r.count, r.answered = time.Time{}, 0, false
}

// failing reports whether a streak of failures is under way.
func (r *retrier) failing() bool { return !r.since.IsZero() }

// reached records that Kafka answered an operation that needed it during
// a streak, without ending the streak.
func (r *retrier) reached() {
	if r.failing() {
		r.answered = true
	}
}

// unavailable reports whether Kafka is taken to be unreachable: a streak of
// failures is under way and Kafka has not answered since its last failure.
func (r *retrier) unavailable() bool { return r.failing() && !r.answered }

// recover handles a failure of what (a commit, producing, beginning a
// transaction): within task.timeout.ms a transient failure is retried;
// under exactly_once_v2 the open transaction is aborted and the tasks
// rebuilt from the changelogs; a record the producer could not deliver
// for a transient reason makes the client start over from the last commit
// (resetClient). It returns the error that stops the engine, or nil.
// Called with mu held.
func (e *Engine) recover(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		// A stop interrupted the operation; shutdown makes the final
		// commit.
		return nil
	}
	var lost *undelivered
	isLost := errors.As(err, &lost)
	if rerr := e.retry.failed(what, err); rerr != nil {
		return rerr
	}
	switch {
	case e.sess != nil && (fatalProducer(err) || errors.Is(err, context.DeadlineExceeded)):
		// Aborting with a fenced producer cannot work: a new producer
		// takes over (Kafka Streams' TaskMigratedException).
		e.txnBroken = false
		e.inTxn = false
		return e.resetClient(err)
	case e.sess != nil:
		e.txnBroken = true
		e.log.Warn("the transaction cannot commit; it is aborted", "cause", err.Error())
		return e.recoverTransaction(ctx)
	case isLost:
		return e.resetClient(err)
	}
	return nil
}

// undelivered is a record the producer gave up on for a transient reason
// (the broker lost the producer's state, a transaction was aborted, a
// delivery timeout): not a bad record for the produce error handler, but
// output that is missing, so the tasks start over from the last commit.
type undelivered struct {
	topic string
	err   error
}

func (u *undelivered) Error() string {
	return fmt.Sprintf("producing to topic %q: %v", u.topic, u.err)
}

func (u *undelivered) Unwrap() error { return u.err }

// fatalProducer reports errors after which the producer cannot go on: it
// was fenced, or its producer id cannot be recovered.
func fatalProducer(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || strings.Contains(err.Error(), "fatal, unrecoverable")
}

// resetClient closes the tasks and replaces the client with a new one that
// rejoins the group and starts from the last committed offsets, as Kafka
// Streams does on a TaskMigratedException (and, under exactly_once_v2,
// with a new transactional producer after ProducerFencedException). Called
// with mu held.
func (e *Engine) resetClient(cause error) error {
	e.log.Warn("the client starts over from the last commit: the tasks are closed and rebuilt, and a new client rejoins the group",
		"cause", cause.Error())
	old, oldSess := e.cl, e.sess
	e.closeTasks(nil)
	clear(e.processed)
	var err error
	if oldSess != nil {
		var sess *kgo.GroupTransactSession
		if sess, err = kgo.NewGroupTransactSession(e.clientOpts...); err == nil {
			e.sess, e.cl = sess, sess.Client()
		}
	} else {
		var cl *kgo.Client
		if cl, err = kgo.NewClient(e.clientOpts...); err == nil {
			e.cl = cl
		}
	}
	if err != nil {
		return fmt.Errorf("recreating the Kafka client: %w", err)
	}
	e.resets++
	e.out.setClient(e.cl)
	e.inTxn, e.txnBroken = false, false
	// The old client closes in the background: its rebalance callbacks
	// wait for mu and then see that it is no longer the engine's client;
	// the collector ignores whatever its records fail with (setClient):
	// their input is processed again from the last commit.
	go func() {
		if oldSess != nil {
			oldSess.Close()
		} else {
			old.Close()
		}
	}()
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
	timeout := e.opts.abortTimeout
	if timeout <= 0 {
		timeout = defaultAbortTimeout
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	_, err := e.sess.End(actx, kgo.TryAbort)
	cancel()
	e.out.expectAborts(false)
	e.inTxn = false
	clear(e.processed)
	// Even a failed End may have moved the positions back (franz-go's
	// GroupTransactSession resets to the committed offsets whenever it
	// does not commit).
	e.resets++
	if err != nil && fatalProducer(err) {
		return e.resetClient(err)
	}
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
	// The abort and the restore both needed the broker: a stop from here
	// on makes its final commit.
	e.retry.reached()
	return nil
}

// finalFlush waits, up to ctx, until the producer has delivered what it
// holds, so a stop during a broker outage does not hang on the final
// commit. It reports false when Kafka is unavailable. Called with mu held.
func (e *Engine) finalFlush(ctx context.Context) bool {
	if e.out == nil {
		return true
	}
	e.out.bindFlush(ctx) // the run context is over; the stop deadline bounds the final commit
	if e.txnBroken || e.retry.unavailable() {
		return false
	}
	if err := e.cl.Flush(ctx); err != nil {
		e.log.Warn("the producer could not deliver before the stop deadline", "error", err.Error())
		return false
	}
	return true
}

// abortUnreachable gives up the open transaction (if any) during a stop
// while Kafka is unavailable. Called with mu held.
func (e *Engine) abortUnreachable() {
	e.log.Warn("stopping without a final commit: Kafka is unavailable; the records since the last commit are processed again on the next start")
	if e.sess == nil || (!e.inTxn && !e.txnBroken) {
		return
	}
	e.out.expectAborts(true)
	actx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := e.sess.End(actx, kgo.TryAbort); err != nil {
		e.log.Debug("aborting the transaction at stop failed; the broker aborts it after transaction.timeout.ms", "error", err.Error())
	}
	e.inTxn = false
}

// bindFlush makes the collector's Flush give up when ctx (the engine's run
// context) ends: a commit waiting for an unreachable broker then lets a
// stop request through, and shutdown makes the final, bounded attempt.
func (c *Collector) bindFlush(ctx context.Context) { c.flushCtx = ctx }

// fetchWarnEvery spaces the warnings about fetch errors during an outage.
const fetchWarnEvery = 10 * time.Second

// warnFetch reports whether a fetch error should be logged now: the first
// of an outage, then one every fetchWarnEvery.
func (e *Engine) warnFetch() bool {
	if time.Since(e.lastFetchWarn) < fetchWarnEvery {
		return false
	}
	e.lastFetchWarn = time.Now()
	return true
}

// endTimeout bounds ending a transaction: past transaction.timeout.ms the
// broker aborts it anyway, so waiting longer only delays the recovery (a
// transaction that cannot end is given up with its producer, see
// recover).
func (e *Engine) endTimeout() time.Duration {
	if d := e.opts.Client.TransactionTimeout; d > 0 {
		return max(d, 5*time.Second)
	}
	return kafkaclient.DefaultTransactionTimeoutEOS
}
