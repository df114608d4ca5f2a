package python

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

func TestLog(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "ns")
	define(t, m, FunctionSpec{Name: "helpers", GlobalCode: src("def shout(x):\n  '''doc'''\n  log.warn('shout {}', x)\n  return x\n", 1)})
	f := define(t, m, FunctionSpec{Name: "logit", Type: "forEach", Code: src(strings.Join([]string{
		"log.trace('t')",
		"log.debug('d {}', 1)",
		"log.info('key={} value={} extra={}', key, value)",
		"log.warn('literal \\\\{} and {}', None)",
		"log.error('plain')",
		"shout(key)",
		"assert log.getName() == 'ns.function.logit'",
		"assert log.isErrorEnabled()",
	}, "\n"), 1)})
	call(t, f, nil, "k", structOf("a", int64(1)))
	got := env.logs.take()
	want := []logRecord{
		{slog.LevelDebug - 4, "ns.function.logit", "t"},
		{slog.LevelDebug, "ns.function.logit", "d 1"},
		{slog.LevelInfo, "ns.function.logit", "key=k value={'a': 1} extra={}"},
		{slog.LevelWarn, "ns.function.logit", "literal {} and null"},
		{slog.LevelError, "ns.function.logit", "plain"},
		{slog.LevelWarn, "ns.function.shout", "shout k"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log records:\n got %v\nwant %v", got, want)
	}
	// Disabled levels are not formatted or sent.
	env.logs.level = slog.LevelError
	call(t, f, nil, "k", nil)
	if got := env.logs.take(); len(got) != 1 || got[0].Msg != "plain" {
		t.Errorf("with level error: %v", got)
	}
	g := define(t, m, FunctionSpec{Name: "gen", Type: "generator", LoggerKind: "generator", Code: src("log.error('x')", 1), Expression: src("None", 2)})
	call(t, g, nil)
	if got := env.logs.take(); len(got) != 1 || got[0].Logger != "ns.generator.gen" {
		t.Errorf("generator logger: %v", got)
	}
}

func TestMetrics(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "met")
	f := define(t, m, FunctionSpec{Name: "count", Type: "forEach", Code: src(strings.Join([]string{
		"metrics.counter('records').increment()",
		"metrics.counter('records', {'color': value}).increment(2)",
		"metrics.meter('rate').mark()",
		"metrics.timer('lat', {'b': 1, 'a': 'x'}).updateMillis(3)",
		"metrics.timer('lat', {'b': 1, 'a': 'x'}).updateSeconds(1)",
		"metrics.timer('lat', {'b': 1, 'a': 'x'}).updateNanos(5)",
		"metrics.meter('rate').close()",
		"loggerBridge.getLogger('custom').info('via bridge')",
	}, "\n"), 1)})
	call(t, f, nil, "k", "red")
	call(t, f, nil, "k", "red")
	checks := map[string]float64{
		"counter records ":          2,
		"counter records color=red": 4,
		"meter rate ":               2,
		"timer lat a=x,b=1":         2 * (3e6 + 1e9 + 5),
	}
	if got := env.logs.take(); len(got) != 2 || got[0].Logger != "custom" || got[0].Msg != "via bridge" {
		t.Errorf("loggerBridge: %v", got)
	}
	for k, want := range checks {
		if got := env.metrics.get(k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	bad := define(t, m, FunctionSpec{Name: "bad", Type: "forEach", Code: src("metrics.counter('x', ['not', 'a', 'dict'])", 7)})
	if _, err := bad.Call(nil, "k", "v"); err == nil || !strings.Contains(err.Error(), "metric tags must be a dict") {
		t.Errorf("bad tags: %v", err)
	}
}

func TestInjectedNames(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "inj")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Code: src(strings.Join([]string{
		"now = int(time.time() * 1000)",
		"assert now > 1600000000000",
		"assert null is None",
		"try:",
		"  properties['x'] = 1",
		"  ro = False",
		"except TypeError:",
		"  ro = True",
		"return (properties['service.discovery.url'], properties.get('answer'), properties.get('none', 'dflt'), ro)",
	}, "\n"), 1)})
	if got := show(call(t, f, nil, "k", nil)); got != `("http://registry:8500", 42, "dflt", true)` {
		t.Errorf("got %s", got)
	}
}

// memKV is a key/value store over a Go map, keyed by the key's rendering.
type memKV struct {
	name string
	keys map[string]any
	vals map[string]any
}

func newMemKV(name string) *memKV {
	return &memKV{name: name, keys: map[string]any{}, vals: map[string]any{}}
}

func (s *memKV) Name() string           { return s.name }
func (s *memKV) Persistent() bool       { return false }
func (s *memKV) IsOpen() bool           { return true }
func (s *memKV) Flush() error           { return nil }
func (s *memKV) Get(k any) (any, error) { return s.vals[show(k)], nil }
func (s *memKV) Put(k, v any) error {
	if v == nil {
		delete(s.keys, show(k))
		delete(s.vals, show(k))
		return nil
	}
	s.keys[show(k)], s.vals[show(k)] = k, v
	return nil
}
func (s *memKV) PutIfAbsent(k, v any) (any, error) {
	if old, ok := s.vals[show(k)]; ok {
		return old, nil
	}
	return nil, s.Put(k, v)
}
func (s *memKV) Delete(k any) (any, error) {
	old := s.vals[show(k)]
	delete(s.keys, show(k))
	delete(s.vals, show(k))
	return old, nil
}
func (s *memKV) All() (Iterator, error) {
	ks := make([]string, 0, len(s.keys))
	for k := range s.keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	items := make([]KeyValue, len(ks))
	for i, k := range ks {
		items[i] = KeyValue{s.keys[k], s.vals[k]}
	}
	return &sliceIter{items: items}, nil
}
func (s *memKV) ApproximateNumEntries() (int64, error) { return int64(len(s.keys)), nil }

type sliceIter struct {
	items  []KeyValue
	closed bool
}

func (it *sliceIter) Next() (KeyValue, bool) {
	if len(it.items) == 0 {
		return KeyValue{}, false
	}
	kv := it.items[0]
	it.items = it.items[1:]
	return kv, true
}
func (it *sliceIter) Close() error { it.closed = true; return nil }

type memWindow struct{ memKV }

func (s *memWindow) Put(k, v any, start int64) error {
	s.memKV.keys[fmt.Sprint(start)] = types.Windowed{Key: k, Start: start, End: start + 10}
	s.memKV.vals[fmt.Sprint(start)] = v
	return nil
}
func (s *memWindow) Fetch(k any, t int64) (any, error) { return s.memKV.vals[fmt.Sprint(t)], nil }
func (s *memWindow) FetchRange(k any, from, to int64, backward bool) (Iterator, error) {
	var items []KeyValue
	for i := from; i <= to; i++ {
		if v, ok := s.memKV.vals[fmt.Sprint(i)]; ok {
			items = append(items, KeyValue{i, v})
		}
	}
	if backward {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	return &sliceIter{items: items}, nil
}
func (s *memWindow) FetchKeyRange(kf, kt any, from, to int64, backward bool) (Iterator, error) {
	return s.FetchAll(from, to, backward)
}
func (s *memWindow) FetchAll(from, to int64, backward bool) (Iterator, error) {
	var items []KeyValue
	for i := from; i <= to; i++ {
		if v, ok := s.memKV.vals[fmt.Sprint(i)]; ok {
			items = append(items, KeyValue{s.memKV.keys[fmt.Sprint(i)], v})
		}
	}
	return &sliceIter{items: items}, nil
}
func (s *memWindow) All(backward bool) (Iterator, error) { return s.FetchAll(0, 1000, backward) }

type memSession struct {
	name     string
	sessions []KeyValue
}

func (s *memSession) Name() string     { return s.name }
func (s *memSession) Persistent() bool { return true }
func (s *memSession) IsOpen() bool     { return true }
func (s *memSession) Flush() error     { return nil }
func (s *memSession) Fetch(k any, backward bool) (Iterator, error) {
	return &sliceIter{items: append([]KeyValue(nil), s.sessions...)}, nil
}
func (s *memSession) FetchKeyRange(kf, kt any, backward bool) (Iterator, error) {
	return s.Fetch(kf, backward)
}
func (s *memSession) FindSessions(k any, earliestEnd, latestStart int64, backward bool) (Iterator, error) {
	var items []KeyValue
	for _, kv := range s.sessions {
		w := kv.Key.(types.Windowed)
		if w.End >= earliestEnd && w.Start <= latestStart {
			items = append(items, kv)
		}
	}
	return &sliceIter{items: items}, nil
}
func (s *memSession) FetchSession(k any, start, end int64) (any, error) {
	for _, kv := range s.sessions {
		if w := kv.Key.(types.Windowed); w.Start == start && w.End == end {
			return kv.Value, nil
		}
	}
	return nil, nil
}
func (s *memSession) Put(w types.Windowed, v any) error {
	s.sessions = append(s.sessions, KeyValue{w, v})
	return nil
}
func (s *memSession) Remove(w types.Windowed) error {
	for i, kv := range s.sessions {
		if kv.Key.(types.Windowed) == w {
			s.sessions = append(s.sessions[:i], s.sessions[i+1:]...)
			return nil
		}
	}
	return errors.New("no such session")
}

func TestStores(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "st")
	kvStore := newMemKV("counts")
	ctx := &CallContext{Stores: map[string]Store{"counts": kvStore}}
	f := define(t, m, FunctionSpec{Name: "count", Type: "valueTransformer", Stores: []string{"counts"}, Code: src(strings.Join([]string{
		"n = counts.get(key)",
		"n = 1 if n is None else n + 1",
		"counts.put(key, n)",
		"assert stores['counts'] is counts",
		"return n",
	}, "\n"), 1)})
	for i, want := range []string{"1", "2", "3"} {
		if got := show(call(t, f, ctx, "a", nil)); got != want {
			t.Errorf("call %d: %s", i, got)
		}
	}
	call(t, f, ctx, "b", nil)
	g := define(t, m, FunctionSpec{Name: "inspect", Type: "valueTransformer", Stores: []string{"counts"}, Code: src(strings.Join([]string{
		"it = counts.all()",
		"seen = []",
		"while it.hasNext():",
		"  kv = it.next()",
		"  seen.append((kv['key'], kv['value']))",
		"it.close()",
		"old = counts.putIfAbsent('a', 100)",
		"new = counts.putIfAbsent('c', 7)",
		"gone = counts.delete('b')",
		"return (seen, old, new, gone, counts.approximateNumEntries(), counts.name(), counts.persistent(), counts.isOpen(), [e['key'] for e in counts.all()])",
	}, "\n"), 1)})
	if got := show(call(t, g, ctx, "k", nil)); got != `([("a", 3), ("b", 1)], 3, None, 1, 2, "counts", false, true, ["a", "c"])` {
		t.Errorf("kv api: %s", got)
	}
	// A store that is not in the context raises KeyError in Python.
	_, err := f.Call(&CallContext{}, "a", nil)
	if err == nil || !strings.Contains(err.Error(), "KeyError") || !strings.Contains(err.Error(), "state store counts is not available") {
		t.Errorf("missing store: %v", err)
	}

	win := &memWindow{*newMemKV("win")}
	ses := &memSession{name: "ses"}
	ctx2 := &CallContext{Stores: map[string]Store{"win": win, "ses": ses}}
	w := define(t, m, FunctionSpec{Name: "windows", Type: "valueTransformer", Stores: []string{"win", "ses"}, Code: src(strings.Join([]string{
		"win.put(key, 'v1', 5)",
		"win.put(key, 'v2', 7)",
		"one = win.fetch(key, 5)",
		"rng = [(e['key'], e['value']) for e in win.fetch(key, 0, 10)]",
		"back = [e['key'] for e in win.backwardFetch(key, 0, 10)]",
		"allw = [(e['key']['start'], e['key']['endTime'], e['value']) for e in win.fetchAll(0, 10)]",
		"ses.put({'key': key, 'start': 1, 'end': 4}, 10)",
		"ses.put({'key': key, 'start': 8, 'end': 9}, 20)",
		"found = [(e['key']['start'], e['value']) for e in ses.findSessions(key, 3, 5)]",
		"one_s = ses.fetchSession(key, 8, 9)",
		"ses.remove({'key': key, 'start': 1, 'end': 4})",
		"left = [e['value'] for e in ses.fetch(key)]",
		"return (one, rng, back, allw, found, one_s, left)",
	}, "\n"), 1)})
	if got := show(call(t, w, ctx2, "k", nil)); got != `("v1", [(5, "v1"), (7, "v2")], [7, 5], [(5, "1970-01-01T00:00:00.015Z", "v1"), (7, "1970-01-01T00:00:00.017Z", "v2")], [(1, 10)], 20, [20])` {
		t.Errorf("window/session api: %s", got)
	}
	bad := define(t, m, FunctionSpec{Name: "badStore", Type: "valueTransformer", Stores: []string{"ses"}, Code: src("ses.put('notakey', 1)", 1)})
	if _, err := bad.Call(ctx2, "k", nil); err == nil || !strings.Contains(err.Error(), "a session key must be a dict {key, start, end}") {
		t.Errorf("bad session key: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	env := setup(t, Options{FunctionTimeout: 100 * time.Millisecond})
	m := env.module(t, "slow")
	f := define(t, m, FunctionSpec{Name: "spin", Type: "valueTransformer", Code: Source{Text: strings.Join([]string{
		"while True:",
		"  try:",
		"    x = 1",
		"  except Exception:",
		"    pass",
	}, "\n"), File: "slow.yaml", Line: 10}})
	start := time.Now()
	_, err := f.Call(nil, "k", nil)
	elapsed := time.Since(start)
	var fe *FunctionError
	if !errors.As(err, &fe) || !fe.Timeout || fe.File != "slow.yaml" || fe.Line < 10 || fe.Line > 14 {
		t.Fatalf("got %v (%+v)", err, fe)
	}
	if !strings.Contains(err.Error(), "FunctionTimeout: the call ran longer than ksml.pythonContext.functionTimeout (100ms)") {
		t.Errorf("message: %v", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("timeout took %v", elapsed)
	}
	// The interpreter stays usable and the timeout does not leak into the next call.
	g := define(t, m, FunctionSpec{Name: "fast", Type: "valueTransformer", Expression: src("value + 1", 1)})
	for i := 0; i < 3; i++ {
		if got := show(call(t, g, nil, "k", int64(1))); got != "2" {
			t.Fatalf("after timeout: %s", got)
		}
	}
	// Sleeping code is interrupted too.
	s := define(t, m, FunctionSpec{Name: "sleep", Type: "valueTransformer", Code: src("import time as t\nfor i in range(100):\n  t.sleep(0.05)\n", 1)})
	if _, err := s.Call(nil, "k", nil); !errors.As(err, &fe) || !fe.Timeout {
		t.Errorf("sleep: %v", err)
	}
	// globalCode runs under the timeout too.
	_, err = m.Define(FunctionSpec{Name: "loopy", GlobalCode: Source{Text: "while True:\n  pass\n", File: "g.yaml", Line: 7}})
	if !errors.As(err, &fe) || !fe.Timeout || fe.File != "g.yaml" || fe.Line < 7 || fe.Line > 8 {
		t.Errorf("globalCode timeout: %v", err)
	}
	// NoTimeout disables the watchdog.
	setup(t, Options{FunctionTimeout: NoTimeout})
	q := define(t, m, FunctionSpec{Name: "slowish", Type: "valueTransformer", Code: src("import time as t\nt.sleep(0.3)\nreturn 1", 1)})
	if got := show(call(t, q, nil, "k", nil)); got != "1" {
		t.Errorf("no timeout: %s", got)
	}
}

func TestGuards(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	modDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(modDir, "ksmlhelpers.py"), []byte("def triple(x):\n  return 3 * x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		code    string
		setting string
		allow   func(*Context)
		want    string
	}{
		{"file", fmt.Sprintf("return open(%q).read()", file), "allowHostFileAccess", func(c *Context) { c.AllowHostFileAccess = true }, `"hello"`},
		{"listdir", fmt.Sprintf("import os\nreturn len(os.listdir(%q))", dir), "allowHostFileAccess", func(c *Context) { c.AllowHostFileAccess = true }, "1"},
		{"socket", "import socket\ns = socket.socket()\ns.close()\nreturn 'ok'", "allowHostSocketAccess", func(c *Context) { c.AllowHostSocketAccess = true }, `"ok"`},
		{"process", "import subprocess\nreturn subprocess.run(['true']).returncode", "allowCreateProcess", func(c *Context) { c.AllowCreateProcess = true }, "0"},
		{"system", "import os\nreturn os.system('true')", "allowCreateProcess", func(c *Context) { c.AllowCreateProcess = true }, "0"},
		{"thread", "import threading\nt = threading.Thread(target=lambda: None)\nt.start()\nt.join()\nreturn 'ok'", "allowCreateThread", func(c *Context) { c.AllowCreateThread = true }, `"ok"`},
		{"native", "import ctypes\nreturn ctypes.CDLL(None).abs(-5)", "allowNativeAccess", func(c *Context) { c.AllowNativeAccess = true }, "5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := setup(t, Options{})
			m := env.module(t, "guard_"+c.name)
			f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Code: src(c.code, 1)})
			_, err := f.Call(nil, "k", nil)
			if err == nil || !strings.Contains(err.Error(), "PermissionError") || !strings.Contains(err.Error(), "set ksml.pythonContext."+c.setting+": true") {
				t.Fatalf("denied: got %v", err)
			}
			var ctx Context
			c.allow(&ctx)
			setup(t, Options{Context: ctx})
			if got := show(call(t, f, nil, "k", nil)); got != c.want {
				t.Errorf("allowed: got %s, want %s", got, c.want)
			}
		})
	}
	t.Run("globalCode", func(t *testing.T) {
		env := setup(t, Options{})
		m := env.module(t, "guard_global")
		_, err := m.Define(FunctionSpec{Name: "g", GlobalCode: Source{Text: fmt.Sprintf("import json\ndata = open(%q).read()\n", file), File: "g.yaml", Line: 3}})
		if err == nil || !strings.HasPrefix(err.Error(), "g.yaml:4: Error while executing function guard_global.g: PermissionError: host file access is not allowed (open); set ksml.pythonContext.allowHostFileAccess: true") {
			t.Errorf("globalCode: %v", err)
		}
	})
	t.Run("imports", func(t *testing.T) {
		// Imports read files on the user's behalf; they stay possible.
		env := setup(t, Options{ModulePaths: []string{modDir}})
		m := env.module(t, "guard_import")
		f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Code: src("import ksmlhelpers, uuid, decimal, fractions\nreturn ksmlhelpers.triple(value)", 1)})
		if got := show(call(t, f, nil, "k", int64(3))); got != "9" {
			t.Errorf("import from module path: %s", got)
		}
		// An installed package with a native extension (Debian's PyYAML).
		y := define(t, m, FunctionSpec{Name: "y", Type: "valueTransformer", Code: src("import ctypes\nimport yaml\nreturn yaml.safe_load(value)", 1)})
		v, err := y.Call(nil, "k", "a: [1, 2]")
		var fe *FunctionError
		if errors.As(err, &fe) && fe.Type == "ModuleNotFoundError" {
			t.Skip("PyYAML is not installed")
		}
		if err != nil || show(v) != "{a: [1, 2]}" {
			t.Errorf("installed package: %v %v", show(v), err)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("KSML_TEST_SECRET", "s3cret")
		env := setup(t, Options{Context: Context{InheritEnvironmentVariables: true}})
		m := env.module(t, "guard_env")
		f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Code: src("import os\nreturn os.environ.get('KSML_TEST_SECRET')", 1)})
		// The process environment was captured when Python started, before Setenv.
		if got := show(call(t, f, nil, "k", nil)); got != "None" {
			t.Errorf("inherit: %s", got)
		}
		if os.Getenv("PATH") == "" {
			t.Skip("no PATH in the environment")
		}
		g := define(t, m, FunctionSpec{Name: "g", Type: "valueTransformer", Code: src("import os\nreturn 'PATH' in os.environ", 1)})
		if got := show(call(t, g, nil, "k", nil)); got != "true" {
			t.Errorf("inherit PATH: %s", got)
		}
		setup(t, Options{})
		if got := show(call(t, g, nil, "k", nil)); got != "false" {
			t.Errorf("hidden PATH: %s", got)
		}
	})
}

func TestInterpreterIsolation(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "iso")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Code: src("import sys, os, json\nreturn (sys.prefix, sys.flags.ignore_environment, os.__file__, sys.version_info[:2] == (3, 11), '/usr/lib/python3/dist-packages' in sys.path)", 1)})
	got := show(call(t, f, nil, "k", nil))
	if got != `("/usr", 1, "/usr/lib/python3.11/os.py", true, true)` {
		t.Errorf("interpreter: %s", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "conc")
	store := newMemKV("s")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Expression: src("{'k': key, 'n': value['n'] * 2}", 1)})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				v, err := f.Call(&CallContext{Stores: map[string]Store{"s": store}}, fmt.Sprint(g), structOf("n", int64(i)))
				if err != nil {
					errs <- err
					return
				}
				if got, want := show(v), fmt.Sprintf(`{k: "%d", n: %d}`, g, 2*i); got != want {
					errs <- fmt.Errorf("got %s, want %s", got, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExceptionsNeverCrash(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "crash")
	cases := map[string]string{
		"import sys\nsys.exit(3)":            "SystemExit: 3",
		"raise KeyboardInterrupt()":          "KeyboardInterrupt: ",
		"def r(n):\n  return r(n + 1)\nr(0)": "RecursionError: maximum recursion depth exceeded",
		"x = []\nx.append(x)\nreturn x":      "result: value nests too deeply",
		"return object()":                    "result: cannot convert Python object to a KSML value",
		"import os\nos._exit(1)":             "PermissionError: os._exit would end the ksml process and is not allowed",
		"import os\nos.abort()":              "PermissionError: os.abort would end the ksml process and is not allowed",
		"return 2**70":                       "result: integer does not fit in 64 bits",
	}
	i := 0
	for code, want := range cases {
		f := define(t, m, FunctionSpec{Name: "f" + itoa(i), Type: "valueTransformer", Code: src(code, 1)})
		i++
		_, err := f.Call(nil, "k", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", code, err, want)
		}
	}
}

// memTimestamped adds timestamps to memKV values.
type memTimestamped struct{ *memKV }

func (s memTimestamped) PutWithTimestamp(k, v any, ts int64) error {
	return s.memKV.Put(k, structOf("value", v, "timestamp", ts))
}
func (s memTimestamped) PutIfAbsentWithTimestamp(k, v any, ts int64) (any, error) {
	return s.memKV.PutIfAbsent(k, structOf("value", v, "timestamp", ts))
}

// memVersioned keeps every version of a key.
type memVersioned struct {
	versions map[string][]KeyValue // Key: timestamp
}

func (s *memVersioned) Name() string     { return "ver" }
func (s *memVersioned) Persistent() bool { return true }
func (s *memVersioned) IsOpen() bool     { return true }
func (s *memVersioned) Flush() error     { return nil }
func (s *memVersioned) GetVersioned(k any, asOf *int64) (any, error) {
	var best *KeyValue
	for i, kv := range s.versions[show(k)] {
		if asOf == nil || kv.Key.(int64) <= *asOf {
			best = &s.versions[show(k)][i]
		}
	}
	if best == nil {
		return nil, nil
	}
	return structOf("value", best.Value, "timestamp", best.Key), nil
}
func (s *memVersioned) PutVersioned(k, v any, ts int64) error {
	s.versions[show(k)] = append(s.versions[show(k)], KeyValue{ts, v})
	return nil
}
func (s *memVersioned) DeleteVersioned(k any, ts int64) (any, error) {
	old, _ := s.GetVersioned(k, &ts)
	return old, s.PutVersioned(k, nil, ts)
}

func TestTimestampedAndVersionedStores(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "tsv")
	ts := memTimestamped{newMemKV("ts")}
	ver := &memVersioned{versions: map[string][]KeyValue{}}
	ctx := &CallContext{Stores: map[string]Store{"ts": ts, "ver": ver}}
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Stores: []string{"ts", "ver"}, Code: src(strings.Join([]string{
		"ts.put(key, 'a', 100)",
		"kept = ts.putIfAbsent(key, 'b', 200)",
		"ver.put(key, 'v1', 10)",
		"ver.put(key, 'v2', 20)",
		"old = ver.get(key, 15)",
		"ver.delete(key, 30)",
		"return (ts.get(key), kept, old, ver.get(key, 25), ver.get(key)['value'])",
	}, "\n"), 1)})
	want := `({value: "a", timestamp: 100}, {value: "a", timestamp: 100}, {value: "v1", timestamp: 10}, {value: "v2", timestamp: 20}, None)`
	if got := show(call(t, f, ctx, "k", nil)); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	w := define(t, m, FunctionSpec{Name: "w", Type: "valueTransformer", ResultType: "windowed(string)",
		Expression: src("{'start': 1, 'end': 2, 'startTime': 'x', 'endTime': 'y', 'key': key}", 1)})
	if got := call(t, w, nil, "k", nil); got != (types.Windowed{Key: "k", Start: 1, End: 2}) {
		t.Errorf("windowed result: %#v", got)
	}
}

// TestMismatchedPythonEnvironmentIgnored starts the interpreter in a child
// process whose environment points PYTHONHOME and PYTHONPATH elsewhere (as a
// pyenv shell does); the embedded Debian interpreter must ignore both.
func TestMismatchedPythonEnvironmentIgnored(t *testing.T) {
	if os.Getenv("KSML_PYTHON_ENV_CHILD") == "1" {
		env := setup(t, Options{})
		m := env.module(t, "child")
		f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Expression: src("(__import__('sys').prefix, __import__('os').__file__, [p for p in __import__('sys').path if 'bogus' in p])", 1)})
		if got := show(call(t, f, nil, "k", nil)); got != `("/usr", "/usr/lib/python3.11/os.py", [])` {
			t.Fatalf("child interpreter: %s", got)
		}
		return
	}
	home := t.TempDir()
	if matches, _ := filepath.Glob(os.ExpandEnv("$HOME/.pyenv/versions/3.1[2-9]*")); len(matches) > 0 {
		home = matches[0] // a real stdlib of another version
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMismatchedPythonEnvironmentIgnored$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KSML_PYTHON_ENV_CHILD=1", "PYTHONHOME="+home, "PYTHONPATH="+filepath.Join(home, "bogus"),
		"PYTHONSTARTUP=/nonexistent", "PYTHONNOUSERSITE=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestUpstreamKsmlModule imports a type-hint module written the way
// upstream's ksml.py is: at runtime it does `import java` and looks the KSML
// proxy types up with java.type.
func TestUpstreamKsmlModule(t *testing.T) {
	hints := strings.Join([]string{
		"from typing import TYPE_CHECKING",
		"if not TYPE_CHECKING:",
		"    import java",
		"    PythonLogger = java.type('io.axual.ksml.proxy.log.LoggerBridge$PythonLogger')",
		"    MetricsBridge = java.type('io.axual.ksml.proxy.metric.MetricsBridge')",
		"    KeyValueStore = java.type('io.axual.ksml.proxy.store.KeyValueStoreProxy')",
		"    WindowStore = java.type('io.axual.ksml.proxy.store.WindowStoreProxy')",
		"    SessionStore = java.type('io.axual.ksml.proxy.store.SessionStoreProxy')",
		"    VersionedKeyValueStore = java.type('io.axual.ksml.proxy.store.VersionedKeyValueStoreProxy')",
	}, "\n") + "\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ksml.py"), []byte(hints), 0o644); err != nil {
		t.Fatal(err)
	}
	env := setup(t, Options{ModulePaths: []string{dir}})
	m := env.module(t, "ksmlpy")
	define(t, m, FunctionSpec{Name: "imports", GlobalCode: src("from ksml import PythonLogger, KeyValueStore, MetricsBridge\n", 1)})
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Expression: src("(isinstance(log, PythonLogger), isinstance(metrics, MetricsBridge))", 3)})
	if got := show(call(t, f, nil, "k", nil)); got != "(true, true)" {
		t.Errorf("ksml.py types: %s", got)
	}
	g := define(t, m, FunctionSpec{Name: "g", Type: "valueTransformer", Code: src("import java\nreturn java.type('java.lang.ProcessBuilder')", 5)})
	if _, err := g.Call(nil, "k", nil); err == nil || !strings.Contains(err.Error(), "TypeError: Java type java.lang.ProcessBuilder is not available") {
		t.Errorf("other java types: %v", err)
	}
}

// panicStore panics on every operation.
type panicStore struct{ memKV }

func (p *panicStore) Get(any) (any, error) { panic("store exploded") }

func TestHostPanicsBecomePythonErrors(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "panics")
	f := define(t, m, FunctionSpec{Name: "f", Type: "valueTransformer", Stores: []string{"s"}, Code: src("try:\n  s.get(key)\nexcept RuntimeError as e:\n  return str(e)\n", 1)})
	got := call(t, f, &CallContext{Stores: map[string]Store{"s": &panicStore{*newMemKV("s")}}}, "k", nil)
	if got != "state store operation failed: store exploded" {
		t.Errorf("got %v", got)
	}
}

// TestTimeoutHitsOnlyTheSlowCall runs a spinning call beside quick calls on
// other goroutines: only the spinning call is interrupted.
func TestTimeoutHitsOnlyTheSlowCall(t *testing.T) {
	env := setup(t, Options{FunctionTimeout: 200 * time.Millisecond})
	m := env.module(t, "mixed")
	spin := define(t, m, FunctionSpec{Name: "spin", Type: "valueTransformer", Code: src("while True:\n  pass\n", 1)})
	quick := define(t, m, FunctionSpec{Name: "quick", Type: "valueTransformer", Expression: src("value + 1", 1)})
	done := make(chan error, 1)
	go func() {
		_, err := spin.Call(nil, "k", nil)
		done <- err
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(400 * time.Millisecond)
			for time.Now().Before(deadline) {
				v, err := quick.Call(nil, "k", int64(1))
				if err != nil || v != int64(2) {
					errs <- fmt.Errorf("quick call: %v %v", v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var fe *FunctionError
	if err := <-done; !errors.As(err, &fe) || !fe.Timeout || fe.Function != "mixed.spin" {
		t.Errorf("spin: %v", err)
	}
}

// TestMetricsFollowTheCurrentSink: Python keeps a metric handle for the life
// of the process, while a later Init (another runner or test in the same
// process) installs a new sink; updates must reach the sink in force.
func TestMetricsFollowTheCurrentSink(t *testing.T) {
	first := setup(t, Options{})
	f := define(t, first.module(t, "sink1"), FunctionSpec{Name: "count", Type: "forEach", Code: src("metrics.counter('visits').increment()", 1)})
	call(t, f, nil, "k", "v")
	second := setup(t, Options{})
	g := define(t, second.module(t, "sink2"), FunctionSpec{Name: "count", Type: "forEach", Code: src("metrics.counter('visits').increment()", 1)})
	call(t, g, nil, "k", "v")
	call(t, g, nil, "k", "v")
	if got := first.metrics.get("counter visits "); got != 1 {
		t.Errorf("first sink: visits = %v, want 1", got)
	}
	if got := second.metrics.get("counter visits "); got != 2 {
		t.Errorf("second sink: visits = %v, want 2", got)
	}
}
