package avro

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// Notation type names, as `ksml.notations.<alias>.type` spells them.
const (
	TypeConfluent = "confluent_avro"
	TypeApicurio  = "apicurio_avro"
)

func init() {
	notation.RegisterFactory(TypeConfluent, Create)
	notation.RegisterFactory(TypeApicurio, Create)
}

// Create builds the Avro notation a `ksml.notations` entry (or a built-in
// name) describes: c.Type is confluent_avro or apicurio_avro. The registry
// is c.SchemaRegistry when set, else a client built from the properties:
// schema.registry.url for Confluent, apicurio.registry.url for Apicurio.
// Without either the notation has no registry and fails on first use with
// a message saying so, as upstream's does. Bad settings are errors.
func Create(c notation.Config) (notation.Notation, error) {
	var vendor Vendor
	switch c.Type {
	case TypeConfluent:
		vendor = Confluent
	case TypeApicurio:
		vendor = Apicurio
	default:
		return nil, fmt.Errorf("unknown Avro notation type %q (confluent_avro or apicurio_avro)", c.Type)
	}
	reg := c.SchemaRegistry
	if reg == nil {
		var err error
		if reg, err = registryFromProperties(vendor, c.Properties); err != nil {
			return nil, err
		}
	}
	n, err := NewNotation(c.Name, vendor, reg, NewLoader(c.SchemaDirs...), c.Properties)
	if err != nil {
		return nil, err
	}
	n.log = c.Logger
	return n, nil
}

func registryFromProperties(vendor Vendor, props map[string]any) (schemaregistry.Registry, error) {
	if vendor == Apicurio {
		if err := schemaregistry.RejectApicurioV2(props); err != nil {
			return nil, err
		}
		return schemaregistry.ApicurioFromProperties(props)
	}
	if _, ok := props["schema.registry.url"]; !ok {
		return nil, nil
	}
	cfg, err := schemaregistry.ConfluentConfig(props)
	if err != nil {
		return nil, err
	}
	c, err := schemaregistry.NewConfluent(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}
