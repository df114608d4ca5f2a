package store

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Window is a typed view of a window store: keys and values in the data
// model, windows as types.Windowed. Interactive queries (the application
// server's /state/windowed/...) and test assertions read stores through it.
type Window struct {
	inner       streams.WindowStore
	keySerde    streams.Serde
	valueSerde  streams.Serde
	size        int64
	timestamped bool
}

// WindowedEntry is one window of a store.
type WindowedEntry struct {
	Key   types.Windowed
	Value any
}

// Typed returns a typed view of a store built by b.
func (b *WindowBuilder) Typed(s streams.StateStore) (*Window, error) {
	ws, ok := s.(streams.WindowStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a window store", s.Name())
	}
	return &Window{inner: ws, keySerde: b.KeySerde, valueSerde: b.ValueSerde, size: b.WindowSize, timestamped: b.Timestamped}, nil
}

// All returns every window in the store.
func (w *Window) All() ([]WindowedEntry, error) { return w.fetch(nil, nil, -1<<63, 1<<63-1) }

// Fetch returns the windows of key that start in [from, to].
func (w *Window) Fetch(key any, from, to int64) ([]WindowedEntry, error) {
	kb, err := w.keySerde.Serialize(w.inner.Name(), nil, key)
	if err != nil {
		return nil, fmt.Errorf("store %q: serializing key: %w", w.inner.Name(), err)
	}
	return w.fetch(kb, kb, from, to)
}

func (w *Window) fetch(kf, kt []byte, from, to int64) ([]WindowedEntry, error) {
	var out []WindowedEntry
	var ferr error
	err := w.inner.FetchRange(kf, kt, from, to, false, func(kb []byte, start int64, vb []byte) bool {
		k, err := w.keySerde.Deserialize(w.inner.Name(), nil, kb)
		if err != nil {
			ferr = fmt.Errorf("store %q: deserializing key: %w", w.inner.Name(), err)
			return false
		}
		if w.timestamped && len(vb) >= 8 {
			vb = vb[8:]
		}
		v, err := w.valueSerde.Deserialize(w.inner.Name(), nil, vb)
		if err != nil {
			ferr = fmt.Errorf("store %q: deserializing value: %w", w.inner.Name(), err)
			return false
		}
		out = append(out, WindowedEntry{Key: types.Windowed{Key: k, Start: start, End: start + w.size}, Value: v})
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, ferr
}

// Session is a typed view of a session store.
type Session struct {
	inner      streams.SessionStore
	keySerde   streams.Serde
	valueSerde streams.Serde
}

// Typed returns a typed view of a store built by b.
func (b *SessionBuilder) Typed(s streams.StateStore) (*Session, error) {
	ss, ok := s.(streams.SessionStore)
	if !ok {
		return nil, fmt.Errorf("store %q is not a session store", s.Name())
	}
	return &Session{inner: ss, keySerde: b.KeySerde, valueSerde: b.ValueSerde}, nil
}

// All returns every session in the store.
func (s *Session) All() ([]WindowedEntry, error) {
	var out []WindowedEntry
	var ferr error
	err := s.inner.FindSessions(nil, nil, -1<<63, 1<<63-1, false, func(kb []byte, start, end int64, vb []byte) bool {
		k, err := s.keySerde.Deserialize(s.inner.Name(), nil, kb)
		if err != nil {
			ferr = fmt.Errorf("store %q: deserializing key: %w", s.inner.Name(), err)
			return false
		}
		v, err := s.valueSerde.Deserialize(s.inner.Name(), nil, vb)
		if err != nil {
			ferr = fmt.Errorf("store %q: deserializing value: %w", s.inner.Name(), err)
			return false
		}
		out = append(out, WindowedEntry{Key: types.Windowed{Key: k, Start: start, End: end}, Value: v})
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, ferr
}
