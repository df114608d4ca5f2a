// Package environment builds the notations of one runner, test run or test
// from configuration, in one function (New), so `ksml run`, `ksml test` and
// the Go tests resolve types the same way.
//
// Every notation package registers its implementation types with
// notation.RegisterFactory from init; this package links them all in and
// creates each notation through its factory, none special-cased:
//
//   - binary, json and the `default` alias (notation.NewRegistry);
//   - every implementation type under its own name (confluent_avro,
//     apicurio_avro, csv, xml, jsonschema, apicurio_jsonschema, protobuf,
//     apicurio_protobuf), from the Kafka configuration alone, as upstream's
//     runner creates them;
//   - the `ksml.notations` entries, each from the Kafka configuration, its
//     schema registry's `config` and its own `config` merged (later wins);
//     json and binary entries are aliases;
//   - with no entries at all, upstream's deprecated fallback: `avro` is
//     Confluent Avro. Its warning is logged when a definition first uses
//     `avro`, not at every start.
package environment

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/notation/avro"
	_ "github.com/ksml-dev/ksml/internal/notation/csv" // registers its factory
	"github.com/ksml-dev/ksml/internal/notation/jsonschema"
	"github.com/ksml-dev/ksml/internal/notation/protobuf"
	_ "github.com/ksml-dev/ksml/internal/notation/xml" // registers its factory
	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// builtins are the implementation types every environment has under their
// own names.
var builtins = []string{
	avro.TypeConfluent, avro.TypeApicurio, "csv", "xml",
	jsonschema.NotationName, jsonschema.TypeApicurio, protobuf.NotationName, protobuf.TypeApicurio,
}

// FallbackWarning is logged when a definition uses the fallback `avro`
// notation (no `ksml.notations` configured), in upstream's words.
const FallbackWarning = "No notations configured. Loading default Avro notation with Confluent implementation. If you use AVRO in your KSML definition, please explicitly configure notations in the ksml-runner.yaml."

// Config is what an environment is built from.
type Config struct {
	// Kafka is the Kafka configuration, the first layer of every
	// notation's properties.
	Kafka map[string]string
	// SchemaRegistries are the `ksml.schemaRegistries` entries' `config`
	// by registry name.
	SchemaRegistries map[string]map[string]string
	// Notations are the `ksml.notations` entries.
	Notations []Entry
	// SchemaDirs are where schema files are looked up.
	SchemaDirs []string
	// Logger receives the notations' warnings; nil drops them.
	Logger *slog.Logger
}

// Entry is one `ksml.notations` entry.
type Entry struct {
	// Name is the name types use (avro in avro:SensorData).
	Name string
	// Type is the implementation (confluent_avro, csv, json, ...).
	Type string
	// SchemaRegistry names an entry of Config.SchemaRegistries; "" for none.
	SchemaRegistry string
	// Config is the entry's own properties.
	Config map[string]string
	// Registry, when set, is the registry client the notation uses instead
	// of one built from the properties: the test runner's in-memory
	// registry.
	Registry schemaregistry.Registry
	// Pos prefixes errors about the entry (file:line:col); "" for none.
	Pos string
}

// New builds the notation registry cfg describes. Every entry that cannot
// be created is reported, each with its position; a type nobody registered
// is one of them. An entry naming a schema registry that is not configured
// is logged, as upstream does, and the entry is built without its config.
func New(cfg Config) (*notation.Registry, error) {
	reg := notation.NewRegistry()
	kafka := merge(cfg.Kafka)
	for _, typ := range builtins {
		if err := reg.Configure(notation.Config{Name: typ, Type: typ, Properties: kafka, SchemaDirs: cfg.SchemaDirs, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, e := range cfg.Notations {
		switch e.Type {
		case "json", "binary":
			if e.Name != e.Type {
				reg.Alias(e.Name, e.Type)
			}
			continue
		}
		var srConfig map[string]string
		if e.SchemaRegistry != "" {
			c, ok := cfg.SchemaRegistries[e.SchemaRegistry]
			if !ok && cfg.Logger != nil {
				cfg.Logger.Warn("no schema registry configuration found for schema registry", "schemaRegistry", e.SchemaRegistry, "notation", e.Name)
			}
			srConfig = c
		}
		err := reg.Configure(notation.Config{Name: e.Name, Type: e.Type, Properties: merge(cfg.Kafka, srConfig, e.Config),
			SchemaRegistry: e.Registry, SchemaDirs: cfg.SchemaDirs, Logger: cfg.Logger})
		if err != nil {
			if e.Pos != "" {
				err = fmt.Errorf("%s: %w", e.Pos, err)
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(cfg.Notations) == 0 {
		const fallback = avro.NotationName
		if err := reg.Configure(notation.Config{Name: fallback, Type: avro.TypeConfluent, Properties: kafka, SchemaDirs: cfg.SchemaDirs, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
		if log := cfg.Logger; log != nil {
			reg.OnFirstUse(fallback, func() { log.Warn(FallbackWarning) })
		}
	}
	return reg, nil
}

// merge merges property layers; later layers win. Nil layers are skipped.
func merge(layers ...map[string]string) map[string]any {
	out := map[string]any{}
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// TestRunnerNames are the notations upstream's test runner backs with its
// mock registry.
var TestRunnerNames = []string{avro.NotationName, avro.TypeConfluent, avro.TypeApicurio}

// TestRunnerNotations are the entries of upstream's test runner: avro,
// confluent_avro and apicurio_avro all Confluent Avro over reg (an
// in-memory registry), whatever their names say.
func TestRunnerNotations(reg schemaregistry.Registry) []Entry {
	out := make([]Entry, 0, len(TestRunnerNames))
	for _, name := range TestRunnerNames {
		out = append(out, Entry{Name: name, Type: avro.TypeConfluent, Registry: reg})
	}
	return out
}
