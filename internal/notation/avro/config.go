package avro

import (
	"fmt"
	"log/slog"

	"ksml/internal/notation"
	"ksml/internal/schemaregistry"
)

// Notation type names, as `ksml.notations.<alias>.type` spells them.
const (
	TypeConfluent = "confluent_avro"
	TypeApicurio  = "apicurio_avro"
)

// IsAvroType reports whether a `ksml.notations` type is one of this
// package's.
func IsAvroType(typ string) bool { return typ == TypeConfluent || typ == TypeApicurio }

// MergeConfig merges serde properties as upstream's runner does: the Kafka
// configuration first, then the referenced schema registry's `config`, then
// the notation's own `config`; later maps win. Nil maps are skipped.
func MergeConfig(layers ...map[string]string) map[string]any {
	out := map[string]any{}
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// Create builds a notation of type typ (confluent_avro or apicurio_avro)
// registered as name, from merged serde properties (see MergeConfig). The
// registry client is created from the properties: schema.registry.url for
// Confluent, apicurio.registry.url for Apicurio. Without a URL the notation
// has no registry and fails on first use with a message saying so, as
// upstream's does. Bad settings are errors.
func Create(name, typ string, props map[string]any, loader *Loader) (*Notation, error) {
	var (
		reg    schemaregistry.Registry
		vendor Vendor
	)
	switch typ {
	case TypeConfluent:
		vendor = Confluent
		if _, ok := props["schema.registry.url"]; ok {
			cfg, err := schemaregistry.ConfluentConfig(props)
			if err != nil {
				return nil, fmt.Errorf("notation %s: %w", name, err)
			}
			c, err := schemaregistry.NewConfluent(cfg)
			if err != nil {
				return nil, fmt.Errorf("notation %s: %w", name, err)
			}
			reg = c
		}
	case TypeApicurio:
		vendor = Apicurio
		if err := schemaregistry.RejectApicurioV2(props); err != nil {
			return nil, fmt.Errorf("notation %s: %w", name, err)
		}
		var err error
		if reg, err = schemaregistry.ApicurioFromProperties(props); err != nil {
			return nil, fmt.Errorf("notation %s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("notation %s: unknown Avro notation type %q (confluent_avro or apicurio_avro)", name, typ)
	}
	return NewNotation(name, vendor, reg, loader, props)
}

// NotationConfig is one `ksml.notations.<alias>` entry.
type NotationConfig struct {
	Name           string // the alias used in types
	Type           string
	SchemaRegistry string // a key of ksml.schemaRegistries, or ""
	Config         map[string]string
}

// RegisterRunnerNotations registers the Avro notations of a runner config in
// reg, as upstream's runner does: confluent_avro and apicurio_avro built from
// the Kafka configuration; every `ksml.notations` alias whose type is one of
// them, built from the Kafka, schema registry and notation configs merged;
// and, when `ksml.notations` is empty, `avro` as Confluent Avro (upstream's
// deprecated fallback, with its warning). registries maps a registry name to
// its `config`. Aliases of other types are left to their packages.
func RegisterRunnerNotations(reg *notation.Registry, loader *Loader, kafkaConfig map[string]string, registries map[string]map[string]string, notations []NotationConfig) error {
	for _, typ := range []string{TypeConfluent, TypeApicurio} {
		n, err := Create(typ, typ, MergeConfig(kafkaConfig), loader)
		if err != nil {
			return err
		}
		reg.Register(typ, n)
	}
	for _, nc := range notations {
		alias := nc.Name
		if !IsAvroType(nc.Type) {
			continue
		}
		var srConfig map[string]string
		if nc.SchemaRegistry != "" {
			cfg, ok := registries[nc.SchemaRegistry]
			if !ok {
				slog.Warn("no schema registry configuration found for schema registry", "schemaRegistry", nc.SchemaRegistry, "notation", alias)
			}
			srConfig = cfg
		}
		n, err := Create(alias, nc.Type, MergeConfig(kafkaConfig, srConfig, nc.Config), loader)
		if err != nil {
			return err
		}
		reg.Register(alias, n)
	}
	if len(notations) == 0 {
		n, err := Create(NotationName, TypeConfluent, MergeConfig(kafkaConfig), loader)
		if err != nil {
			return err
		}
		reg.Register(NotationName, n)
		slog.Warn("No notations configured. Loading default Avro notation with Confluent implementation. If you use AVRO in your KSML definition, please explicitly configure notations in the ksml-runner.yaml.")
	}
	return nil
}

// RegisterTestNotations registers one Confluent-format notation over an
// in-memory registry under `avro`, `confluent_avro` and `apicurio_avro`, as
// upstream's test runner does with its mock registry, and returns it. Call
// Preregister on it for every stream the suite declares with an Avro schema.
func RegisterTestNotations(reg *notation.Registry, loader *Loader) (*Notation, *schemaregistry.Memory) {
	mem := schemaregistry.NewMemory()
	n, _ := NewNotation(NotationName, Confluent, mem, loader, nil) // no props: cannot fail
	for _, name := range []string{NotationName, TypeConfluent, TypeApicurio} {
		reg.Register(name, n)
	}
	return n, mem
}
