package observability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

// ErrUnknownStore is returned (wrapped) by a StoreProvider when no local
// store of the name and kind exists; the endpoints answer 404.
var ErrUnknownStore = errors.New("unknown state store")

// KeyValueReader reads one local instance of a key/value store (the store
// of one task) in the data model of package types.
type KeyValueReader interface {
	// All calls fn for every entry in key order until fn returns false.
	All(fn func(key, value any) bool) error
	// Get returns the value of key, nil when absent. key is the text from
	// the URL; the reader converts it to the store's key type as its key
	// serde can (a string key is used as is).
	Get(key string) (any, error)
}

// StoreProvider gives access to the local stores of the running tasks.
//
// The endpoints run on HTTP goroutines while tasks process records, so the
// provider decides how a query is made safe: it may run fn on the goroutine
// that owns the tasks, or hold the lock that serializes processing. fn
// must not be retained after it returns.
type StoreProvider interface {
	// KeyValueStores calls fn with the local instances of the named
	// key/value store, one per task that holds it (possibly none while
	// partitions are unassigned). It returns an error wrapping
	// ErrUnknownStore when the application has no key/value store of that
	// name, and otherwise fn's error.
	KeyValueStores(ctx context.Context, name string, fn func([]KeyValueReader) error) error
}

// StoreLocator is implemented by a StoreProvider that knows the other
// instances of the application (upstream: application.server). With it,
// /all merges the other instances' /local/all and /get forwards to the
// instance that owns the key.
type StoreLocator interface {
	// RemoteStoreHosts returns host:port of every other instance that
	// hosts the store.
	RemoteStoreHosts(store string) []string
	// KeyHost returns host:port of the instance that owns key in store;
	// local is true when that is this instance.
	KeyHost(store, key string) (host string, local bool, err error)
}

// KeyValue is one entry of a state query answer.
type KeyValue struct {
	Key   any
	Value any
}

// AppServer serves the health probes and state queries, upstream's
// ksml-query REST API:
//
//	GET /live, /ready, /startup                       204 or 500
//	GET /state/keyValue/{store}/all                    all entries, this and other instances
//	GET /state/keyValue/{store}/local/all              this instance's entries
//	GET /state/keyValue/{store}/get/{key}              {"key":..,"value":..} from the owning instance
//	GET /state/keyValue/{store}/local/get/{key}        the same, local only
//	GET /state/windowed/{store}/all                    all windows, this and other instances
//	GET /state/windowed/{store}/local/all              this instance's windows
//	GET /state/windowed/{store}/get/{key}/{ts}         the window of key starting at ts (ms), from the owning instance
//	GET /state/windowed/{store}/local/get/{key}/{ts}   the same, local only; 204 when there is none
//
// Windowed entries are {"key":..,"value":..,"window":{"start":ms,"end":ms,
// "startTime":"RFC 3339","endTime":"RFC 3339"}}.
//
// Before SetStates is called the probes answer 500 (still starting), and
// before SetStores the state queries answer 503, as upstream does before
// its querier is set.
type AppServer struct {
	states atomic.Pointer[StateSource]
	stores atomic.Pointer[StoreProvider]
	log    *slog.Logger
	client *http.Client
	mux    *http.ServeMux
}

// NewAppServer returns the handler; logger nil discards logs.
func NewAppServer(logger *slog.Logger) *AppServer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &AppServer{log: logger, client: &http.Client{Timeout: 10 * time.Second}, mux: http.NewServeMux()}
	st := func() StateSource {
		if p := a.states.Load(); p != nil {
			return *p
		}
		return nil
	}
	a.mux.Handle("GET /live", healthHandler(st, Live))
	a.mux.Handle("GET /ready", healthHandler(st, Ready))
	a.mux.Handle("GET /startup", healthHandler(st, StartupDone))
	a.mux.HandleFunc("GET /state/keyValue/{store}/all", a.all)
	a.mux.HandleFunc("GET /state/keyValue/{store}/local/all", a.localAll)
	a.mux.HandleFunc("GET /state/keyValue/{store}/get/{key}", a.get)
	a.mux.HandleFunc("GET /state/keyValue/{store}/local/get/{key}", a.localGet)
	a.mux.HandleFunc("GET /state/windowed/{store}/all", a.windowedAll)
	a.mux.HandleFunc("GET /state/windowed/{store}/local/all", a.windowedLocalAll)
	a.mux.HandleFunc("GET /state/windowed/{store}/get/{key}/{timestamp}", a.windowedGet)
	a.mux.HandleFunc("GET /state/windowed/{store}/local/get/{key}/{timestamp}", a.windowedLocalGet)
	return a
}

// SetStates sets the runner states the probes report.
func (a *AppServer) SetStates(s StateSource) { a.states.Store(&s) }

// States returns what SetStates set, nil before.
func (a *AppServer) States() StateSource {
	if p := a.states.Load(); p != nil {
		return *p
	}
	return nil
}

// SetStores sets the provider of local stores.
func (a *AppServer) SetStores(p StoreProvider) { a.stores.Store(&p) }

// Handle serves another handler beside the probes and state queries (the
// web console). It must be called before the server takes requests;
// patterns are http.ServeMux's.
func (a *AppServer) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (a *AppServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func (a *AppServer) provider(w http.ResponseWriter) StoreProvider {
	if p := a.stores.Load(); p != nil && *p != nil {
		return *p
	}
	plain(w, http.StatusServiceUnavailable, "503: state stores are not available yet")
	return nil
}

// fail answers a provider error: 404 for an unknown store, otherwise 500
// with upstream's "500: message" text.
func fail(w http.ResponseWriter, store string, err error) {
	failKind(w, store, "keyValue", err)
}

func failKind(w http.ResponseWriter, store, kind string, err error) {
	if errors.Is(err, ErrUnknownStore) {
		plain(w, http.StatusNotFound, fmt.Sprintf("Could not find store %s of type %s", store, kind))
		return
	}
	plain(w, http.StatusInternalServerError, "500: "+err.Error())
}

// writeEntries writes encoded {"key":..,"value":..} objects as a JSON
// array.
func writeEntries(w http.ResponseWriter, entries [][]byte) {
	n := 2
	for _, e := range entries {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	b = append(b, ']')
	writeJSON(w, b)
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func appendKeyValue(b []byte, kv KeyValue) ([]byte, error) {
	b = append(b, `{"key":`...)
	b, err := types.AppendJSON(b, kv.Key)
	if err != nil {
		return b, fmt.Errorf("key: %w", err)
	}
	b = append(b, `,"value":`...)
	if b, err = types.AppendJSON(b, kv.Value); err != nil {
		return b, fmt.Errorf("value: %w", err)
	}
	return append(b, '}'), nil
}

// readLocalAll returns the encoded entries of every local instance of the
// store, store by store (Kafka Streams' composite store iterates the same
// way: not merged across tasks).
func (a *AppServer) readLocalAll(r *http.Request, p StoreProvider, store string) ([][]byte, error) {
	var out [][]byte
	err := p.KeyValueStores(r.Context(), store, func(readers []KeyValueReader) error {
		var err error
		out, err = encodeAll(readers, func(k, v any) ([]byte, error) { return appendKeyValue(nil, KeyValue{k, v}) })
		return err
	})
	return out, err
}

// encodeAll encodes every entry of every reader, reader by reader; the
// first error of a read or an encoding ends it.
func encodeAll[K any, R interface {
	All(fn func(key K, value any) bool) error
}](readers []R, encode func(key K, value any) ([]byte, error)) ([][]byte, error) {
	var out [][]byte
	for _, rd := range readers {
		var encErr error
		if err := rd.All(func(k K, v any) bool {
			var b []byte
			b, encErr = encode(k, v)
			out = append(out, b)
			return encErr == nil
		}); err != nil {
			return out, err
		}
		if encErr != nil {
			return out, encErr
		}
	}
	return out, nil
}

func (a *AppServer) localAll(w http.ResponseWriter, r *http.Request) { a.keyValueAll(w, r, true) }

func (a *AppServer) all(w http.ResponseWriter, r *http.Request) { a.keyValueAll(w, r, false) }

func (a *AppServer) keyValueAll(w http.ResponseWriter, r *http.Request, localOnly bool) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store := r.PathValue("store")
	a.serveAll(w, r, p, store, "keyValue", localOnly,
		func() ([][]byte, error) { return a.readLocalAll(r, p, store) },
		func(err error) { fail(w, store, err) })
}

// serveAll answers an all-entries query of a store of kind (the URL's
// keyValue or windowed): the entries read reads here and, unless localOnly,
// those of the other instances hosting the store, fetched from their
// /state/<kind>/<store>/local/all and passed through unchanged. A read
// error is answered by failed; a failed fetch with 500.
func (a *AppServer) serveAll(w http.ResponseWriter, r *http.Request, p StoreProvider, store, kind string, localOnly bool,
	read func() ([][]byte, error), failed func(error)) {
	entries, err := read()
	if err != nil {
		failed(err)
		return
	}
	if loc, ok := p.(StoreLocator); ok && !localOnly {
		for _, host := range loc.RemoteStoreHosts(store) {
			u := "http://" + host + "/state/" + kind + "/" + url.PathEscape(store) + "/local/all"
			var remote []json.RawMessage
			if err := a.fetch(r.Context(), u, &remote); err != nil {
				plain(w, http.StatusInternalServerError, "500: "+err.Error())
				return
			}
			for _, e := range remote {
				entries = append(entries, e)
			}
		}
	}
	writeEntries(w, entries)
}

func (a *AppServer) readLocalGet(r *http.Request, p StoreProvider, store, key string) (KeyValue, error) {
	kv := KeyValue{Key: key}
	err := p.KeyValueStores(r.Context(), store, func(readers []KeyValueReader) error {
		// The first store that has the key answers, as Kafka Streams'
		// composite store does.
		for _, rd := range readers {
			v, err := rd.Get(key)
			if err != nil {
				return err
			}
			if v != nil {
				kv.Value = v
				return nil
			}
		}
		return nil
	})
	return kv, err
}

func (a *AppServer) localGet(w http.ResponseWriter, r *http.Request) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store, key := r.PathValue("store"), r.PathValue("key")
	kv, err := a.readLocalGet(r, p, store, key)
	if err != nil {
		fail(w, store, err)
		return
	}
	a.writeKeyValue(w, kv)
}

func (a *AppServer) get(w http.ResponseWriter, r *http.Request) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store, key := r.PathValue("store"), r.PathValue("key")
	if loc, ok := p.(StoreLocator); ok {
		host, local, err := loc.KeyHost(store, key)
		if err != nil {
			fail(w, store, err)
			return
		}
		if !local {
			u := "http://" + host + "/state/keyValue/" + url.PathEscape(store) + "/local/get/" + url.PathEscape(key)
			var remote json.RawMessage
			if err := a.fetch(r.Context(), u, &remote); err != nil {
				plain(w, http.StatusInternalServerError, "500: "+err.Error())
				return
			}
			writeJSON(w, remote)
			return
		}
	}
	kv, err := a.readLocalGet(r, p, store, key)
	if err != nil {
		fail(w, store, err)
		return
	}
	a.writeKeyValue(w, kv)
}

func (a *AppServer) writeKeyValue(w http.ResponseWriter, kv KeyValue) {
	b, err := appendKeyValue(nil, kv)
	if err != nil {
		plain(w, http.StatusInternalServerError, "500: "+err.Error())
		return
	}
	writeJSON(w, b)
}

// fetch GETs a JSON answer of another instance into v.
func (a *AppServer) fetch(ctx context.Context, u string, v any) error {
	a.log.Debug("querying another instance", "url", u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("querying %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("querying %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("querying %s: %s: %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("querying %s: invalid answer: %w", u, err)
	}
	return nil
}
