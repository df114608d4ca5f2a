package testrunner

import (
	"fmt"

	"ksml/internal/notation"
	"ksml/internal/notation/avro"
	csvnotation "ksml/internal/notation/csv"
	jsonschemanotation "ksml/internal/notation/jsonschema"
	protobufnotation "ksml/internal/notation/protobuf"
	xmlnotation "ksml/internal/notation/xml"
	"ksml/internal/schemaregistry"
	"ksml/internal/topology"
	"ksml/internal/types"
)

// avroNotations are the schema-bearing notations the test runner serves.
// All of them speak the Confluent wire format against one in-memory
// registry, as upstream's test runner does (apicurio_avro included).
var avroNotations = []string{"avro", "confluent_avro", "apicurio_avro"}

// testSerdes returns the serdes of one test: binary and json, and the Avro
// notations over a fresh in-memory registry with schemas from schemaDirs.
// The suite's avro streams get their schemas registered under
// <topic>-key / <topic>-value, so registry-only pipeline types resolve.
func testSerdes(schemaDirs []string, suite *Suite) (topology.SerdeProvider, error) {
	reg := notation.NewRegistry()
	mem := schemaregistry.NewMemory()
	loader := avro.NewLoader(schemaDirs...)
	byName := map[string]*avro.Notation{}
	for _, name := range avroNotations {
		n, err := avro.NewNotation(name, avro.Confluent, mem, loader, nil)
		if err != nil {
			return nil, err
		}
		reg.Register(name, n)
		byName[name] = n
	}
	csvnotation.Register(reg, schemaDirs...)
	xmlnotation.Register(reg, schemaDirs...)
	jsonschemanotation.Register(reg, schemaDirs...)
	protobufnotation.Register(reg, schemaDirs...)
	for _, b := range suite.Streams {
		for _, side := range []struct {
			typ   string
			isKey bool
		}{{b.KeyType, true}, {b.ValueType, false}} {
			u, err := types.ParseUserType(side.typ)
			if err != nil {
				continue // reported when the stream's serdes are made
			}
			n, ok := byName[u.Notation]
			if !ok {
				continue
			}
			st, ok := u.Type.(types.StructType)
			if !ok || st.SchemaName == "" {
				continue
			}
			if _, err := n.Preregister(b.Topic, side.isKey, st.SchemaName); err != nil {
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
