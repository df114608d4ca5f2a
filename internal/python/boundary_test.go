package python

import (
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInvalidUTF8 checks strings across the boundary: invalid UTF-8 reaches
// Python as Java's StringDeserializer decodes it (U+FFFD for the malformed
// byte), so an identity function returns what upstream would write; a str
// made in Python goes out unchanged, even one holding surrogate escapes.
func TestInvalidUTF8(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "utf8")
	ident := define(t, m, FunctionSpec{Name: "ident", Type: "valueTransformer", Expression: src("value", 1)})
	if got := call(t, ident, nil, "k", "ok\xffbad"); got != "ok\uFFFDbad" {
		t.Errorf("identity of %q = %q, want %q", "ok\xffbad", got, "ok\uFFFDbad")
	}
	seen := define(t, m, FunctionSpec{Name: "seen", Type: "valueTransformer",
		Expression: src(`(len(value), value.index("\ufffd"), value.encode("utf-8", "surrogateescape").hex())`, 1)})
	if got := show(call(t, seen, nil, "k", "ok\xffbad")); got != `(6, 2, "6f6befbfbd626164")` {
		t.Errorf("Python saw %s", got)
	}
	// Keys of dicts and whole structs read the same way.
	keys := define(t, m, FunctionSpec{Name: "keys", Type: "valueTransformer", Expression: src(`sorted(value.keys())`, 1)})
	if got := show(call(t, keys, nil, "k", structOf("a\xffb", int64(1)))); got != "[\"a\uFFFDb\"]" {
		t.Errorf("keys = %s", got)
	}
	made := define(t, m, FunctionSpec{Name: "made", Type: "valueTransformer",
		Expression: src(`b"ok\xffbad".decode("utf-8", "surrogateescape")`, 1)})
	if got := call(t, made, nil, "k", nil); got != "ok\xffbad" {
		t.Errorf("surrogate-escaped str came out as %q", got)
	}
	if got, err := made.CallJSON(nil, "k", nil); err != nil || string(got) != "\"ok\xffbad\"" {
		t.Errorf("CallJSON = %q, %v", got, err)
	}
	lone := define(t, m, FunctionSpec{Name: "lone", Type: "valueTransformer", Expression: src(`{"k\ud800": "\ud800"}`, 1)})
	if got := show(call(t, lone, nil, "k", nil)); got != "{k\xed\xa0\x80: \"\\xed\\xa0\\x80\"}" {
		t.Errorf("lone surrogate came out as %s", got)
	}
	// A filter on a string with an invalid byte works as upstream's does.
	filter := define(t, m, FunctionSpec{Name: "filter", Type: "predicate", Expression: src(`value.startswith("ok\ufffd")`, 1)})
	if got := call(t, filter, nil, "k", "ok\xffbad"); got != true {
		t.Errorf("filter = %v", got)
	}
}

// rssBytes reads the resident set size of this process, after the Go heap
// returned the memory it does not use (so a busy machine, where the
// background scavenger lags, does not count Go garbage as retained).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// TestLargeResultsFreeTheirBuffers returns a 4 MB string 50 times with
// forced garbage collections in between: the C buffers that carried them
// must be freed, not dropped by a pool (which leaked ~200 MB here).
func TestLargeResultsFreeTheirBuffers(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "big")
	f := define(t, m, FunctionSpec{Name: "big", Type: "valueTransformer", Expression: src(`value * (4 << 20)`, 1)})
	run := func() {
		v, err := f.Call(nil, "k", "x")
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := v.(string); len(s) != 4<<20 {
			t.Fatalf("got %d bytes", len(s))
		}
		runtime.GC()
		runtime.GC()
	}
	for i := 0; i < 20; i++ { // warm up: allocator arenas and thresholds, first buffers
		run()
	}
	before := rssBytes(t)
	for i := 0; i < 50; i++ {
		run()
	}
	grown := rssBytes(t) - before
	t.Logf("RSS grew by %.1f MB over 50 calls", float64(grown)/(1<<20))
	if grown > 24<<20 {
		t.Errorf("RSS grew by %.1f MB over 50 calls of 4 MB results, want at most 24 MB", float64(grown)/(1<<20))
	}
}

// TestPartialEncodingLeaksNoReferences has a bridge helper return an object
// reference followed by a value that cannot be encoded: the reference
// encoded first must be released again.
func TestPartialEncodingLeaksNoReferences(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "partial")
	define(t, m, FunctionSpec{Name: "install", GlobalCode: src(`
import sys
class LeakMarker:
    pass
_k = sys.modules["_ksml"].__dict__
_k["LeakMarker"] = LeakMarker
_k["test_partial"] = lambda: (LeakMarker(), 2**70)
_k["test_deep"] = lambda: [LeakMarker(), [LeakMarker(), {"x": 2**70}]]
_k["test_markers"] = lambda: sum(1 for o in __import__("gc").get_objects() if isinstance(o, LeakMarker))
`, 1), Expression: src("None", 1)})
	liveBefore := refsLive()
	for i := 0; i < 100; i++ {
		for _, h := range []string{"test_partial", "test_deep"} {
			_, err := helper(h)
			var pe *pyError
			if !errors.As(err, &pe) || pe.Type != "OverflowError" {
				t.Fatalf("%s: got %v, want an OverflowError", h, err)
			}
		}
	}
	n, err := helper("test_markers")
	if err != nil || n != int64(0) {
		t.Errorf("live LeakMarker objects after 200 failed encodings: %v (%v), want 0", n, err)
	}
	if d := refsLive() - liveBefore; d != 0 {
		t.Errorf("references handed to Go and not released: %d", d)
	}
}

// TestDeferredObjectsAreCounted checks the reference counter itself: an
// Object holds one reference until Release.
func TestDeferredObjectsAreCounted(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "deferred")
	f := define(t, m, FunctionSpec{Name: "d", Expression: src(`{"v": value}`, 1), Parameters: []Parameter{{Name: "value"}}})
	before := refsLive()
	v, err := f.CallDeferred(nil, int64(1))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := v.(*Object)
	if !ok {
		t.Fatalf("CallDeferred returned %T", v)
	}
	if d := refsLive() - before; d != 1 {
		t.Errorf("live references with one Object: %d, want 1", d)
	}
	o.Release()
	o.Release()
	if d := refsLive() - before; d != 0 {
		t.Errorf("live references after Release: %d, want 0", d)
	}
}

// TestTimeoutInterruptsSleep: time.sleep(30) under a 2 s limit ends at the
// limit with a FunctionTimeout, not after the sleep.
func TestTimeoutInterruptsSleep(t *testing.T) {
	env := setup(t, Options{FunctionTimeout: 500 * time.Millisecond})
	m := env.module(t, "sleepy")
	f := define(t, m, FunctionSpec{Name: "nap", Type: "valueTransformer", Code: src("time.sleep(30)\nreturn value\n", 1)})
	start := time.Now()
	_, err := f.Call(nil, "k", "v")
	took := time.Since(start)
	var fe *FunctionError
	if !errors.As(err, &fe) || !fe.Timeout {
		t.Fatalf("got %v, want a FunctionTimeout", err)
	}
	if took < 500*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("interrupted after %v, want between 0.5 s and 1.5 s", took)
	}
	// A sleep that ends before the limit is an ordinary sleep.
	quick := define(t, m, FunctionSpec{Name: "short", Type: "valueTransformer",
		Code: src("import time as t\nt0 = t.monotonic()\nt.sleep(0.05)\nreturn t.monotonic() - t0 >= 0.05\n", 1)})
	if got := call(t, quick, nil, "k", "v"); got != true {
		t.Errorf("short sleep returned early: %v", got)
	}
	// except Exception does not swallow it, and the next call is unaffected.
	swallow := define(t, m, FunctionSpec{Name: "swallow", Type: "valueTransformer",
		Code: src("try:\n  time.sleep(30)\nexcept Exception:\n  return 'swallowed'\nreturn 'slept'\n", 1)})
	if _, err := swallow.Call(nil, "k", "v"); !errors.As(err, &fe) || !fe.Timeout {
		t.Errorf("got %v, want a FunctionTimeout", err)
	}
	if got := call(t, quick, nil, "k", "v"); got != true {
		t.Errorf("call after a timeout: %v", got)
	}
}

// TestTimeoutOnManyThreads runs the slow call on the 300th OS thread that
// ran Python: the watchdog covers it as it covers the first.
func TestTimeoutOnManyThreads(t *testing.T) {
	env := setup(t, Options{FunctionTimeout: 300 * time.Millisecond})
	m := env.module(t, "threads")
	quick := define(t, m, FunctionSpec{Name: "quick", Type: "valueTransformer", Expression: src("value", 1)})
	spin := define(t, m, FunctionSpec{Name: "spin", Type: "valueTransformer",
		Code: src("import time as t\nend = t.monotonic() + 20\nwhile t.monotonic() < end:\n  pass\nreturn value\n", 1)})
	release := make(chan struct{})
	var wg sync.WaitGroup
	ready := make(chan error, 299)
	for i := 0; i < 299; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // the thread stays ours (and exits with us) until release
			_, err := quick.Call(nil, "k", "v")
			ready <- err
			<-release
		}()
	}
	for i := 0; i < 299; i++ {
		if err := <-ready; err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		close(release)
		wg.Wait()
	}()
	if n := watchedThreads(); n < 299 {
		t.Fatalf("watched threads: %d, want at least 299", n)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, err := spin.Call(nil, "k", "v")
		done <- err
	}()
	err := <-done
	var fe *FunctionError
	if !errors.As(err, &fe) || !fe.Timeout {
		t.Fatalf("call on thread %d: got %v, want a FunctionTimeout", watchedThreads(), err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("interrupted after %v", took)
	}
	if n := watchedThreads(); n < 300 {
		t.Errorf("watched threads: %d, want at least 300", n)
	}
}

// TestStuckCallIsReported: a call blocked in C past its limit (here a lock
// wait that Python does not interrupt) is reported stuck, in the log and
// through StuckCalls, and no longer once it returned.
func TestStuckCallIsReported(t *testing.T) {
	env := setup(t, Options{FunctionTimeout: 200 * time.Millisecond})
	m := env.module(t, "stuck")
	f := define(t, m, FunctionSpec{Name: "blocked", Type: "valueTransformer",
		Code: src("import _thread\nl = _thread.allocate_lock()\nl.acquire()\nl.acquire(timeout=3)\nreturn value\n", 1)})
	changes := make(chan []StuckCall, 16)
	OnStuckChange(func(c []StuckCall) {
		select {
		case changes <- c:
		default:
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := f.Call(nil, "k", "v")
		done <- err
	}()
	select {
	case c := <-changes:
		if len(c) != 1 || c[0].Function != "stuck.blocked" {
			t.Errorf("stuck calls = %+v", c)
		}
		if got := StuckCalls(); len(got) != 1 || got[0].Function != "stuck.blocked" {
			t.Errorf("StuckCalls() = %+v", got)
		}
	case err := <-done:
		t.Fatalf("the call returned (%v) before it was reported stuck", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no stuck call reported")
	}
	var fe *FunctionError
	if err := <-done; !errors.As(err, &fe) || !fe.Timeout {
		t.Errorf("got %v, want a FunctionTimeout once the lock wait ended", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(StuckCalls()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := StuckCalls(); len(got) != 0 {
		t.Errorf("still stuck after the call returned: %+v", got)
	}
	found := false
	for _, r := range env.logs.take() {
		if strings.Contains(r.Msg, "did not stop at its timeout") {
			found = true
		}
	}
	if !found {
		t.Error("no log line for the stuck call")
	}
}

// TestWatchdogIdleWithoutTimeouts: with timeouts off the watchdog does not
// poll.
func TestWatchdogIdleWithoutTimeouts(t *testing.T) {
	setup(t, Options{FunctionTimeout: 100 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	start := watchdogScans.Load()
	for watchdogScans.Load() == start && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if watchdogScans.Load() == start {
		t.Fatal("the watchdog does not run with timeouts on")
	}
	setup(t, Options{FunctionTimeout: NoTimeout})
	time.Sleep(100 * time.Millisecond) // let a scan in progress finish
	before := watchdogScans.Load()
	time.Sleep(300 * time.Millisecond)
	if n := watchdogScans.Load() - before; n != 0 {
		t.Errorf("the watchdog looked %d times in 300 ms with timeouts off", n)
	}
}

// TestStoreOpsMatchBootstrap: every OP_ constant bootstrap.py uses comes
// from the Go table, with the Go value.
func TestStoreOpsMatchBootstrap(t *testing.T) {
	used := map[string]bool{}
	for _, w := range strings.FieldsFunc(bootstrapSource, func(r rune) bool {
		return !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if strings.HasPrefix(w, "OP_") && w != "OP_" {
			used[w] = true
		}
	}
	if len(used) == 0 {
		t.Fatal("bootstrap.py uses no OP_ constants")
	}
	for name := range used {
		if _, ok := storeOps[name]; !ok {
			t.Errorf("bootstrap.py uses %s, which storeOps does not define", name)
		}
	}
	env := setup(t, Options{})
	define(t, env.module(t, "ops"), FunctionSpec{Name: "install", GlobalCode: src(`
import sys
_k = sys.modules["_ksml"].__dict__
_k["eval_global"] = lambda n: _k[n]
`, 1), Expression: src("None", 1)})
	for name, code := range storeOps {
		got, err := helper("eval_global", name)
		if err != nil || got != code {
			t.Errorf("%s in Python = %v (%v), want %v", name, got, err, code)
		}
	}
}
