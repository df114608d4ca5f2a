package environment

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation/avro"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

const eventSchema = `{"type": "record", "name": "Event", "namespace": "env", "fields": [{"name": "id", "type": "string"}]}`

func schemaDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Event.avsc"), []byte(eventSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func event(id string) *types.Struct {
	s := types.NewStruct(1)
	s.Set("id", id)
	return s
}

func eventType(name string) types.UserType {
	return types.UserType{Notation: name, Type: types.StructType{Notation: name, SchemaName: "Event"}}
}

// TestRunnerConfig builds notations as a runner config names them: Avro
// entries over the Apicurio and Confluent APIs of one registry, their
// properties merged from the Kafka config, the registry's config and their
// own, every implementation type under its own name, json aliases.
func TestRunnerConfig(t *testing.T) {
	dir := schemaDir(t)
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{Username: "u", Password: "p"}))
	defer srv.Close()
	var logs bytes.Buffer
	reg, err := New(Config{
		Kafka: map[string]string{"bootstrap.servers": "x"},
		SchemaRegistries: map[string]map[string]string{
			"apicurio":  {"apicurio.registry.url": srv.URL + "/apis/registry/v3", "apicurio.registry.auth.username": "u", "apicurio.registry.auth.password": "p"},
			"confluent": {"schema.registry.url": srv.URL + "/apis/ccompat/v7", "basic.auth.user.info": "u:p"},
		},
		Notations: []Entry{
			{Name: "avro", Type: avro.TypeApicurio, SchemaRegistry: "apicurio", Config: map[string]string{"apicurio.registry.auto-register": "true"}},
			{Name: "cavro", Type: avro.TypeConfluent, SchemaRegistry: "confluent"},
			{Name: "myjson", Type: "json"},
			{Name: "lost", Type: avro.TypeConfluent, SchemaRegistry: "nowhere"},
		},
		SchemaDirs: []string{dir},
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"avro", "cavro"} {
		n, err := reg.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.(*avro.Notation).Vendor(); (name == "avro") != (got == avro.Apicurio) {
			t.Fatalf("%s vendor = %v", name, got)
		}
		s, err := reg.Serde(eventType(name), false)
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Serialize("events", nil, event("a"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v, err := s.Deserialize("events", nil, data); err != nil || types.Format(v) != `{"id": "a"}` {
			t.Fatalf("%s: read back %v, %v", name, v, err)
		}
	}
	if n, err := reg.Lookup("myjson"); err != nil || n.Name() != "json" {
		t.Fatalf("myjson = %v, %v", n, err)
	}
	want := []string{"apicurio_avro", "apicurio_jsonschema", "apicurio_protobuf", "avro", "binary", "cavro", "confluent_avro",
		"csv", "default", "json", "jsonschema", "lost", "myjson", "protobuf", "xml"}
	if got := reg.Names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("names %v, want %v", got, want)
	}
	// Built-in names exist without a registry URL and say so on use.
	s, err := reg.Serde(eventType("confluent_avro"), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Serialize("events", nil, event("a")); err == nil || !strings.Contains(err.Error(), "notation confluent_avro: no schema registry is configured") {
		t.Fatalf("built-in without url: err = %v", err)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="no schema registry configuration found for schema registry" schemaRegistry=nowhere notation=lost`) {
		t.Fatalf("log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "No notations configured") {
		t.Fatalf("fallback warning with notations configured:\n%s", logs.String())
	}
}

// TestFallbackWarnsOnUse: without ksml.notations, `avro` is Confluent Avro
// over the Kafka config's registry URL, and upstream's warning is logged
// once, when a type first uses it, not at every start.
func TestFallbackWarnsOnUse(t *testing.T) {
	dir := schemaDir(t)
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	var logs bytes.Buffer
	reg, err := New(Config{Kafka: map[string]string{"schema.registry.url": srv.URL}, SchemaDirs: []string{dir},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Serde(types.UserType{Notation: "json", Type: types.NotationType{Notation: "json"}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Serde(eventType("confluent_avro"), false); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Fatalf("warned before avro was used:\n%s", logs.String())
	}
	for range 2 {
		s, err := reg.Serde(eventType("avro"), false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Serialize("events", nil, event("a")); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Count(logs.String(), "msg=\""+FallbackWarning+"\""); got != 1 {
		t.Fatalf("fallback warning logged %d times:\n%s", got, logs.String())
	}
	if l, err := mem.Latest(t.Context(), "events-value"); err != nil || l.ID != 1 {
		t.Fatalf("fallback registry: %+v, %v", l, err)
	}
}

// TestEntryErrors: every bad entry is reported with its position.
func TestEntryErrors(t *testing.T) {
	_, err := New(Config{Notations: []Entry{
		{Name: "avro", Type: avro.TypeApicurio, Config: map[string]string{"apicurio.registry.as-confluent": "true"}, Pos: "ksml-runner.yaml:7:5"},
		{Name: "x", Type: "yaml", Pos: "ksml-runner.yaml:9:5"},
		{Name: "h", Type: avro.TypeApicurio, Config: map[string]string{"apicurio.registry.headers.enabled": "sometimes"}, Pos: "ksml-runner.yaml:11:5"},
	}})
	if err == nil {
		t.Fatal("bad entries accepted")
	}
	for _, want := range []string{
		"ksml-runner.yaml:7:5: notation \"avro\" (apicurio_avro): configuration key 'apicurio.registry.as-confluent' no longer exists",
		"ksml-runner.yaml:9:5: notation \"x\": type \"yaml\" is not available (available: apicurio_avro, apicurio_jsonschema, apicurio_protobuf, binary, confluent_avro, csv, json, jsonschema, protobuf, xml)",
		"ksml-runner.yaml:11:5: notation \"h\" (apicurio_avro): config apicurio.registry.headers.enabled: \"sometimes\" is not a boolean",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestTestRunnerNotations: the test runner's avro, confluent_avro and
// apicurio_avro are Confluent Avro over the given in-memory registry.
func TestTestRunnerNotations(t *testing.T) {
	dir := schemaDir(t)
	mem := schemaregistry.NewMemory()
	reg, err := New(Config{Notations: TestRunnerNotations(mem), SchemaDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range TestRunnerNames {
		n, err := reg.Lookup(name)
		if err != nil || n.(*avro.Notation).Vendor() != avro.Confluent || n.(*avro.Notation).Registry() != schemaregistry.Registry(mem) {
			t.Fatalf("%s = %v, %v", name, n, err)
		}
		id, err := n.(*avro.Notation).Preregister("events", false, "Event")
		if err != nil || id != 1 {
			t.Fatalf("%s: preregister = %d, %v", name, id, err)
		}
		s, err := reg.Serde(eventType(name), false)
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Serialize("events", nil, event(name))
		if err != nil || data[0] != 0 || data[4] != 1 {
			t.Fatalf("%d %s: % x, %v", i, name, data, err)
		}
	}
}

// TestPlainTypesHaveNoRegistry: with apicurio.registry.url in the Kafka
// configuration, the built-in apicurio_jsonschema frames records for that
// registry while the plain jsonschema writes JSON text alone.
func TestPlainTypesHaveNoRegistry(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Thing.json"), []byte(`{"type": "object", "properties": {"id": {"type": "string"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	reg, err := New(Config{Kafka: map[string]string{"apicurio.registry.url": srv.URL + "/apis/registry/v3"}, SchemaDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"jsonschema": `{"id":"a"}`, "apicurio_jsonschema": "\x00\x00\x00\x00\x01" + `{"id":"a"}`} {
		s, err := reg.Serde(types.UserType{Notation: name, Type: types.StructType{Notation: name, SchemaName: "Thing"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Serialize("things", nil, event("a"))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}
