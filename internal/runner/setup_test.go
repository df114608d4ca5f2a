package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// TestMalformedDefinitionNamesThePosition checks that New rejects a broken
// definition with file:line:col before connecting anywhere.
func TestMalformedDefinitionNamesThePosition(t *testing.T) {
	work := t.TempDir()
	def := writeDefinition(t, work, "broken.yaml", `streams:
  input:
    topic: in
    keyType: string
    valueType: json
pipelines:
  p:
    from: input
    via:
      - type: mapValues
        mapper:
          code: |
            return value[
    to: nowhere
`)
	_, err := runner.New(runner.Options{Definitions: []string{def}, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("New accepted a broken definition")
	}
	if !strings.Contains(err.Error(), def+":13:") {
		t.Errorf("error %q does not name %s:13:col", err, def)
	}
	t.Log(err)
}

// TestBadRunnerConfigNamesThePosition checks that a runner configuration
// error is reported with its position.
func TestBadRunnerConfigNamesThePosition(t *testing.T) {
	work := t.TempDir()
	cfg := runnerConfig(t, work, "  enablePipelines: maybe\n", map[string]string{"application.id": "x"})
	_, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), cfg+":2:") {
		t.Fatalf("error %v, want one at %s:2", err, cfg)
	}
}

// TestInlineDefinitionWithProperties runs an inline definition from the
// runner configuration, with ksml.properties visible to Python, and with
// producers disabled (its producer must not run).
func TestInlineDefinitionWithProperties(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	cfg := runnerConfig(t, work, fmt.Sprintf(`  storageDirectory: %q
  enableProducers: false
  properties:
    greeting: hello
  definitions:
    inline:
      streams:
        names:
          topic: names
          keyType: string
          valueType: string
      functions:
        one_name:
          type: generator
          expression: ("k", "never")
      producers:
        unused:
          generator: one_name
          interval: 10ms
          to:
            topic: names
            keyType: string
            valueType: string
      pipelines:
        greet:
          from: names
          via:
            - type: mapValues
              mapper:
                expression: properties.get("greeting") + " " + value
          to:
            topic: greetings
            keyType: string
            valueType: string
`, work), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "inline"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, &kgo.Record{Topic: "names", Key: []byte("1"), Value: []byte("ada")})
	out := readAll(t, b.Bootstrap, "greetings", 1, 500*time.Millisecond)
	if len(out) != 1 || string(out[0].Value) != "hello ada" {
		t.Fatalf("greetings = %d records, first %q", len(out), out[0].Value)
	}
	if names := readAll(t, b.Bootstrap, "names", 1, 300*time.Millisecond); len(names) != 1 {
		t.Errorf("names has %d records: the disabled producer ran", len(names))
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}

// TestTopicCreationOff fails clearly on a missing source topic when the
// configuration turns topic creation off.
func TestTopicCreationOff(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "nocreate", "allow.auto.create.topics": "false"})
	r, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = r.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), `source topic "orders-in" does not exist (topic creation is disabled)`) {
		t.Fatalf("Run = %v", err)
	}
	if r.State() != runner.Failed {
		t.Errorf("state %s, want FAILED", r.State())
	}
}

// TestBadKafkaPropertyNamesThePosition rejects a Kafka property that
// cannot be used before connecting, at its place in the configuration.
func TestBadKafkaPropertyNamesThePosition(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"application.id": "x", "commit.interval.ms": "soon"})
	_, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), cfg+":") || !strings.Contains(err.Error(), "kafka.commit.interval.ms") {
		t.Fatalf("error %v, want kafka.commit.interval.ms at its position in %s", err, cfg)
	}
	t.Log(err)
}

// TestBrokenProducerFailsBeforeConnecting reports a producer whose
// generator cannot be set up from New, at its position.
func TestBrokenProducerFailsBeforeConnecting(t *testing.T) {
	work := t.TempDir()
	def := writeDefinition(t, work, "gen.yaml", `producers:
  p:
    generator:
      globalCode: |
        raise ValueError("no generator today")
      expression: ("k", "v")
    interval: 1s
    to:
      topic: out
      keyType: string
      valueType: string
`)
	_, err := runner.New(runner.Options{Definitions: []string{def}, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), def+":") || !strings.Contains(err.Error(), "no generator today") {
		t.Fatalf("error %v, want the generator's error at its position", err)
	}
	t.Log(err)
}

// TestConfiguredNotationsAreAvailable starts with every notation type a
// runner config may name, under names of the user's choosing.
func TestConfiguredNotationsAreAvailable(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    orders: double.yaml
  notations:
    proto:
      type: apicurio_protobuf
    myjson:
      type: json
    mycsv:
      type: csv
    myxml:
      type: xml
    myjsonschema:
      type: apicurio_jsonschema
`, work, work), map[string]string{"application.id": "x"})
	if _, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatalf("configured notations refused: %v", err)
	}
}
