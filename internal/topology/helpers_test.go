package topology

import (
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// permissiveSerdes serves every notation it does not know as json so
// schema notations do not stop a structural test.
type permissiveSerdes struct{}

func (permissiveSerdes) Serde(t types.UserType, isKey bool) (streams.Serde, error) {
	if s, err := DefaultSerdes().Serde(t, isKey); err == nil {
		return s, nil
	}
	u, _ := types.ParseUserType("json")
	return DefaultSerdes().Serde(u, isKey)
}
