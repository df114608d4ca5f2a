package runner_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/runner"
)

// TestConsoleDecodesAvroAndDeadLetters: the console's topic browser decodes
// Avro records through the schema registry with the topology's notation,
// and a dead letter (the record as read) as its source topic, with its
// reason.
func TestConsoleDecodesAvroAndDeadLetters(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "sensors.yaml", apicurioHeadersDefinition)
	writeDefinition(t, work, "Sensor.avsc", apicurioSensorSchema)
	b := startBroker(t)
	_, url := startRegistry(t)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  schemaDirectory: %q
  storageDirectory: %q
  definitions:
    sensors: sensors.yaml
  schemaRegistries:
    confluent:
      config:
        schema.registry.url: %s
  notations:
    avro:
      type: confluent_avro
      schemaRegistry: confluent
  errorHandling:
    process:
      log: false
      handler: continueOnFail
      deadLetterTopic: sensors-dlt
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: %d
`, work, work, work, url, freePort(t)), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "console-avro"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})
	readAll(t, b.Bootstrap, "sensors-dlt", 1, 200*time.Millisecond)
	readAll(t, b.Bootstrap, "sensors-out", 3, 200*time.Millisecond)
	app := "http://" + rr.r.AppServerAddr()

	code, body := httpGet(t, app+"/console/api/topics/sensors-out/records?limit=1")
	if want := `"key":"s3","keyFormat":"decoded","value":{"name":"sensor3/s3","value":30},"valueFormat":"decoded"`; code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("sensors-out: %d %s\nwant it to contain %s", code, body, want)
	}
	code, body = httpGet(t, app+"/console/api/topics/sensors-dlt/records")
	for _, want := range []string{
		`"key":"s4","keyFormat":"decoded","value":{"name":"sensor4","value":4},"valueFormat":"decoded"`,
		`"error":{"handler":"process","message":"sensors_pipelines_derive_via_step1_transformValue: `,
		`ValueError: no fours`, `"node":"sensors_pipelines_derive_via_step1_transformValue"`, `"offset":"3","partition":"0",`, `"topic":"sensors-in"}`,
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("sensors-dlt: %d %s\nwant it to contain %s", code, body, want)
		}
	}
}
