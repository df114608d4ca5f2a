// Package python runs KSML functions on an embedded CPython interpreter.
//
// One interpreter serves the whole process. Each definition file gets its
// own Module (a Python namespace): functions of a file share globals and can
// call each other, as upstream KSML does. A Function is built from the
// function's code, expression and globalCode through Python's syntax tree, so
// tracebacks and errors name the YAML file and line.
//
// Values map as upstream KSML maps them: structs and maps become dicts
// (a schema-backed struct passed as a whole argument also carries "@type"
// and "@schema", dropped again on the way back), lists lists, tuples tuples, enums str, bytes a list of ints
// 0..255, null None, windowed keys {start, end, startTime, endTime, key}.
// Results come back as the data model of internal/types: dict to
// *types.Struct, list to []any, tuple to types.Tuple, bytes/bytearray to
// []byte (a list of ints too, when the resultType is bytes), then converted
// to the declared resultType.
//
// The bridge takes the GIL inside one C call per function call, on a Python
// thread state cached per OS thread. Arguments cross as a compact byte
// encoding that C turns straight into Python objects (raw JSON is decoded by
// Python's C scanner), and results come back the same way, so the per-record
// path builds no intermediate Go maps. Host callbacks (log, metrics, stores)
// run with the GIL held: the Go code behind them must never wait for a
// goroutine that itself waits for Python.
//
// Failures are *FunctionError values naming the function, the YAML
// file:line of the failing statement and the Python traceback. No Python
// exception ends the process (SystemExit is an error like any other, and
// os._exit is refused); a call that runs past the function timeout is
// interrupted by a watchdog that raises a BaseException in its thread, so
// `except Exception` cannot swallow it.
//
// The pythonContext guards are enforced with CPython audit hooks. They stop
// ordinary code from opening files, sockets, processes and threads, but they
// are a guard against mistakes, not a sandbox boundary: determined code can
// get around audit hooks.
package python

/*
#cgo pkg-config: python3-embed
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	_ "embed"
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ksml-dev/ksml/internal/types"
)

//go:embed bootstrap.py
var bootstrapSource string

var (
	runtimeOnce sync.Once
	runtimeErr  error
)

// startRuntime initializes CPython once per process. The interpreter is
// configured in isolated mode, so PYTHONHOME/PYTHONPATH of the environment
// (for example from pyenv) never point it at a mismatched standard library.
func startRuntime() error {
	runtimeOnce.Do(func() {
		src := C.CString(bootstrapSource)
		defer C.free(unsafe.Pointer(src))
		var errBuf C.ksml_buf
		if rc := C.ksml_init(src, &errBuf); rc != C.KSML_OK {
			runtimeErr = errors.New("python: cannot start the interpreter: " + bufString(&errBuf))
		} else if _, err := helper("set_store_ops", storeOps); err != nil {
			runtimeErr = errors.New("python: cannot start the interpreter: " + err.Error())
		} else {
			runtimeReady.Store(true)
		}
		C.ksml_buf_free(&errBuf)
	})
	return runtimeErr
}

// runtimeStarted reports whether CPython runs (without starting it).
func runtimeStarted() bool { return runtimeReady.Load() }

var runtimeReady atomic.Bool

func bufString(b *C.ksml_buf) string {
	if b.len == 0 {
		return ""
	}
	return C.GoStringN(b.data, C.int(b.len))
}

func bufBytes(b *C.ksml_buf) []byte {
	if b.len == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(b.data)), int(b.len))
}

// outBufs recycles C output buffers between calls. It is a bounded free
// list rather than a sync.Pool: a pool drops entries at garbage collection
// without a chance to free their malloc'ed data. A buffer is owned by the
// call between getOut and putOut, and by the list in between; one that grew
// past maxKeptBuf (a large result) gives its data back at once.
var outBufs struct {
	mu   sync.Mutex
	free []*C.ksml_buf
}

const (
	maxKeptBufs = 64
	maxKeptBuf  = 256 << 10
)

func getOut() *C.ksml_buf {
	outBufs.mu.Lock()
	if n := len(outBufs.free); n > 0 {
		b := outBufs.free[n-1]
		outBufs.free = outBufs.free[:n-1]
		outBufs.mu.Unlock()
		return b
	}
	outBufs.mu.Unlock()
	return new(C.ksml_buf)
}

func putOut(b *C.ksml_buf) {
	if b.cap > maxKeptBuf {
		C.ksml_buf_free(b)
	}
	b.len, b.failed = 0, 0
	outBufs.mu.Lock()
	if len(outBufs.free) < maxKeptBufs {
		outBufs.free = append(outBufs.free, b)
		outBufs.mu.Unlock()
		return
	}
	outBufs.mu.Unlock()
	C.ksml_buf_free(b)
}

// helper calls a function of the bootstrap module. Objects without a value
// form come back as *pyRef (owned references).
func helper(name string, args ...any) (any, error) { return helperWithDeadline(name, 0, args...) }

// helperWithDeadline is helper with the function timeout applied when
// deadline (monoNanos) is not zero.
func helperWithDeadline(name string, deadline int64, args ...any) (any, error) {
	var enc encoder
	for _, a := range args {
		if err := enc.value(a); err != nil {
			return nil, err
		}
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	out := getOut()
	defer putOut(out)
	var inPtr *C.char
	if len(enc.buf) > 0 {
		inPtr = (*C.char)(unsafe.Pointer(&enc.buf[0]))
	}
	rc := C.ksml_helper(cname, inPtr, C.size_t(len(enc.buf)), C.int(len(args)), C.int64_t(deadline), out)
	switch rc {
	case C.KSML_OK:
		return decodeValue(bufBytes(out), true)
	case C.KSML_PYERR:
		return nil, decodePyError(bufBytes(out))
	default:
		return nil, errors.New("python: " + bufString(out))
	}
}

// pyRef is an owned reference to a Python object that has no value form
// (a function, a module namespace).
type pyRef struct{ p unsafe.Pointer }

func (r *pyRef) release() {
	if r != nil && r.p != nil {
		C.ksml_decref(r.p)
		r.p = nil
	}
}

// pyError is an exception raised by Python code, before it is attributed
// to a function.
type pyError struct {
	Type      string
	Message   string
	File      string
	Line      int
	Traceback string
	Timeout   bool
}

func (e *pyError) Error() string {
	s := e.Type + ": " + e.Message
	if e.File != "" {
		return e.File + ":" + itoa(e.Line) + ": " + s
	}
	return s
}

func decodePyError(b []byte) error {
	v, err := decodeValue(b, false)
	if err != nil {
		return errors.New("python: undecodable error: " + err.Error())
	}
	if s, ok := v.(string); ok {
		return errors.New(s)
	}
	t, ok := v.(types.Tuple)
	if !ok || len(t) != 6 {
		return errors.New("python: malformed error description")
	}
	pe := &pyError{}
	pe.Type, _ = t[0].(string)
	pe.Message, _ = t[1].(string)
	pe.File, _ = t[2].(string)
	if l, ok := t[3].(int64); ok {
		pe.Line = int(l)
	}
	pe.Traceback, _ = t[4].(string)
	pe.Timeout, _ = t[5].(bool)
	return pe
}

// refsLive counts the object references the bridge handed to Go that are
// not yet released; tests use it to find leaks.
func refsLive() int64 { return int64(C.ksml_refs_live()) }

// watchedThreads is the number of OS threads the watchdog covers.
func watchedThreads() int { return int(C.ksml_watched_threads()) }
