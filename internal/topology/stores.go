package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
)

// StoreCatalog is the store catalogue of one topology build: every store
// builder the build registers, by store name, with the serdes typed access
// needs. Build creates it (Result.Stores) and hands it to the
// FunctionCompiler with every Compile, so functions reach their stores'
// serdes while the topology is still being built; callers use it after the
// build for assertions and interactive queries. It belongs to its build:
// nothing else registers stores in it, and it is freed with the Result.
type StoreCatalog struct {
	kv       map[string]*store.KeyValueBuilder
	windowed map[string]streams.StoreBuilder // window, session and versioned
}

func newStoreCatalog() *StoreCatalog {
	return &StoreCatalog{kv: map[string]*store.KeyValueBuilder{}, windowed: map[string]streams.StoreBuilder{}}
}

// KeyValue returns the key/value store builder named name, nil when the
// build has none by that name. A nil catalogue has no stores.
func (c *StoreCatalog) KeyValue(name string) *store.KeyValueBuilder {
	if c == nil {
		return nil
	}
	return c.kv[name]
}

// Windowed returns the window, session or versioned store builder named
// name (a *store.WindowBuilder, *store.SessionBuilder or
// *store.VersionedBuilder), nil when the build has none by that name.
func (c *StoreCatalog) Windowed(name string) streams.StoreBuilder {
	if c == nil {
		return nil
	}
	return c.windowed[name]
}

// PythonStore returns the Python view of the store named name, as test
// assertions and queries see it: key/value stores with plain values (a
// timestamped store's timestamps stripped, as TopologyTestDriver's facade
// does), window, session and versioned stores with their own API. A name
// the catalogue does not hold, or st of another kind than its builder, is
// an error.
func (c *StoreCatalog) PythonStore(name string, st streams.StateStore) (python.Store, error) {
	if b := c.KeyValue(name); b != nil {
		typed, err := b.Typed(st)
		if err != nil {
			return nil, err
		}
		return PythonStore(typed), nil
	}
	return c.windowedPythonStore(name, st)
}

func (c *StoreCatalog) addKeyValue(kb *store.KeyValueBuilder) { c.kv[kb.StoreName] = kb }

func (c *StoreCatalog) addWindowed(b streams.StoreBuilder) { c.windowed[b.Name()] = b }

// windowedPythonStore returns the Python view of a window, session or
// versioned store.
func (c *StoreCatalog) windowedPythonStore(name string, st streams.StateStore) (python.Store, error) {
	switch b := c.Windowed(name).(type) {
	case *store.WindowBuilder:
		ws, ok := st.(streams.WindowStore)
		if !ok {
			return nil, fmt.Errorf("store %q is not a window store", name)
		}
		return &pyWindow{windowState: windowState{storeCodec: storeCodec{name: name, ks: b.KeySerde, vs: b.ValueSerde, ts: b.Timestamped}, st: ws}, size: b.WindowSize}, nil
	case *store.SessionBuilder:
		ss, ok := st.(streams.SessionStore)
		if !ok {
			return nil, fmt.Errorf("store %q is not a session store", name)
		}
		return &pySession{name: name, st: ss, ks: b.KeySerde, vs: b.ValueSerde}, nil
	case *store.VersionedBuilder:
		v, err := b.Typed(st)
		if err != nil {
			return nil, err
		}
		return pyVersioned{v}, nil
	}
	return nil, fmt.Errorf("store %q has no builder", name)
}
