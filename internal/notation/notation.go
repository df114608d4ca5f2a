// Package notation turns data-model values into record bytes and back.
//
// A Notation is a serialization format known by name (binary, json, and
// later avro, csv, xml, protobuf, jsonschema); it hands out a Serde per data
// type. A Registry holds the notations of one runner by name, with aliases
// such as "default" -> "binary" or a configured "avro" -> confluent_avro
// instance, and converts values between notations for convertKey and
// convertValue. Packages for further notations implement Notation and
// register themselves; nothing here needs to change for them.
//
// Serdes never panic on bad input: a payload that does not decode is an error
// naming what failed, a value that does not fit the serde's type is an error
// naming the value and the type.
package notation

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Header is a Kafka record header, as the engine carries it.
type Header = streams.Header

// Serde is the one serde contract, the engine's (streams.Serde): bound to
// the key or value side when a notation hands it out, with Kafka's
// serialize(topic, headers, data) shape. Notations return it; nothing else
// in ksml defines a serde interface.
type Serde = streams.Serde

// Notation is a serialization format.
type Notation interface {
	// Name is the notation's own name (binary, json, confluent_avro, ...),
	// used in error messages.
	Name() string
	// Info tells the type parser what the notation holds when named alone
	// and whether it takes schema names.
	Info() types.NotationInfo
	// Serde returns a serde for values of type t on the key (isKey) or
	// value side, or an error when the notation cannot hold t.
	Serde(t types.DataType, isKey bool) (Serde, error)
}

// Converter is implemented by notations that can convert values to and from
// their own forms, such as json turning a struct into JSON text and back. It
// runs before the generic conversion (types.Convert) in Registry.Convert.
type Converter interface {
	// ConvertValue converts v to type to. ok is false when the notation has
	// nothing to contribute; err is set when it should have but failed.
	ConvertValue(v any, to types.DataType) (out any, ok bool, err error)
}

// UnavailableError is a notation name that is not registered.
type UnavailableError struct {
	Name  string
	Known []string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("notation %q is not available (available: %s)", e.Name, strings.Join(e.Known, ", "))
}

// Registry holds notations by name. It is safe for concurrent use; register
// everything before serdes are created.
type Registry struct {
	mu        sync.RWMutex
	notations map[string]Notation
	aliases   map[string]string
	onUse     map[string]*useHook // by registered name
}

// useHook runs once, when a serde of its notation is first handed out.
type useHook struct {
	once sync.Once
	fn   func()
}

// NewRegistry returns a registry with the notations that need no
// configuration: binary (also named "default", the notation of types written
// without one) and json.
func NewRegistry() *Registry {
	r := &Registry{notations: map[string]Notation{}, aliases: map[string]string{}, onUse: map[string]*useHook{}}
	r.Register("binary", Binary{})
	r.Register("json", JSON{})
	r.Alias(types.DefaultNotation, "binary")
	return r
}

// Register makes n available under name, replacing what was there.
func (r *Registry) Register(name string, n Notation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notations[name] = n
	delete(r.aliases, name)
}

// OnFirstUse makes fn run once, the first time a serde of the notation
// registered as name is handed out (through any alias). It lets a notation
// registered just in case, such as upstream's fallback `avro`, warn only
// when a definition uses it.
func (r *Registry) OnFirstUse(name string, fn func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onUse[name] = &useHook{fn: fn}
}

// Alias makes name refer to the notation registered as target (which may be
// registered later). Aliases do not chain beyond a few steps; a cycle is
// reported by Lookup.
func (r *Registry) Alias(name, target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aliases[name] = target
	delete(r.notations, name)
}

// Lookup returns the notation registered as name, following aliases. The
// error is an *UnavailableError listing what is available.
func (r *Registry) Lookup(name string) (Notation, error) {
	n, _, err := r.lookup(name)
	return n, err
}

// lookup is Lookup also returning the name the notation is registered as.
func (r *Registry) lookup(name string) (Notation, string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := name
	for range 8 {
		if n, ok := r.notations[name]; ok {
			return n, name, nil
		}
		target, ok := r.aliases[name]
		if !ok {
			break
		}
		name = target
	}
	return nil, "", &UnavailableError{Name: seen, Known: r.namesLocked()}
}

// Names returns the registered names and aliases, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.namesLocked()
}

func (r *Registry) namesLocked() []string {
	out := make([]string, 0, len(r.notations)+len(r.aliases))
	for n := range r.notations {
		out = append(out, n)
	}
	for n := range r.aliases {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TypeInfo answers the type parser for the registered notations; use it as
// types.Parser{Notation: reg.TypeInfo} so configured aliases parse. Names
// that are built-in but not registered still parse (their absence is reported
// when a serde is asked for, naming the notation).
func (r *Registry) TypeInfo(name string) (types.NotationInfo, bool) {
	if n, err := r.Lookup(name); err == nil {
		return n.Info(), true
	}
	return types.BuiltinNotation(name)
}

// Serde returns the serde for a declared type. Primitives (and enums) use the
// binary notation's Kafka serializations whatever the notation, as upstream
// falls back to the default notation for them; everything else goes to the
// type's notation.
func (r *Registry) Serde(ut types.UserType, isKey bool) (Serde, error) {
	name := ut.Notation
	if name == "" {
		name = types.DefaultNotation
	}
	switch ut.Type.(type) {
	case types.Primitive, types.EnumType:
		name = types.DefaultNotation
	}
	n, registered, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	hook := r.onUse[registered]
	r.mu.RUnlock()
	if hook != nil {
		hook.once.Do(hook.fn)
	}
	s, err := n.Serde(ut.Type, isKey)
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", ut, err)
	}
	return s, nil
}

// Convert converts v, declared as type from, to type to, as convertKey,
// convertValue and producers do: the target notation's converter first, then
// the source notation's, then the generic conversion (types.Convert). A
// value already of the target type passes unchanged.
func (r *Registry) Convert(v any, from, to types.UserType) (any, error) {
	if _, ok := to.Type.(types.AnyType); ok || to.Type == nil {
		return v, nil
	}
	for _, name := range [2]string{to.Notation, from.Notation} {
		if name == "" {
			continue
		}
		n, err := r.Lookup(name)
		if err != nil {
			continue // an unavailable notation has no converter; serde creation reports it
		}
		c, ok := n.(Converter)
		if !ok {
			continue
		}
		out, ok, err := c.ConvertValue(v, to.Type)
		if err != nil {
			return nil, err
		}
		if ok {
			return out, nil
		}
	}
	return types.Convert(v, to.Type)
}

// Config is what a configured notation (an entry of the runner config's
// ksml.notations) is created from.
type Config struct {
	// Name is the name types use, e.g. "avro" in avro:SensorData.
	Name string
	// Type is the implementation, e.g. "confluent_avro".
	Type string
	// Properties are the notation's config merged over its schema
	// registry's config; never nil.
	Properties map[string]any
	// SchemaRegistry is the registry client, nil when none is configured.
	SchemaRegistry schemaregistry.Registry
	// SchemaDirs are where schema files (SensorData.avsc) are looked up.
	SchemaDirs []string
	// Logger receives the notation's warnings (about values read, say);
	// nil drops them.
	Logger *slog.Logger
}

// Factory creates a notation instance from its configuration. It fails when
// the configuration is unusable (a registry-backed notation without a
// registry, say), naming the problem.
type Factory func(Config) (Notation, error)

var (
	factoriesMu sync.RWMutex
	factories   = map[string]Factory{
		"binary": func(Config) (Notation, error) { return Binary{}, nil },
		"json":   func(Config) (Notation, error) { return JSON{}, nil },
	}
)

// RegisterFactory makes a notation implementation available to Configure
// under typ (e.g. "confluent_avro"). Notation packages call it from init.
func RegisterFactory(typ string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	factories[typ] = f
}

// Configure creates the notation cfg describes and registers it under
// cfg.Name. An implementation type nobody registered is an error naming it
// and listing the known ones.
func (r *Registry) Configure(cfg Config) error {
	factoriesMu.RLock()
	f, ok := factories[cfg.Type]
	known := make([]string, 0, len(factories))
	for k := range factories {
		known = append(known, k)
	}
	factoriesMu.RUnlock()
	if !ok {
		sort.Strings(known)
		return fmt.Errorf("notation %q: type %q is not available (available: %s)", cfg.Name, cfg.Type, strings.Join(known, ", "))
	}
	if cfg.Properties == nil {
		cfg.Properties = map[string]any{}
	}
	n, err := f(cfg)
	if err != nil {
		return fmt.Errorf("notation %q (%s): %w", cfg.Name, cfg.Type, err)
	}
	r.Register(cfg.Name, n)
	return nil
}

// SchemaResolver is implemented by notations whose struct types name a
// schema (avro:SensorData). It lets a value built outside a serde, such as
// a Python function's result, carry the schema its declared type names, as
// a value read from a topic does.
type SchemaResolver interface {
	// StructSchema returns the schema t names. It fails when the schema
	// cannot be loaded or is not a record.
	StructSchema(t types.StructType) (*types.StructSchema, error)
}

// StructSchema returns the schema a struct type names through its
// notation. ok is false when t names no schema or its notation cannot
// resolve one; err is set when it should have but failed.
func (r *Registry) StructSchema(t types.StructType) (s *types.StructSchema, ok bool, err error) {
	if t.Schema != nil {
		return t.Schema, true, nil
	}
	if t.SchemaName == "" || t.Notation == "" {
		return nil, false, nil
	}
	n, err := r.Lookup(t.Notation)
	if err != nil {
		return nil, false, nil
	}
	sr, isResolver := n.(SchemaResolver)
	if !isResolver {
		return nil, false, nil
	}
	s, err = sr.StructSchema(t)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}
