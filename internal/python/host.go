package python

/*
#include "bridge.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ksml-dev/ksml/internal/types"
)

// MetricKind is the kind of a user-defined metric.
type MetricKind int

const (
	CounterMetric MetricKind = iota // metrics.counter(...).increment(n)
	MeterMetric                     // metrics.meter(...).mark(n)
	TimerMetric                     // metrics.timer(...).updateSeconds/Millis/Nanos(v)
)

func (k MetricKind) String() string {
	switch k {
	case CounterMetric:
		return "counter"
	case MeterMetric:
		return "meter"
	case TimerMetric:
		return "timer"
	}
	return "unknown"
}

// MetricsSink creates the instruments behind Python's `metrics` object. It
// is asked once per distinct (kind, name, tags); calls come with the GIL
// held, so implementations must not block on Python.
type MetricsSink interface {
	UserMetric(kind MetricKind, name string, tags map[string]string) Instrument
}

// Instrument records one observation: the increment of a counter or meter,
// or a timer duration in nanoseconds.
type Instrument interface {
	Record(v float64)
}

type hostConfig struct {
	logger     *slog.Logger
	metrics    MetricsSink
	schemaMeta func(*types.StructSchema) (string, *types.Struct, bool)
}

var hostState atomic.Pointer[hostConfig]

// noHost serves host callbacks before Init; one value, so identity checks
// on the configuration (metricSlot) stay stable.
var noHost = &hostConfig{logger: slog.New(slog.DiscardHandler)}

func host() *hostConfig {
	if h := hostState.Load(); h != nil {
		return h
	}
	return noHost
}

func setGuards(c Context) {
	flags := C.KSML_GUARDS_ON
	if c.AllowHostFileAccess {
		flags |= C.KSML_ALLOW_FILE
	}
	if c.AllowHostSocketAccess {
		flags |= C.KSML_ALLOW_SOCKET
	}
	if c.AllowNativeAccess {
		flags |= C.KSML_ALLOW_NATIVE
	}
	if c.AllowCreateProcess {
		flags |= C.KSML_ALLOW_PROCESS
	}
	if c.AllowCreateThread {
		flags |= C.KSML_ALLOW_THREAD
	}
	C.ksml_set_guards(C.int(flags))
}

// ---------------------------------------------------------------- loggers

var (
	loggerMu    sync.RWMutex
	loggerNames []string
)

var pyLevels = [...]slog.Level{slog.LevelDebug - 4, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

func pyLevel(l C.int) slog.Level {
	if l < 0 || int(l) >= len(pyLevels) {
		return slog.LevelInfo
	}
	return pyLevels[l]
}

func loggerName(id C.int64_t) string {
	loggerMu.RLock()
	defer loggerMu.RUnlock()
	if id < 0 || int(id) >= len(loggerNames) {
		return ""
	}
	return loggerNames[id]
}

//export ksmlHostLogger
func ksmlHostLogger(name *C.char, n C.size_t) C.int64_t {
	s := C.GoStringN(name, C.int(n))
	loggerMu.Lock()
	defer loggerMu.Unlock()
	loggerNames = append(loggerNames, s)
	return C.int64_t(len(loggerNames) - 1)
}

//export ksmlHostLogEnabled
func ksmlHostLogEnabled(id C.int64_t, level C.int) C.int {
	if host().logger.Enabled(context.Background(), pyLevel(level)) {
		return 1
	}
	return 0
}

//export ksmlHostLog
func ksmlHostLog(id C.int64_t, level C.int, msg *C.char, n C.size_t) {
	defer func() { _ = recover() }() // a failing log handler must not end the process
	host().logger.Log(context.Background(), pyLevel(level), C.GoStringN(msg, C.int(n)), slog.String("logger", loggerName(id)))
}

// ---------------------------------------------------------------- metrics

// A Python metric handle (an index into metricSlots) outlives the sink it was
// created with: Python caches handles per (kind, name, tags) for the life of
// the process, while Init may install a new sink (a new runner or test run in
// the same process). Each slot therefore remembers the host configuration its
// instrument came from and asks the current sink again when that changed.
type metricSlot struct {
	kind MetricKind
	name string
	tags map[string]string

	cur atomic.Pointer[resolvedInstrument]
}

type resolvedInstrument struct {
	from *hostConfig
	ins  Instrument
}

var (
	metricMu    sync.RWMutex
	metricSlots []*metricSlot
)

//export ksmlHostMetric
func ksmlHostMetric(kind C.int, name *C.char, n C.size_t, tags *C.char, tn C.size_t) C.int64_t {
	tagMap := map[string]string{}
	if tn > 0 {
		for _, kv := range strings.Split(C.GoStringN(tags, C.int(tn)), "\x00") {
			k, v, _ := strings.Cut(kv, "=")
			tagMap[k] = v
		}
	}
	slot := &metricSlot{kind: MetricKind(kind), name: C.GoStringN(name, C.int(n)), tags: tagMap}
	slot.instrument() // resolve now, so a sink sees the metric before its first update
	metricMu.Lock()
	defer metricMu.Unlock()
	metricSlots = append(metricSlots, slot)
	return C.int64_t(len(metricSlots) - 1)
}

// instrument returns the slot's instrument from the current sink.
func (s *metricSlot) instrument() Instrument {
	h := host()
	if r := s.cur.Load(); r != nil && r.from == h {
		return r.ins
	}
	r := &resolvedInstrument{from: h, ins: newInstrument(h, s.kind, s.name, s.tags)}
	s.cur.Store(r)
	return r.ins
}

// newInstrument asks the sink for an instrument; a sink that panics yields
// none (the metric is dropped) rather than ending the process.
func newInstrument(h *hostConfig, kind MetricKind, name string, tags map[string]string) (ins Instrument) {
	defer func() {
		if recover() != nil {
			ins = nil
		}
	}()
	if sink := h.metrics; sink != nil {
		ins = sink.UserMetric(kind, name, tags)
	}
	return ins
}

//export ksmlHostMetricUpdate
func ksmlHostMetricUpdate(id C.int64_t, v C.double) {
	metricMu.RLock()
	var slot *metricSlot
	if id >= 0 && int(id) < len(metricSlots) {
		slot = metricSlots[id]
	}
	metricMu.RUnlock()
	if slot == nil {
		return
	}
	defer func() { _ = recover() }() // a failing sink must not end the process
	if ins := slot.instrument(); ins != nil {
		ins.Record(float64(v))
	}
}

// ---------------------------------------------------------------- watchdog

var clockBase = time.Now()

// monoNanos is a monotonic clock shared with the C watchdog slots; it never
// returns 0 (0 means "no deadline").
func monoNanos() int64 { return int64(time.Since(clockBase)) + 1 }

// watchdogScans counts the watchdog's looks at the threads (for tests: none
// while timeouts are off).
var watchdogScans atomic.Int64

// watchdogWake starts the watchdog's polling again after timeouts were off.
var watchdogWake = make(chan struct{}, 1)

// fireRequests asks the firer to raise FunctionTimeout; a buffer of one
// coalesces requests while the firer waits for the GIL.
var fireRequests = make(chan struct{}, 1)

// stuckGrace is how long a call may run past its deadline, after the
// FunctionTimeout was raised, before it counts as stuck: code that never
// returns to the interpreter (a C loop) cannot be interrupted.
const stuckGrace = time.Second

// runWatchdog looks for calls past their deadline, without the GIL: it wakes
// sleeping ones, has the firer raise FunctionTimeout in the others, and
// reports calls that do not stop as stuck. With timeouts off it waits for
// watchdogWake and costs nothing.
func runWatchdog() {
	go runFirer()
	const maxStuck = 64
	var fns, since [maxStuck]C.int64_t
	for {
		t := time.Duration(timeoutNanos.Load())
		if t <= 0 {
			<-watchdogWake
			continue
		}
		time.Sleep(min(max(t/40, 5*time.Millisecond), 50*time.Millisecond))
		watchdogScans.Add(1)
		var n C.int
		due := C.ksml_watch_scan(C.int64_t(monoNanos()), C.int64_t(stuckGrace), &fns[0], &since[0], maxStuck, &n)
		if due > 0 {
			select {
			case fireRequests <- struct{}{}:
			default:
			}
		}
		calls := make([]StuckCall, 0, min(int(n), maxStuck))
		for i := 0; i < int(n) && i < maxStuck; i++ {
			calls = append(calls, StuckCall{Function: functionName(int64(fns[i])),
				Deadline: clockBase.Add(time.Duration(since[i]))})
		}
		updateStuck(calls, int(n))
	}
}

// runFirer raises FunctionTimeout in the calls past their deadline. It takes
// the GIL, so it runs apart from the watchdog: a call that holds the GIL in
// C keeps the firer waiting but not the watchdog's reports.
func runFirer() {
	for range fireRequests {
		C.ksml_watch_fire(C.int64_t(monoNanos()))
	}
}

// StuckCall is a function call that ran past its function timeout and did
// not stop when interrupted: it runs code Python cannot interrupt (a C loop
// that never returns to the interpreter) and holds its task.
type StuckCall struct {
	Function string    // namespace.name of the function
	Deadline time.Time // when its timeout expired
}

var stuck struct {
	mu    sync.Mutex
	calls []StuckCall
	count int
	hooks []func([]StuckCall)
}

// StuckCalls returns the calls that are stuck now (see StuckCall); a health
// endpoint reports the process unhealthy while there are any.
func StuckCalls() []StuckCall {
	stuck.mu.Lock()
	defer stuck.mu.Unlock()
	return append([]StuckCall(nil), stuck.calls...)
}

// OnStuckChange registers fn to be called, from the watchdog goroutine,
// whenever the set of stuck calls changes (with the new set, empty when all
// recovered). fn must not block.
func OnStuckChange(fn func([]StuckCall)) {
	stuck.mu.Lock()
	defer stuck.mu.Unlock()
	stuck.hooks = append(stuck.hooks, fn)
}

func updateStuck(calls []StuckCall, count int) {
	stuck.mu.Lock()
	changed := count != stuck.count || !sameStuck(calls, stuck.calls)
	var added []StuckCall
	if changed {
		for _, c := range calls {
			if !containsStuck(stuck.calls, c) {
				added = append(added, c)
			}
		}
		stuck.calls, stuck.count = calls, count
	}
	hooks := stuck.hooks
	stuck.mu.Unlock()
	if !changed {
		return
	}
	log := host().logger
	for _, c := range added {
		log.Error("a Python function did not stop at its timeout: it runs code Python cannot interrupt "+
			"(a C loop) and holds its task; SIGTERM still stops the process",
			slog.String("function", c.Function), slog.Duration("overdue", time.Since(c.Deadline).Round(time.Millisecond)))
	}
	if len(calls) == 0 {
		log.Warn("stuck Python functions returned; their tasks continue")
	}
	for _, h := range hooks {
		h(append([]StuckCall(nil), calls...))
	}
}

func sameStuck(a, b []StuckCall) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsStuck(list []StuckCall, c StuckCall) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- buffers

func putBuf(out *C.ksml_buf, b []byte) {
	if len(b) == 0 {
		return
	}
	C.ksml_buf_put(out, unsafe.Pointer(&b[0]), C.size_t(len(b)))
}

func unsafePtr(p *C.char) unsafe.Pointer { return unsafe.Pointer(p) }
