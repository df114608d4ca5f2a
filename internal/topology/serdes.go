package topology

import (
	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// ValueConverter is implemented by serde providers that can convert values
// between declared types (convertKey, convertValue, convertKeyValue). A
// provider without it converts by serializing in the source type and
// reading back in the target type.
type ValueConverter interface {
	Convert(v any, from, to types.UserType) (any, error)
}

// NotationSerdes serves serdes and conversions from a notation registry.
type NotationSerdes struct{ Registry *notation.Registry }

// DefaultSerdes returns serdes for the notations that need no
// configuration (binary, its alias default, and json).
func DefaultSerdes() NotationSerdes { return NotationSerdes{Registry: notation.NewRegistry()} }

// Serde implements SerdeProvider.
func (n NotationSerdes) Serde(t types.UserType, isKey bool) (streams.Serde, error) {
	return n.Registry.Serde(t, isKey)
}

// Convert implements ValueConverter.
func (n NotationSerdes) Convert(v any, from, to types.UserType) (any, error) {
	return n.Registry.Convert(v, from, to)
}
