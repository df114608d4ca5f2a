package topology

import (
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// storeSerde returns the serde of a store's key or value type. A store
// declared without that type holds whatever functions put in it; as
// upstream (whose binary notation hands unknown types to its JSON serde),
// such values are kept as JSON, so a struct put in comes back a struct. The
// binary notation's own unknown-type serde reads raw bytes back, which suits
// topics written by others but loses every value a function stored.
func (b *builder) storeSerde(t types.UserType, isKey bool) (streams.Serde, error) {
	if _, unknown := t.Type.(types.AnyType); unknown || t.Type == nil {
		if t.Notation == "" || t.Notation == types.DefaultNotation || t.Notation == "binary" {
			t = types.UserType{Notation: "json", Type: types.Any}
		}
	}
	return b.opts.Serdes.Serde(t, isKey)
}
