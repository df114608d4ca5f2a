package observability

import (
	"context"
	"errors"
	"fmt"
	"github.com/ksml-dev/ksml/internal/streams"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/types"
)

var allStates = []ComponentState{NotApplicable, Created, Starting, Started, Stopping, Stopped, Failed}

// The probes' answers for every (producer, streams) state pair, from
// upstream's LivenessResource, ReadyResource and StartupResource rules.
// Rows: producer state; columns: streams state; both in the order
// NOT_APPLICABLE CREATED STARTING STARTED STOPPING STOPPED FAILED.
// Y is 204, n is 500.
var probeTables = map[string][]string{
	"/live": {
		"nYYYYnn",
		"YYYYYnn",
		"YYYYYnn",
		"YYYYYnn",
		"YYYYYnn",
		"YYYYYnn",
		"nnnnnnn",
	},
	"/ready": {
		"nnnYnnn",
		"nnnnnnn",
		"nnnnnnn",
		"YnnYnnn",
		"YnnYnnn",
		"YnnYnnn",
		"nnnnnnn",
	},
	"/startup": {
		"nnYYYYn",
		"nnnnnnn",
		"YnYYYYn",
		"YnYYYYn",
		"YnYYYYn",
		"YnYYYYn",
		"nnnnnnn",
	},
}

type fixedStates struct{ producer, streams ComponentState }

func (f fixedStates) ProducerState() ComponentState     { return f.producer }
func (f fixedStates) StreamRunnerState() ComponentState { return f.streams }

func TestProbesFollowUpstreamRules(t *testing.T) {
	a := NewAppServer(nil)
	base := serve(t, a)
	// Before the runner registers its states: still starting.
	for path := range probeTables {
		if code, body, _ := httpGet(t, base+path); code != 500 || body != "" {
			t.Errorf("%s before SetStates: %d %q, want 500 with no body", path, code, body)
		}
	}
	for pi, p := range allStates {
		for si, s := range allStates {
			a.SetStates(fixedStates{p, s})
			for path, table := range probeTables {
				want := 500
				if table[pi][si] == 'Y' {
					want = 204
				}
				code, body, _ := httpGet(t, base+path)
				if code != want || body != "" {
					t.Errorf("%s producer=%s streams=%s: %d %q, want %d", path, p, s, code, body, want)
				}
			}
		}
	}
}

func TestLifecycleTransitions(t *testing.T) {
	l := NewLifecycle()
	steps := []struct {
		to   ComponentState
		ok   bool
		then ComponentState
	}{
		{Stopping, false, Created}, // CREATED cannot go to STOPPING
		{Starting, true, Starting},
		{Started, true, Started},
		{Starting, true, Starting}, // a rebalance
		{Started, true, Started},
		{Created, false, Started},
		{Stopping, true, Stopping},
		{Started, false, Stopping},
		{Stopped, true, Stopped},
		{Failed, false, Stopped}, // final
	}
	for i, st := range steps {
		if ok := l.Transition(st.to); ok != st.ok || l.State() != st.then {
			t.Errorf("step %d: Transition(%s) = %v, state %s; want %v, %s", i, st.to, ok, l.State(), st.ok, st.then)
		}
	}
	var none *Lifecycle
	if none.State() != NotApplicable || none.Transition(Started) {
		t.Error("nil lifecycle is not NOT_APPLICABLE")
	}
	// Runners over lifecycles drive the probes: producers off, pipelines
	// started.
	streams := NewLifecycle()
	a := NewAppServer(nil)
	a.SetStates(Runners{Streams: streams})
	base := serve(t, a)
	if code, _, _ := httpGet(t, base+"/ready"); code != 500 {
		t.Errorf("ready while CREATED: %d", code)
	}
	streams.Transition(Started)
	if code, _, _ := httpGet(t, base+"/ready"); code != 204 {
		t.Errorf("ready while STARTED: %d", code)
	}
	streams.Transition(Failed)
	if code, _, _ := httpGet(t, base+"/live"); code != 500 {
		t.Errorf("live while FAILED: %d", code)
	}
	if got := Failed.String() + " " + ComponentState(42).String(); got != "FAILED UNKNOWN" {
		t.Errorf("names: %s", got)
	}
}

// stringSerde and jsonSerde are the store serdes of the test stores.
type stringSerde struct{}

func (stringSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("not a string: %T", v)
	}
	return []byte(s), nil
}

func (stringSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return string(b), nil
}

type jsonSerde struct{}

func (jsonSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return types.MarshalJSON(v)
}

func (jsonSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return types.DecodeJSON(b)
}

// taskStores is a StoreProvider over real in-memory stores, one per task,
// guarded by the lock that stands for the runtime's processing loop.
type taskStores struct {
	mu     sync.Mutex
	stores map[string][]*store.KeyValue
	fail   error
}

type typedReader struct{ s *store.KeyValue }

func (r typedReader) All(fn func(k, v any) bool) error {
	entries, err := r.s.All()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !fn(e.Key, e.Value) {
			break
		}
	}
	return nil
}

func (r typedReader) Get(key string) (any, error) { return r.s.Get(key) }

func (p *taskStores) KeyValueStores(_ context.Context, name string, fn func([]KeyValueReader) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	ss, ok := p.stores[name]
	if !ok {
		return fmt.Errorf("store %q: %w", name, ErrUnknownStore)
	}
	readers := make([]KeyValueReader, len(ss))
	for i, s := range ss {
		readers[i] = typedReader{s}
	}
	return fn(readers)
}

func newTaskStore(t *testing.T, name string, kvs ...any) *store.KeyValue {
	t.Helper()
	s := store.NewKeyValue(store.NewMemoryKeyValue(name), stringSerde{}, jsonSerde{})
	for i := 0; i < len(kvs); i += 2 {
		if err := s.Put(kvs[i], kvs[i+1]); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	return s
}

func TestKeyValueQueries(t *testing.T) {
	st := types.NewStruct(2)
	st.Set("n", int64(1))
	st.Set("tags", []any{"x", true, 2.5})
	p := &taskStores{stores: map[string][]*store.KeyValue{
		// Two tasks (partitions 0 and 1) hold the store.
		"counts": {
			newTaskStore(t, "counts", "c", int64(3), "a", st, "a/b", nil),
			newTaskStore(t, "counts", "b", "two"),
		},
		"empty": {},
	}}
	a := NewAppServer(nil)
	base := serve(t, a)

	// Before the runner provides its stores: 503, as upstream.
	if code, body, _ := httpGet(t, base+"/state/keyValue/counts/local/all"); code != 503 || body != "503: state stores are not available yet" {
		t.Errorf("before SetStores: %d %q", code, body)
	}
	a.SetStores(p)

	cases := []struct {
		path, want string
		code       int
	}{
		// Each task's store in key order, task by task.
		{"/state/keyValue/counts/local/all", `[{"key":"a","value":{"n":1,"tags":["x",true,2.5]}},{"key":"c","value":3},{"key":"b","value":"two"}]`, 200},
		{"/state/keyValue/counts/all", `[{"key":"a","value":{"n":1,"tags":["x",true,2.5]}},{"key":"c","value":3},{"key":"b","value":"two"}]`, 200},
		{"/state/keyValue/empty/all", `[]`, 200},
		{"/state/keyValue/counts/local/get/b", `{"key":"b","value":"two"}`, 200},
		{"/state/keyValue/counts/get/c", `{"key":"c","value":3}`, 200},
		// A missing key answers null, as upstream's bean with a null value.
		{"/state/keyValue/counts/get/zz", `{"key":"zz","value":null}`, 200},
		// An escaped slash is part of the key (the put of nil deleted it).
		{"/state/keyValue/counts/local/get/a%2Fb", `{"key":"a/b","value":null}`, 200},
		{"/state/keyValue/nope/all", `Could not find store nope of type keyValue`, 404},
		{"/state/keyValue/nope/local/get/k", `Could not find store nope of type keyValue`, 404},
		// counts is a key/value store: not a window store.
		{"/state/windowed/counts/all", `Could not find store counts of type windowed`, 404},
		{"/state/windowed/counts/local/get/k/1700000000000", `Could not find store counts of type windowed`, 404},
		{"/state/windowed/counts/get/k/noon", `400: timestamp "noon" is not a number of milliseconds`, 400},
		{"/state/other/counts/all", "404 page not found\n", 404},
	}
	for _, c := range cases {
		code, body, hdr := httpGet(t, base+c.path)
		if code != c.code || body != c.want {
			t.Errorf("GET %s: %d %s\nwant %d %s", c.path, code, body, c.code, c.want)
		}
		if code == 200 && hdr.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: Content-Type %q", c.path, hdr.Get("Content-Type"))
		}
	}

	resp, err := http.Post(base+"/state/keyValue/counts/all", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}

	// A runtime error (store not queryable during a rebalance, say) is a
	// 500 with upstream's "500: message" text.
	p.fail = errors.New("store counts is rebalancing")
	if code, body, _ := httpGet(t, base+"/state/keyValue/counts/all"); code != 500 || body != "500: store counts is rebalancing" {
		t.Errorf("provider error: %d %q", code, body)
	}
}

func TestUnencodableValueIsAServerError(t *testing.T) {
	a := NewAppServer(nil)
	a.SetStores(readerProvider{typedValues{"k": struct{}{}}})
	base := serve(t, a)
	for _, path := range []string{"/state/keyValue/s/local/all", "/state/keyValue/s/get/k"} {
		if code, body, _ := httpGet(t, base+path); code != 500 || body != "500: value: cannot encode struct {} as JSON" {
			t.Errorf("GET %s: %d %q", path, code, body)
		}
	}
}

// typedValues is a reader over a Go map, for values no serde produces.
type typedValues map[string]any

func (m typedValues) All(fn func(k, v any) bool) error {
	for k, v := range m {
		if !fn(k, v) {
			break
		}
	}
	return nil
}

func (m typedValues) Get(key string) (any, error) { return m[key], nil }

type readerProvider struct{ r KeyValueReader }

func (p readerProvider) KeyValueStores(_ context.Context, _ string, fn func([]KeyValueReader) error) error {
	return fn([]KeyValueReader{p.r})
}

// locatingStores adds instance discovery to taskStores: keys starting with
// "r" live on the remote instance.
type locatingStores struct {
	*taskStores
	remote string
}

func (l *locatingStores) RemoteStoreHosts(string) []string { return []string{l.remote} }

func (l *locatingStores) KeyHost(_, key string) (string, bool, error) {
	if strings.HasPrefix(key, "r") {
		return l.remote, false, nil
	}
	return "", true, nil
}

func TestQueriesAcrossInstances(t *testing.T) {
	remote := NewAppServer(nil)
	remote.SetStores(&taskStores{stores: map[string][]*store.KeyValue{
		"counts": {newTaskStore(t, "counts", "r1", "remote-one", "r/2", int64(2))},
	}})
	remoteBase := serve(t, remote)

	local := NewAppServer(nil)
	local.SetStores(&locatingStores{
		taskStores: &taskStores{stores: map[string][]*store.KeyValue{"counts": {newTaskStore(t, "counts", "l1", "local-one")}}},
		remote:     strings.TrimPrefix(remoteBase, "http://"),
	})
	base := serve(t, local)

	cases := []struct{ path, want string }{
		{"/state/keyValue/counts/all", `[{"key":"l1","value":"local-one"},{"key":"r/2","value":2},{"key":"r1","value":"remote-one"}]`},
		{"/state/keyValue/counts/local/all", `[{"key":"l1","value":"local-one"}]`},
		{"/state/keyValue/counts/get/r1", `{"key":"r1","value":"remote-one"}`},
		{"/state/keyValue/counts/get/r%2F2", `{"key":"r/2","value":2}`},
		{"/state/keyValue/counts/get/l1", `{"key":"l1","value":"local-one"}`},
	}
	for _, c := range cases {
		if code, body, _ := httpGet(t, base+c.path); code != 200 || body != c.want {
			t.Errorf("GET %s: %d %s\nwant %s", c.path, code, body, c.want)
		}
	}

	// An unreachable instance is a 500 naming it.
	down := NewAppServer(nil)
	down.SetStores(&locatingStores{taskStores: &taskStores{stores: map[string][]*store.KeyValue{"counts": {}}}, remote: "127.0.0.1:1"})
	downBase := serve(t, down)
	code, body, _ := httpGet(t, downBase+"/state/keyValue/counts/all")
	if code != 500 || !strings.HasPrefix(body, "500: querying http://127.0.0.1:1/state/keyValue/counts/local/all: ") {
		t.Errorf("remote down: %d %q", code, body)
	}
}
