package runner_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/runner"
)

// TestFallbackAvroWarnsWhenUsed: without ksml.notations, a definition using
// `avro` gets upstream's fallback (Confluent Avro) and its warning, once,
// on the runner's logger; the default logger stays quiet.
func TestFallbackAvroWarnsWhenUsed(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "Event.avsc", `{"type": "record", "name": "Event", "fields": [{"name": "id", "type": "string"}]}`)
	writeDefinition(t, work, "events.yaml", `streams:
  events:
    topic: events
    keyType: string
    valueType: avro:Event
  copies:
    topic: copies
    keyType: string
    valueType: avro:Event
pipelines:
  copy:
    from: events
    to: copies
`)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  schemaDirectory: %q\n  storageDirectory: %q\n  definitions:\n    events: events.yaml\n", work, work, work),
		map[string]string{"application.id": "fallback", "schema.registry.url": "http://127.0.0.1:1"})
	var defaultLog syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLog, nil)))
	defer slog.SetDefault(prev)
	var logs syncBuffer
	if _, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `level=WARN msg="No notations configured. Loading default Avro notation with Confluent implementation.`); n != 1 {
		t.Errorf("fallback warning logged %d times on the runner's logger:\n%s", n, logs.String())
	}
	if defaultLog.String() != "" {
		t.Errorf("default logger got:\n%s", defaultLog.String())
	}
}
