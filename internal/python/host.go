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

	"ksml/internal/types"
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

func host() *hostConfig {
	if h := hostState.Load(); h != nil {
		return h
	}
	return &hostConfig{logger: slog.New(slog.DiscardHandler)}
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

var (
	metricMu  sync.RWMutex
	metricIns []Instrument
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
	ins := newInstrument(MetricKind(kind), C.GoStringN(name, C.int(n)), tagMap)
	metricMu.Lock()
	defer metricMu.Unlock()
	metricIns = append(metricIns, ins)
	return C.int64_t(len(metricIns) - 1)
}

// newInstrument asks the sink for an instrument; a sink that panics yields
// none (the metric is dropped) rather than ending the process.
func newInstrument(kind MetricKind, name string, tags map[string]string) (ins Instrument) {
	defer func() {
		if recover() != nil {
			ins = nil
		}
	}()
	if sink := host().metrics; sink != nil {
		ins = sink.UserMetric(kind, name, tags)
	}
	return ins
}

//export ksmlHostMetricUpdate
func ksmlHostMetricUpdate(id C.int64_t, v C.double) {
	metricMu.RLock()
	var ins Instrument
	if id >= 0 && int(id) < len(metricIns) {
		ins = metricIns[id]
	}
	metricMu.RUnlock()
	if ins != nil {
		defer func() { _ = recover() }() // a failing sink must not end the process
		ins.Record(float64(v))
	}
}

// ---------------------------------------------------------------- watchdog

var clockBase = time.Now()

// monoNanos is a monotonic clock shared with the C watchdog slots; it never
// returns 0 (0 means "no deadline").
func monoNanos() int64 { return int64(time.Since(clockBase)) + 1 }

// runWatchdog interrupts calls that passed their deadline by raising
// FunctionTimeout in their thread.
func runWatchdog() {
	for {
		d := time.Duration(timeoutNanos.Load()) / 20
		if d < 5*time.Millisecond {
			d = 5 * time.Millisecond
		} else if d > 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		time.Sleep(d)
		C.ksml_watchdog(C.int64_t(monoNanos()))
	}
}

// ---------------------------------------------------------------- buffers

func putBuf(out *C.ksml_buf, b []byte) {
	if len(b) == 0 {
		return
	}
	C.ksml_buf_put(out, unsafe.Pointer(&b[0]), C.size_t(len(b)))
}

func unsafePtr(p *C.char) unsafe.Pointer { return unsafe.Pointer(p) }
