package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

func compiledRunnerSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("ksml-runner.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("ksml-runner.json")
	if err != nil {
		t.Fatalf("the runner schema does not compile: %v", err)
	}
	return sch
}

// validateYAML validates a YAML runner configuration against the schema.
// On failure it returns the position of the deepest problem the validator
// names (the key itself for a key the schema does not allow).
func validateYAML(t *testing.T, sch *jsonschema.Schema, file string, src []byte) (yamlspec.Pos, error) {
	t.Helper()
	root, d := yamlspec.Parse(file, src)
	if d != nil {
		t.Fatalf("%v", d)
	}
	var v any
	if err := root.Decode(&v); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return yamlspec.Pos{}, err
	}
	var best yamlspec.Pos
	depth := -1
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		n := nodeAt(root, e.InstanceLocation)
		loc := len(e.InstanceLocation)
		if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
			for _, p := range yamlspec.Pairs(n) {
				if p.Key.Value == ap.Properties[0] {
					n, loc = p.Key, loc+1
				}
			}
		}
		if loc > depth {
			best, depth = yamlspec.At(file, yamlspec.Deref(n)), loc
		}
	}
	walk(ve)
	return best, err
}

// nodeAt follows a JSON pointer's tokens through YAML nodes.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	for _, tok := range path {
		n = yamlspec.Deref(n)
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for _, p := range yamlspec.Pairs(n) {
				if p.Key.Value == tok {
					next = p.Value
				}
			}
			if next == nil {
				return n
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}

// TestRunnerSchemaAcceptsCorpus validates upstream's runner configurations
// and the repository's example against `ksml schema --runner`.
func TestRunnerSchemaAcceptsCorpus(t *testing.T) {
	sch := compiledRunnerSchema(t)
	files := append(corpusRunnerConfigs(t), filepath.Join("..", "..", "..", "examples", "ksml-runner.yaml"))
	if len(files) < 23 {
		t.Fatalf("found %d runner configurations, want at least 23", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if pos, err := validateYAML(t, sch, f, src); err != nil {
			t.Errorf("%s: %v\n%v", pos, f, err)
		}
	}
}

// TestRunnerSchemaRejects checks that bad configurations fail both the
// schema and Load, each at the exact place.
func TestRunnerSchemaRejects(t *testing.T) {
	sch := compiledRunnerSchema(t)
	head := "ksml:\n  definitions:\n    main: main.yaml\n"
	kafka := "kafka:\n  application.id: app\n"
	cases := []struct {
		name, src  string
		schemaPos  string
		loadErrors string
	}{
		{"unknown key", head + "  prometheus:\n    enabeld: true\n" + kafka,
			"ksml-runner.yaml:5:5",
			`ksml-runner.yaml:5:5: unknown key "enabeld" in ksml.prometheus (did you mean "enabled"?)`},
		{"port out of range", head + "  applicationServer:\n    port: 70000\n" + kafka,
			"ksml-runner.yaml:5:11",
			"ksml-runner.yaml:5:11: ksml.applicationServer.port must be between 1 and 65535, not 70000"},
		{"retry for process errors", head + "  errorHandling:\n    process:\n      handler: retryOnFail\n" + kafka,
			"ksml-runner.yaml:6:16",
			"ksml-runner.yaml:6:16: ksml.errorHandling.process.handler: retryOnFail is only supported for produce errors; use stopOnFail or continueOnFail"},
		{"not a boolean", head + "  enableProducers: yes please\n" + kafka,
			"ksml-runner.yaml:4:20",
			`ksml-runner.yaml:4:20: ksml.enableProducers must be true or false, not "yes please"`},
		{"unknown notation type", head + "  notations:\n    avro:\n      type: confluent_avr\n" + kafka,
			"ksml-runner.yaml:6:13",
			`ksml-runner.yaml:6:13: ksml.notations.avro.type: unknown notation type "confluent_avr" (did you mean "confluent_avro"?)`},
		{"kafka property as a mapping", head + kafka + "  acks:\n    all: true\n",
			"ksml-runner.yaml:7:5",
			"ksml-runner.yaml:7:5: kafka.acks must be a string, number or boolean, not a mapping"},
		{"no application id", head + "kafka:\n  bootstrap.servers: localhost:9092\n",
			"ksml-runner.yaml:5:3",
			"ksml-runner.yaml:4:1: kafka.application.id is required"},
		{"no definitions", "ksml:\n  storageDirectory: /tmp\n" + kafka,
			"ksml-runner.yaml:2:3",
			"ksml-runner.yaml:1:1: ksml.definitions is required: name at least one definition, as <namespace>: <file>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pos, err := validateYAML(t, sch, "ksml-runner.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("the schema accepts:\n%s", c.src)
			}
			if pos.String() != c.schemaPos {
				t.Errorf("schema error at %s, want %s:\n%v", pos, c.schemaPos, err)
			}
			_, err = Parse("ksml-runner.yaml", []byte(c.src), Options{LookupEnv: func(string) (string, bool) { return "", false }})
			if err == nil || err.Error() != c.loadErrors {
				t.Errorf("Load error:\n%v\nwant:\n%s", err, c.loadErrors)
			}
		})
	}
}
