package observability

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

// WindowReader reads one local instance of a window store (the store of one
// task) in the data model of package types.
type WindowReader interface {
	// All calls fn for every window in the store's order until fn returns
	// false.
	All(fn func(key types.Windowed, value any) bool) error
	// Get returns the window of key that starts at start, ok false when
	// there is none. key is the text from the URL, converted to the
	// store's key type as its key serde can.
	Get(key string, start int64) (w types.Windowed, value any, ok bool, err error)
}

// WindowStoreProvider is implemented by a StoreProvider that also serves
// window stores (the /state/windowed endpoints answer 404 without it).
type WindowStoreProvider interface {
	// WindowStores calls fn with the local instances of the named window
	// store, as KeyValueStores does for key/value stores; an error
	// wrapping ErrUnknownStore means no window store of that name.
	WindowStores(ctx context.Context, name string, fn func([]WindowReader) error) error
}

// WindowedKeyValue is one window of a windowed state query answer.
type WindowedKeyValue struct {
	Window types.Windowed
	Value  any
}

func windowProvider(w http.ResponseWriter, p StoreProvider, store string) WindowStoreProvider {
	wp, ok := p.(WindowStoreProvider)
	if !ok {
		failKind(w, store, "windowed", fmt.Errorf("store %s: %w", store, ErrUnknownStore))
		return nil
	}
	return wp
}

// instant formats epoch milliseconds as Java's Instant.toString does
// (UTC, fraction only when non-zero), the text upstream's startTime and
// endTime carry.
func instant(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

func appendWindowed(b []byte, e WindowedKeyValue) ([]byte, error) {
	b, err := appendKeyValue(b, KeyValue{e.Window.Key, e.Value})
	if err != nil {
		return b, err
	}
	b = b[:len(b)-1] // reopen the object for the window
	b = append(b, `,"window":{"start":`...)
	b = strconv.AppendInt(b, e.Window.Start, 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, e.Window.End, 10)
	b = append(b, `,"startTime":"`...)
	b = append(b, instant(e.Window.Start)...)
	b = append(b, `","endTime":"`...)
	b = append(b, instant(e.Window.End)...)
	return append(b, `"}}`...), nil
}

func (a *AppServer) readWindowedLocalAll(r *http.Request, p WindowStoreProvider, store string) ([][]byte, error) {
	var out [][]byte
	err := p.WindowStores(r.Context(), store, func(readers []WindowReader) error {
		var err error
		out, err = encodeAll(readers, func(k types.Windowed, v any) ([]byte, error) {
			return appendWindowed(nil, WindowedKeyValue{k, v})
		})
		return err
	})
	return out, err
}

func (a *AppServer) windowedLocalAll(w http.ResponseWriter, r *http.Request) {
	a.windowedEntries(w, r, true)
}

func (a *AppServer) windowedAll(w http.ResponseWriter, r *http.Request) {
	a.windowedEntries(w, r, false)
}

func (a *AppServer) windowedEntries(w http.ResponseWriter, r *http.Request, localOnly bool) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store := r.PathValue("store")
	wp := windowProvider(w, p, store)
	if wp == nil {
		return
	}
	a.serveAll(w, r, p, store, "windowed", localOnly,
		func() ([][]byte, error) { return a.readWindowedLocalAll(r, wp, store) },
		func(err error) { failKind(w, store, "windowed", err) })
}

// windowParams reads the key and the window start from the URL; a
// timestamp that is not a number answers 400.
func windowParams(w http.ResponseWriter, r *http.Request) (store, key string, ts int64, ok bool) {
	store, key = r.PathValue("store"), r.PathValue("key")
	ts, err := strconv.ParseInt(r.PathValue("timestamp"), 10, 64)
	if err != nil {
		plain(w, http.StatusBadRequest, fmt.Sprintf("400: timestamp %q is not a number of milliseconds", r.PathValue("timestamp")))
		return "", "", 0, false
	}
	return store, key, ts, true
}

// readWindowedLocalGet returns the window of key starting at ts from the
// first local store that has it (nil when none does).
func (a *AppServer) readWindowedLocalGet(r *http.Request, p WindowStoreProvider, store, key string, ts int64) ([]byte, error) {
	var out []byte
	err := p.WindowStores(r.Context(), store, func(readers []WindowReader) error {
		for _, rd := range readers {
			win, v, found, err := rd.Get(key, ts)
			if err != nil {
				return err
			}
			if found {
				out, err = appendWindowed(nil, WindowedKeyValue{win, v})
				return err
			}
		}
		return nil
	})
	return out, err
}

func (a *AppServer) windowedLocalGet(w http.ResponseWriter, r *http.Request) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store, key, ts, ok := windowParams(w, r)
	if !ok {
		return
	}
	wp := windowProvider(w, p, store)
	if wp == nil {
		return
	}
	a.answerWindowedGet(w, r, wp, store, key, ts)
}

func (a *AppServer) answerWindowedGet(w http.ResponseWriter, r *http.Request, wp WindowStoreProvider, store, key string, ts int64) {
	b, err := a.readWindowedLocalGet(r, wp, store, key, ts)
	if err != nil {
		failKind(w, store, "windowed", err)
		return
	}
	if b == nil {
		// Upstream's resource returns null, which JAX-RS answers with 204.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, b)
}

func (a *AppServer) windowedGet(w http.ResponseWriter, r *http.Request) {
	p := a.provider(w)
	if p == nil {
		return
	}
	store, key, ts, ok := windowParams(w, r)
	if !ok {
		return
	}
	wp := windowProvider(w, p, store)
	if wp == nil {
		return
	}
	if loc, ok := p.(StoreLocator); ok {
		host, local, err := loc.KeyHost(store, key)
		if err != nil {
			failKind(w, store, "windowed", err)
			return
		}
		if !local {
			u := "http://" + host + "/state/windowed/" + url.PathEscape(store) + "/local/get/" +
				url.PathEscape(key) + "/" + strconv.FormatInt(ts, 10)
			var remote json.RawMessage
			if err := a.fetch(r.Context(), u, &remote); err != nil {
				plain(w, http.StatusInternalServerError, "500: "+err.Error())
				return
			}
			writeJSON(w, remote)
			return
		}
	}
	a.answerWindowedGet(w, r, wp, store, key, ts)
}
