package runner_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/notation/avro"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

const apicurioSensorSchema = `{"type": "record", "name": "Sensor", "namespace": "test.apicurio",
 "fields": [{"name": "name", "type": "string"}, {"name": "value", "type": "long"}]}`

// apicurioHeadersDefinition produces four sensors to sensors-in and lets a
// Python function read each one (its fields) and write a derived record to
// sensors-out, all through an Apicurio Avro notation in headers mode. The
// fourth fails in Python and goes to the dead-letter topic.
const apicurioHeadersDefinition = `streams:
  sensors_in:
    topic: sensors-in
    keyType: string
    valueType: avro:Sensor
  sensors_out:
    topic: sensors-out
    keyType: string
    valueType: avro:Sensor
producers:
  sensor_producer:
    generator:
      globalCode: |
        n = 0
      code: |
        global n
        n += 1
      expression: |
        ("s" + str(n), {"name": "sensor" + str(n), "value": n})
    interval: 1ms
    count: 4
    to: sensors_in
pipelines:
  derive:
    from: sensors_in
    via:
      - type: mapValues
        mapper:
          code: |
            if value["value"] == 4:
              raise ValueError("no fours")
            return {"name": value["name"] + "/" + key, "value": value["value"] * 10}
    to: sensors_out
`

// TestApicurioHeadersModeEndToEnd runs a producer and a pipeline on an
// Apicurio Avro notation with apicurio.registry.headers.enabled: the
// producer writes the schema's content id in the apicurio.value.contentId
// header and bare Avro as the payload, the pipeline reads the id from the
// header (Python sees the values the producer generated) and its sink
// writes the id in a header again; a record that fails in Python reaches
// the dead-letter topic with its id header.
func TestApicurioHeadersModeEndToEnd(t *testing.T) {
	kafkatest.Parallel(t)
	work := t.TempDir()
	writeDefinition(t, work, "sensors.yaml", apicurioHeadersDefinition)
	writeDefinition(t, work, "Sensor.avsc", apicurioSensorSchema)
	b := startBroker(t)
	mem, url := startRegistry(t)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  schemaDirectory: %q
  storageDirectory: %q
  definitions:
    sensors: sensors.yaml
  schemaRegistries:
    apicurio:
      config:
        apicurio.registry.url: %s/apis/registry/v3
  notations:
    avro:
      type: apicurio_avro
      schemaRegistry: apicurio
      config:
        apicurio.registry.headers.enabled: true
        apicurio.registry.auto-register: true
  errorHandling:
    process:
      log: false
      handler: continueOnFail
      deadLetterTopic: sensors-dlt
`, work, work, work, url), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "apicurio-headers"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.DiscardHandler)})

	dlt := readAll(t, b.Bootstrap, "sensors-dlt", 1, 200*time.Millisecond)
	out := readAll(t, b.Bootstrap, "sensors-out", 3, 200*time.Millisecond)
	in := readAll(t, b.Bootstrap, "sensors-in", 4, 200*time.Millisecond)
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}

	// A reader of its own, as another Apicurio client would be.
	reader, err := avro.NewNotation("reader", avro.Apicurio, apicurioClient(t, url), avro.NewLoader(work),
		map[string]any{"apicurio.registry.headers.enabled": true})
	if err != nil {
		t.Fatal(err)
	}
	serde, err := reader.Serde(types.StructType{Notation: "avro", SchemaName: "Sensor"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The dead-letter topic gets the failed record as read: its id header
	// and its bare payload, so it reads back like the original.
	if len(in) != 4 || len(dlt) != 1 || string(dlt[0].Key) != "s4" || string(dlt[0].Value) != string(in[3].Value) {
		t.Fatalf("dead letters %v, want s4 as read from sensors-in", dlt)
	}
	var dltHeaders []streams.Header
	for _, h := range dlt[0].Headers {
		dltHeaders = append(dltHeaders, streams.Header{Key: h.Key, Value: h.Value})
	}
	if v, err := serde.Deserialize("sensors-in", dltHeaders, dlt[0].Value); err != nil || types.Format(v) != `{"name": "sensor4", "value": 4}` {
		t.Fatalf("dead letter reads back as %v, %v", v, err)
	}
	in = in[:3]
	for _, tc := range []struct {
		topic string
		recs  []*kgo.Record
		// idHeaders: the producer writes one; the pipeline's output keeps
		// the input record's headers and its sink appends its own, as Kafka
		// Streams forwards headers and Apicurio's serializer adds one
		// (readers take the last).
		idHeaders int
		want      func(i int) (key string, name string, value int64)
	}{
		{"sensors-in", in, 1, func(i int) (string, string, int64) {
			return fmt.Sprintf("s%d", i), fmt.Sprintf("sensor%d", i), int64(i)
		}},
		{"sensors-out", out, 2, func(i int) (string, string, int64) {
			return fmt.Sprintf("s%d", i), fmt.Sprintf("sensor%d/s%d", i, i), int64(10 * i)
		}},
	} {
		recs := tc.recs
		if len(recs) != 3 {
			t.Fatalf("%s: %d records, want 3", tc.topic, len(recs))
		}
		id, err := mem.Lookup(context.Background(), tc.topic+"-value", apicurioSensorSchema)
		if err != nil {
			t.Fatalf("%s: schema not registered: %v", tc.topic, err)
		}
		for i, r := range recs {
			key, name, value := tc.want(i + 1)
			if string(r.Key) != key {
				t.Errorf("%s[%d]: key %q, want %q", tc.topic, i, r.Key, key)
			}
			var headers []streams.Header
			idHeaders := 0
			for _, h := range r.Headers {
				headers = append(headers, streams.Header{Key: h.Key, Value: h.Value})
				if h.Key == "apicurio.value.contentId" {
					idHeaders++
					if len(h.Value) != 8 || binary.BigEndian.Uint64(h.Value) != uint64(id) {
						t.Errorf("%s[%d]: apicurio.value.contentId = % x, want content id %d as 8 bytes", tc.topic, i, h.Value, id)
					}
				}
			}
			if idHeaders != tc.idHeaders || r.Headers[len(r.Headers)-1].Key != "apicurio.value.contentId" {
				t.Errorf("%s[%d]: headers %v, want %d apicurio.value.contentId headers, the last one last", tc.topic, i, r.Headers, tc.idHeaders)
			}
			// The payload is bare Avro: no magic byte and id in front.
			if want := avroSensor(name, value); string(r.Value) != string(want) {
				t.Errorf("%s[%d]: payload % x, want bare Avro % x", tc.topic, i, r.Value, want)
			}
			v, err := serde.Deserialize(tc.topic, headers, r.Value)
			if err != nil {
				t.Fatalf("%s[%d]: %v", tc.topic, i, err)
			}
			got := types.Format(v)
			if want := fmt.Sprintf(`{"name": "%s", "value": %d}`, name, value); got != want {
				t.Errorf("%s[%d]: value %s, want %s", tc.topic, i, got, want)
			}
		}
	}
}

// avroSensor is the Avro binary of a Sensor record: the name as a
// zigzag-length-prefixed string, then the value as a zigzag varint.
func avroSensor(name string, value int64) []byte {
	b := binary.AppendVarint(nil, int64(len(name)))
	b = append(b, name...)
	return binary.AppendVarint(b, value)
}

func apicurioClient(t *testing.T, url string) schemaregistry.Registry {
	t.Helper()
	cfg, err := schemaregistry.ApicurioConfig(map[string]any{"apicurio.registry.url": url + "/apis/registry/v3"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := schemaregistry.NewApicurio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
