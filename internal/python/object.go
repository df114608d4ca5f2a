package python

/*
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Object is a dict or list a function returned, kept as the live Python
// object. It is a types.Deferred: Resolve converts it to the data model, and
// KSMLJSON writes its JSON text in C, so a JSON sink or the next Python
// function (which receives the very same object) skips the conversion
// through Go values.
//
// The object is shared, not copied: a function that receives it and mutates
// it changes it for every holder. Give an Object to one consumer, or Resolve
// it first. The consumer owns the reference and drops it with Release once
// it wrote the value out (a sink, after serializing); using an Object after
// Release is an error. An Object that becomes garbage unreleased is a
// mistake of its owner: its reference is queued without taking the GIL on
// the garbage collector's goroutine, dropped by the next call, and counted
// (UnreleasedObjects).
type Object struct {
	mu      sync.Mutex
	ref     *pyRef
	cleanup runtime.Cleanup
}

var errReleased = errors.New("python: object used after Release")

func newObject(ref *pyRef) *Object {
	o := &Object{ref: ref}
	o.cleanup = runtime.AddCleanup(o, queueRelease, ref.p)
	return o
}

// orphans holds references of Objects collected without Release.
var orphans struct {
	mu      sync.Mutex
	ptrs    []unsafe.Pointer
	pending atomic.Bool
	total   atomic.Int64
}

func queueRelease(p unsafe.Pointer) {
	orphans.mu.Lock()
	orphans.ptrs = append(orphans.ptrs, p)
	orphans.mu.Unlock()
	orphans.pending.Store(true)
	orphans.total.Add(1)
}

// releaseOrphans drops the queued references; calls run it before they take
// the GIL for themselves.
func releaseOrphans() {
	if !orphans.pending.Load() {
		return
	}
	orphans.mu.Lock()
	ptrs := orphans.ptrs
	orphans.ptrs = nil
	orphans.pending.Store(false)
	orphans.mu.Unlock()
	for _, p := range ptrs {
		C.ksml_decref(p)
	}
}

// UnreleasedObjects counts the Objects that became garbage without Release
// since the process started; a correct owner keeps it at zero.
func UnreleasedObjects() int64 { return orphans.total.Load() }

func (o *Object) value(json bool) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ref == nil || o.ref.p == nil {
		return nil, errReleased
	}
	out := getOut()
	defer putOut(out)
	j := C.int(0)
	if json {
		j = 1
	}
	if rc := C.ksml_obj_value(o.ref.p, j, out); rc != C.KSML_OK {
		return nil, errors.New("python: " + bufString(out))
	}
	return append([]byte(nil), bufBytes(out)...), nil
}

// Resolve converts the object to the data model.
func (o *Object) Resolve() (any, error) {
	b, err := o.value(false)
	if err != nil {
		return nil, err
	}
	return decodeValue(b, false)
}

// KSMLJSON returns the object as compact JSON text (see CallJSON).
func (o *Object) KSMLJSON() ([]byte, error) { return o.value(true) }

// Release drops the reference to the Python object. It is safe to call more
// than once.
func (o *Object) Release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ref != nil {
		o.cleanup.Stop()
		o.ref.release()
		o.ref = nil
	}
}

// CallDeferred is Call, except that a dict or list result stays a live
// Python object (*Object) when the function has no result rule or declared
// resultType to apply; other results are as from Call.
func (f *Function) CallDeferred(ctx *CallContext, args ...any) (any, error) {
	if f.rule != ruleAny || f.result != nil || f.discard {
		return f.Call(ctx, args...)
	}
	out := getOut()
	defer putOut(out)
	if _, err := f.invokeMode(ctx, args, 2, out); err != nil {
		return nil, err
	}
	v, err := decodeValue(bufBytes(out), true)
	if err != nil {
		return nil, &FunctionError{Function: f.name, Message: err.Error()}
	}
	if ref, ok := v.(*pyRef); ok {
		return newObject(ref), nil
	}
	return v, nil
}
