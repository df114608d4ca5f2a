package python

import (
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

// Without Options.SchemaMeta, "@type" and "@schema" come from the
// describers registered with types.RegisterSchemaDescriber (the Avro
// notation registers one), so every embedder gets upstream's markers.
func TestRegisteredSchemaDescriberGivesMarkers(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "describers")
	schema := &types.StructSchema{Notation: "test", Name: "io.ksml.Described"}
	types.RegisterSchemaDescriber(func(s *types.StructSchema) (string, *types.Struct, bool) {
		if s != schema {
			return "", nil, false
		}
		return "Described", structOf("type", "struct", "name", "Described"), true
	})
	v := structOf("a", int64(1))
	v.Schema = schema
	markers := define(t, m, FunctionSpec{Name: "markers", Type: "valueTransformer", Expression: src("(value['@type'], value['@schema'])", 1)})
	if got := show(call(t, markers, nil, "k", v)); got != `("Described", {type: "struct", name: "Described"})` {
		t.Errorf("markers: %s", got)
	}
	// A schema no describer knows keeps the fallback markers.
	other := structOf("a", int64(1))
	other.Schema = &types.StructSchema{Notation: "test", Name: "io.ksml.Other"}
	if got := show(call(t, markers, nil, "k", other)); got != `("Other", "io.ksml.Other")` {
		t.Errorf("fallback markers: %s", got)
	}
}
