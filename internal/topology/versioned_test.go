package topology

import (
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/types"
)

func versionedStore(t *testing.T, h *harness, name string) *store.Versioned {
	t.Helper()
	st, ok := h.drv.Store(name)
	if !ok {
		t.Fatalf("no store %q", name)
	}
	b, ok := h.res.Stores.Windowed(name).(*store.VersionedBuilder)
	if !ok {
		t.Fatalf("store %q is not versioned", name)
	}
	v, err := b.Typed(st)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Port of upstream's KSMLVersionedStateStoreTest.
func TestUpstreamVersionedStateStore(t *testing.T) {
	h := corpusHarness(t, "test-versioned-state-store.yaml")
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "80"), 1)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor2", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "26"), 2)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "70"), 3)
	rec, err := versionedStore(t, h, "last_sensor_data_store").Get("sensor1", nil)
	if err != nil || rec == nil {
		t.Fatalf("get: %v %v", rec, err)
	}
	v, err := types.Resolve(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := v.(*types.Struct)
	if !ok {
		t.Fatalf("latest sensor1 is %T", v)
	}
	city, _ := s.Get("city")
	value, _ := s.Get("value")
	if city != "Amsterdam" || value != "70" {
		t.Errorf("latest sensor1: %s", Format(s))
	}
}

func TestVersionedStoreHistory(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
stores:
  history:
    type: keyValue
    keyType: string
    valueType: string
    persistent: true
    versioned: true
    historyRetention: 10s
functions:
  remember:
    type: valueTransformer
    stores: [history]
    code: |
      if value.get("delete"):
        old = history.delete(key, value["ts"])
        return {"deleted": old}
      history.put(key, value["v"], value["ts"])
      return {"now": history.get(key), "asOf": history.get(key, value["asOf"])}
    resultType: json
pipelines:
  p:
    from: in
    via:
      - type: mapValues
        mapper: remember
    to: out
`)
	for _, in := range []string{
		`{"v":"a","ts":1000,"asOf":500}`,
		`{"v":"b","ts":5000,"asOf":4999}`,
		`{"v":"x","ts":3000,"asOf":4000}`, // out of order: valid from 3000 until 5000
		`{"delete":true,"ts":6000}`,
		`{"v":"late","ts":-5000,"asOf":0}`, // older than the history retention: not written
	} {
		h.mustPipe("in", "string", "json", "k", jsonValue(t, in), 1)
	}
	expect(t, "versions", h.out("out", "string", "json"),
		`k={"now":{"value":"a","timestamp":1000,"validTo":null},"asOf":null}`,
		`k={"now":{"value":"b","timestamp":5000,"validTo":null},"asOf":{"value":"a","timestamp":1000,"validTo":5000}}`,
		`k={"now":{"value":"b","timestamp":5000,"validTo":null},"asOf":{"value":"x","timestamp":3000,"validTo":5000}}`,
		`k={"deleted":{"value":"b","timestamp":5000,"validTo":null}}`,
		`k={"now":null,"asOf":null}`)
}
