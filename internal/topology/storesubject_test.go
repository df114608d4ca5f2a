package topology

import (
	"reflect"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// TestStoreSerdesRegisterUnderTheChangelogSubject: a registry-backed
// notation registers a store's schemas under its changelog topic's subject,
// "<application id>-<store>-changelog-value", logged or not, as Kafka
// Streams' state serdes do, for stores declared under stores: and written
// by a function as for the store of an aggregation.
func TestStoreSerdesRegisterUnderTheChangelogSubject(t *testing.T) {
	mem := schemaregistry.NewMemory()
	h := sensorHarness(t, environment.Entry{Name: "avro", Type: "confluent_avro", Registry: mem}, `streams:
  sensors_in: {topic: sensors-in, keyType: string, valueType: avro:Sensor}
  sensors_out: {topic: sensors-out, keyType: string, valueType: avro:Sensor}
stores:
  latest: {type: keyValue, keyType: string, valueType: avro:Sensor, persistent: false, logging: false}
pipelines:
  total:
    from: sensors_in
    via:
      - type: peek
        forEach:
          code: latest.put(key, value)
          stores: [latest]
      - type: groupByKey
      - type: reduce
        name: sum
        reducer:
          code: |
            return {"name": value1["name"], "value": value1["value"] + value2["value"]}
          resultType: avro:Sensor
      - type: toStream
    to: sensors_out
`)
	h.mustPipe("sensors-in", "string", "avro:Sensor", "a", apicurioSensor("a", 1), 1000)
	h.mustPipe("sensors-in", "string", "avro:Sensor", "a", apicurioSensor("a", 2), 1001)
	expect(t, "sensors-out", h.out("sensors-out", "string", "avro:Sensor"),
		`a={"name":"a","value":1}`, `a={"name":"a","value":3}`)

	want := []string{"app-latest-changelog-value", "app-test_sum-store-changelog-value", "sensors-in-value", "sensors-out-value"}
	if got := mem.Subjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("registered subjects %v, want %v", got, want)
	}
}
