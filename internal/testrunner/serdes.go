package testrunner

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/ksml-dev/ksml/internal/notation/avro"
	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/topology"
	"github.com/ksml-dev/ksml/internal/types"
)

// avroNotations are the schema-bearing notations the test runner serves.
// All of them speak the Confluent wire format against one in-memory
// registry, as upstream's test runner does (apicurio_avro included).
var avroNotations = environment.TestRunnerNames

// testSerdes returns the serdes of one test, from the one notation
// environment `ksml run` uses too: the Avro notations all speak the
// Confluent wire format over a fresh in-memory registry, as upstream's test
// runner does with its mock registry, with schemas from schemaDirs and
// warnings to logger. The
// suite's avro streams get their schemas registered under <topic>-key /
// <topic>-value, so registry-only pipeline types resolve.
func testSerdes(schemaDirs []string, suite *Suite, logger *slog.Logger) (topology.SerdeProvider, error) {
	reg, err := environment.New(environment.Config{Notations: environment.TestRunnerNotations(schemaregistry.NewMemory()),
		SchemaDirs: schemaDirs, Logger: logger})
	if err != nil {
		return nil, err
	}
	for _, b := range suite.Streams {
		for _, side := range []struct {
			typ   string
			isKey bool
		}{{b.KeyType, true}, {b.ValueType, false}} {
			u, err := types.ParseUserType(side.typ)
			if err != nil || !slices.Contains(avroNotations, u.Notation) {
				continue // a bad type is reported when the stream's serdes are made
			}
			st, ok := u.Type.(types.StructType)
			if !ok || st.SchemaName == "" {
				continue
			}
			n, err := reg.Lookup(u.Notation)
			if err != nil {
				return nil, err
			}
			if _, err := n.(*avro.Notation).Preregister(b.Topic, side.isKey, st.SchemaName); err != nil {
				return nil, fmt.Errorf("stream '%s': registering schema %s: %w", b.Key, st.SchemaName, err)
			}
		}
	}
	return topology.NotationSerdes{Registry: reg}, nil
}

// checkBindingType rejects a bare schema-bearing notation on a suite
// stream: without a real registry there is nothing to resolve it from.
func checkBindingType(b *StreamBinding, typ string, u types.UserType) error {
	if nt, ok := u.Type.(types.NotationType); ok {
		for _, n := range avroNotations {
			if nt.Notation == n {
				return fmt.Errorf("stream '%s': type '%s' needs a schema name (%s:SchemaName); the test runner has no schema registry to resolve a bare %s type", b.Key, typ, n, n)
			}
		}
	}
	return nil
}
