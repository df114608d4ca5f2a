package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

// corpusDir is upstream's YAML corpus, shared beside the repository.
const corpusDir = "../../../../shared/ksml-corpus"

func corpusRunnerConfigs(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		sharedtest.Missing(t, corpusDir)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasPrefix(name, "ksml-runner") && strings.HasSuffix(name, ".yaml") || name == "ksml-data-generator.yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorpusRunnerConfigsLoad loads every upstream runner configuration.
func TestCorpusRunnerConfigsLoad(t *testing.T) {
	files := corpusRunnerConfigs(t)
	if len(files) < 22 {
		t.Fatalf("found %d runner configurations in the corpus, want at least 22", len(files))
	}
	noEnv := func(string) (string, bool) { return "", false }
	for _, f := range files {
		cfg, err := Load(f, Options{LookupEnv: noEnv})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(cfg.KSML.Definitions) == 0 {
			t.Errorf("%s: no definitions", f)
		}
		if cfg.Kafka.ApplicationID() == "" || cfg.Kafka.UseEmbeddedBroker() {
			t.Errorf("%s: kafka = %v", f, cfg.Kafka.Properties)
		}
		if len(cfg.Warnings) != 0 {
			t.Errorf("%s: warnings %v", f, cfg.Warnings)
		}
	}
}

// TestCorpusExampleRunnerConfig checks the decoded values of upstream's
// main example exactly.
func TestCorpusExampleRunnerConfig(t *testing.T) {
	corpusRunnerConfigs(t)
	f := filepath.Join(corpusDir, "examples", "ksml-runner.yaml")
	cfg, err := Load(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.KSML
	if k.ConfigDirectory != "." || k.SchemaDirectory != "." || k.StorageDirectory != "/tmp" || k.CreateStorageDirectory {
		t.Errorf("directories = %q %q %q %v", k.ConfigDirectory, k.SchemaDirectory, k.StorageDirectory, k.CreateStorageDirectory)
	}
	if want := (ApplicationServer{true, "0.0.0.0", 8080}); k.ApplicationServer != want {
		t.Errorf("applicationServer = %+v", k.ApplicationServer)
	}
	if want := (Prometheus{false, "0.0.0.0", 9999, ""}); k.Prometheus != want {
		t.Errorf("prometheus = %+v", k.Prometheus)
	}
	want := ErrorHandling{
		Consume: ErrorHandler{true, true, "ConsumeError", StopOnFail, ""},
		Process: ErrorHandler{true, true, "ProcessError", ContinueOnFail, ""},
		Produce: ErrorHandler{true, true, "ProduceError", ContinueOnFail, ""},
	}
	if k.ErrorHandling != want {
		t.Errorf("errorHandling = %+v", k.ErrorHandling)
	}
	if k.EnableProducers || !k.EnablePipelines {
		t.Errorf("enableProducers=%v enablePipelines=%v", k.EnableProducers, k.EnablePipelines)
	}
	var names []string
	for _, n := range k.Notations {
		names = append(names, n.Name+"="+string(n.Type)+"@"+n.SchemaRegistry)
	}
	if got, want := strings.Join(names, " "), "avro=confluent_avro@confluent second_avro=apicurio_avro@apicurio jsonschema=apicurio_jsonschema@apicurio protobuf=apicurio_protobuf@apicurio"; got != want {
		t.Errorf("notations = %s, want %s", got, want)
	}
	if want := map[string]string{"normalize.schemas": "true", "auto.register.schemas": "true"}; !reflect.DeepEqual(k.Notations[0].Config, want) {
		t.Errorf("avro config = %v", k.Notations[0].Config)
	}
	if len(k.SchemaRegistries) != 2 || k.SchemaRegistries[1].Name != "confluent" || k.SchemaRegistries[1].Config["schema.registry.url"] != "http://schema_registry:8081/apis/ccompat/v7" {
		t.Errorf("schemaRegistries = %+v", k.SchemaRegistries)
	}
	if len(k.Definitions) != 20 || k.Definitions[0].Namespace != "inspect" || k.Definitions[0].File != "01-example-inspect.yaml" ||
		k.Definitions[19].Namespace != "windowed-avro-state-store" {
		t.Errorf("definitions = %+v", k.Definitions)
	}
	wantKafka := map[string]string{
		"application.id":    "io.ksml.example.streaming",
		"group.instance.id": "example-instance",
		"bootstrap.servers": "broker:9093",
		"security.protocol": "PLAINTEXT",
		"auto.offset.reset": "earliest",
		"acks":              "all",
	}
	if !reflect.DeepEqual(cfg.Kafka.Properties, wantKafka) {
		t.Errorf("kafka = %v", cfg.Kafka.Properties)
	}

	// The example's definition files are all beside it.
	r, err := cfg.Resolve(filepath.Dir(f))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(r.Definitions) != 20 {
		t.Errorf("resolved %d definitions", len(r.Definitions))
	}
}
