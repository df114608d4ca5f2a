package topology

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
	"github.com/ksml-dev/ksml/internal/types"
)

// Ports of upstream's output-asserting tests for stateless definitions that
// ops_test.go and avro_ops_test.go do not cover: the same definitions,
// inputs and expected outputs.

// KSMLFieldModificationTest: a valueTransformer edits a field, a second one
// drops "color" from the record's schema; the output is written with the
// reduced schema.
func TestUpstreamFieldModification(t *testing.T) {
	h := corpusHarness(t, "test-field-modification.yaml")
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "key1",
		sensor("name", "sensor1", "owner", "Alice", "color", "blue", "city", "Amsterdam"), 1)
	out := h.out("ksml_sensordata_modified", "string", "avro:SensorDataNoColor")
	if len(out) != 1 {
		t.Fatalf("want one record, got %q", out)
	}
	expect(t, "owner", field(t, out, "owner"), "Zack")
	expect(t, "name", field(t, out, "name"), "sensor1")
	expect(t, "city", field(t, out, "city"), "Amsterdam")
	if strings.Contains(out[0], "color") {
		t.Errorf("color is still in the output record: %s", out[0])
	}
}

const docsExamples = "ksml/src/test/resources/docs-examples"

// docsHarness loads a definition under upstream's docs-examples.
func docsHarness(t *testing.T, rel string) *harness {
	t.Helper()
	path := filepath.Join(corpus, docsExamples, rel)
	if _, err := os.Stat(path); err != nil {
		sharedtest.Missing(t, path)
	}
	h, err := buildDef(t, loadDef(t, path, "test"))
	if err != nil {
		t.Fatalf("building %s: %v", rel, err)
	}
	return h
}

// pipeJSON writes a record whose value is JSON text, as upstream's tests
// pipe ObjectMapper output through a string serde.
func (h *harness) pipeJSON(topic, key, value string) {
	h.t.Helper()
	v, err := types.DecodeJSON([]byte(value))
	if err != nil {
		h.t.Fatal(err)
	}
	h.mustPipe(topic, "string", "json", key, v, 1)
}

// jsonValues reads a json topic's values.
func (h *harness) jsonValues(topic string) []any {
	h.t.Helper()
	var out []any
	for _, r := range h.drv.ReadOutput(topic) {
		v, err := h.serde("json", false).Deserialize(topic, nil, r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		if v, err = types.Resolve(v); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// path follows keys through nested structs; nil when one is missing.
func path(v any, keys ...string) any {
	for _, k := range keys {
		s, ok := v.(*types.Struct)
		if !ok || s == nil {
			return nil
		}
		if v, ok = s.Get(k); !ok {
			return nil
		}
	}
	return v
}

func sensorReading(location string, tempF, humidity any) string {
	return fmt.Sprintf(`{"sensors":{"temperature":{"value":%v,"unit":"F"},"humidity":{"value":%v,"unit":"%%"},`+
		`"location":{"value":%q,"unit":"text"}},"metadata":{"timestamp":%d}}`, tempF, humidity, location, time.Now().UnixMilli())
}

// FilteringTransformingCompleteTest.
func TestTutorialFilteringTransformingComplete(t *testing.T) {
	const def = "beginner-tutorial/filtering-transforming/processor-filtering-transforming-complete.yaml"
	t.Run("valid", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON("tutorial_input", "sensor0", sensorReading("data_center", 80, 88))
		out := h.jsonValues("filtered_data")
		if len(out) != 1 {
			t.Fatalf("filtered_data: want 1 record, got %d", len(out))
		}
		if a := h.jsonValues("alerts_stream"); len(a) != 0 {
			t.Errorf("alerts_stream: %v", a)
		}
		v := out[0]
		if got := path(v, "sensor_id"); got != "sensor0" {
			t.Errorf("sensor_id = %v", got)
		}
		if got := path(v, "location"); got != "data_center" {
			t.Errorf("location = %v", got)
		}
		if got := path(v, "readings", "temperature", "fahrenheit"); got != int64(80) {
			t.Errorf("fahrenheit = %#v", got)
		}
		if c, ok := path(v, "readings", "temperature", "celsius").(float64); !ok || math.Abs(c-26.67) > 0.01 {
			t.Errorf("celsius = %#v", path(v, "readings", "temperature", "celsius"))
		}
		if got := path(v, "readings", "humidity"); got != int64(88) {
			t.Errorf("humidity = %#v", got)
		}
		for _, k := range [][]string{{"readings", "heat_index"}, {"timestamp"}, {"processed_at"}} {
			if path(v, k...) == nil {
				t.Errorf("%v missing", k)
			}
		}
	})
	for name, input := range map[string]string{
		"out of range":     sensorReading("warehouse", 250, 50),
		"missing temp":     fmt.Sprintf(`{"sensors":{"humidity":{"value":70,"unit":"%%"},"location":{"value":"server_room","unit":"text"}},"metadata":{"timestamp":%d}}`, time.Now().UnixMilli()),
		"missing humidity": fmt.Sprintf(`{"sensors":{"temperature":{"value":75,"unit":"F"},"location":{"value":"office","unit":"text"}},"metadata":{"timestamp":%d}}`, time.Now().UnixMilli()),
	} {
		t.Run(name, func(t *testing.T) {
			h := docsHarness(t, def)
			h.pipeJSON("tutorial_input", "sensor1", input)
			if f, a := h.jsonValues("filtered_data"), h.jsonValues("alerts_stream"); len(f)+len(a) != 0 {
				t.Errorf("want no output, got filtered %v alerts %v", f, a)
			}
		})
	}
	t.Run("malformed", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON("tutorial_input", "sensor4", `{"invalid_field":"malformed"}`)
		// Upstream only checks the alert's shape if there is one; the
		// validator drops this record, so there is none.
		if f, a := h.jsonValues("filtered_data"), h.jsonValues("alerts_stream"); len(f)+len(a) != 0 {
			t.Errorf("want no output, got filtered %v alerts %v", f, a)
		}
	})
}

// LocationRoutingTest.
func TestTutorialLocationRouting(t *testing.T) {
	const def = "intermediate-tutorial/branching/processor-location-routing.yaml"
	sensor := func(loc string) string {
		if loc == "" {
			return `{"name":"test_sensor","value":25.0}`
		}
		return fmt.Sprintf(`{"name":"test_sensor","location":%q,"value":25.0}`, loc)
	}
	h := docsHarness(t, def)
	for i, loc := range []string{"data_center", "warehouse", "office", "unknown"} {
		h.pipeJSON("sensor_input", fmt.Sprintf("k%d", i+1), sensor(loc))
	}
	for _, topic := range []string{"datacenter_sensors", "warehouse_sensors", "office_sensors", "unknown_sensors"} {
		if n := len(h.jsonValues(topic)); n != 1 {
			t.Errorf("%s: %d records, want 1", topic, n)
		}
	}
	h = docsHarness(t, def)
	h.pipeJSON("sensor_input", "key", sensor(""))
	if n := len(h.jsonValues("unknown_sensors")); n != 1 {
		t.Errorf("missing location: unknown_sensors has %d records, want 1", n)
	}
	if n := len(h.jsonValues("datacenter_sensors")); n != 0 {
		t.Errorf("missing location: datacenter_sensors has %d records", n)
	}
}

// OrderProcessingTest.
func TestTutorialOrderProcessing(t *testing.T) {
	const def = "intermediate-tutorial/branching/processor-order-processing.yaml"
	order := func(customer, region string, total float64) string {
		return fmt.Sprintf(`{"order_id":"test_order","customer_type":%q,"region":%q,"total_amount":%v}`, customer, region, total)
	}
	h := docsHarness(t, def)
	h.pipeJSON("order_input", "k1", order("premium", "US", 1500.00))
	h.pipeJSON("order_input", "k2", order("standard", "EU", 500.00))
	h.pipeJSON("order_input", "k3", order("basic", "APAC", 300.00))
	for _, topic := range []string{"priority_orders", "regional_orders", "international_orders"} {
		if n := len(h.jsonValues(topic)); n != 1 {
			t.Errorf("branching: %s has %d records, want 1", topic, n)
		}
	}

	h = docsHarness(t, def)
	h.pipeJSON("order_input", "k1", order("premium", "US", 1000.00))
	h.pipeJSON("order_input", "k2", order("premium", "US", 1000.01))
	if n := len(h.jsonValues("priority_orders")); n != 1 {
		t.Errorf("boundary: priority_orders has %d records, want 1", n)
	}
	if n := len(h.jsonValues("regional_orders")); n != 1 {
		t.Errorf("boundary: regional_orders has %d records, want 1", n)
	}

	h = docsHarness(t, def)
	h.pipeJSON("order_input", "key", order("premium", "US", 1500.00))
	out := h.jsonValues("priority_orders")
	if len(out) != 1 {
		t.Fatalf("transformations: %d priority orders", len(out))
	}
	if got := path(out[0], "processing_tier"); got != "priority" {
		t.Errorf("processing_tier = %#v", got)
	}
	if got := path(out[0], "sla_hours"); got != int64(4) {
		t.Errorf("sla_hours = %#v", got)
	}
	if path(out[0], "processed_at") == nil {
		t.Error("processed_at missing")
	}
}

func transaction(id, customer, card string, amount float64, category, country, state string, ts int64) string {
	return fmt.Sprintf(`{"transaction_id":%q,"customer_id":%q,"card_id":%q,"amount":%v,"timestamp":%d,`+
		`"merchant":{"category":%q,"location":{"country":%q,"state":%q}}}`, id, customer, card, amount, ts, category, country, state)
}

// FraudDetectionTest, on fraud-detection.yaml (the module variant imports a
// Python file the corpus does not hold).
func TestUseCaseFraudDetection(t *testing.T) {
	const def = "use-cases/fraud-detection/fraud-detection.yaml"
	const in = "credit_card_transactions"
	now := time.Now().UnixMilli()
	t.Run("below threshold", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON(in, "txn_002", transaction("txn_002", "cust_124", "card_457", 500.0, "electronics", "USA", "NY", now))
		if v := h.jsonValues("high_value_transactions"); len(v) != 0 {
			t.Errorf("high_value_transactions: %v", v)
		}
		if v := h.jsonValues("unusual_location_alerts"); len(v) != 0 {
			t.Errorf("unusual_location_alerts: %v", v)
		}
	})
	t.Run("unusual location", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON(in, "txn_003", transaction("txn_003", "cust_125", "card_789", 100.0, "groceries", "USA", "CA", now))
		if v := h.jsonValues("unusual_location_alerts"); len(v) != 0 {
			t.Fatalf("first transaction alerted: %v", v)
		}
		h.pipeJSON(in, "txn_004", transaction("txn_004", "cust_125", "card_789", 200.0, "dining", "France", "Paris", now+1000))
		alerts := h.jsonValues("unusual_location_alerts")
		if len(alerts) == 0 {
			t.Fatal("no unusual location alert")
		}
		a := alerts[0]
		for k, want := range map[string]any{"transaction_id": "txn_004", "alert_type": "unusual_location", "card_id": "card_789",
			"customer_id": "cust_125", "risk_score": int64(70)} {
			if got := path(a, k); got != want {
				t.Errorf("%s = %#v, want %#v", k, got, want)
			}
		}
		if got := path(a, "current_location", "country"); got != "France" {
			t.Errorf("current_location.country = %#v", got)
		}
		if got := path(a, "current_location", "state"); got != "Paris" {
			t.Errorf("current_location.state = %#v", got)
		}
		if path(a, "previous_locations") == nil {
			t.Error("previous_locations missing")
		}
		if len(h.jsonValues("fraud_alerts")) == 0 {
			t.Error("fraud_alerts is empty")
		}
	})
	t.Run("same location", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON(in, "txn_005", transaction("txn_005", "cust_126", "card_999", 50.0, "coffee", "USA", "CA", now))
		h.pipeJSON(in, "txn_006", transaction("txn_006", "cust_126", "card_999", 75.0, "groceries", "USA", "CA", now+3600000))
		if v := h.jsonValues("unusual_location_alerts"); len(v) != 0 {
			t.Errorf("unusual_location_alerts: %v", v)
		}
	})
	t.Run("different state within two hours", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON(in, "txn_007", transaction("txn_007", "cust_127", "card_888", 100.0, "fuel", "USA", "CA", now))
		h.pipeJSON(in, "txn_008", transaction("txn_008", "cust_127", "card_888", 150.0, "dining", "USA", "NY", now+3600000))
		alerts := h.jsonValues("unusual_location_alerts")
		if len(alerts) == 0 {
			t.Fatal("no unusual location alert")
		}
		if got := path(alerts[0], "alert_type"); got != "unusual_location" {
			t.Errorf("alert_type = %#v", got)
		}
		if got := path(alerts[0], "current_location", "state"); got != "NY" {
			t.Errorf("current_location.state = %#v", got)
		}
		if n, ok := path(alerts[0], "risk_score").(int64); !ok || n <= 0 {
			t.Errorf("risk_score = %#v", path(alerts[0], "risk_score"))
		}
	})
}

// KSMLFilterTest.testFilterAvroRecordsImportedFunctions and
// ExternalizedPythonTest: the predicate comes from a module on the module
// path. The corpus lacks upstream's module file, so an equivalent one is
// written here.
func TestUpstreamFilterModuleImport(t *testing.T) {
	if _, err := os.Stat(filepath.Join(corpus, "ksml/src/test/resources/pipelines/test-filter-module-import.yaml")); err != nil {
		sharedtest.Missing(t, filepath.Join(corpus, "ksml/src/test/resources/pipelines/test-filter-module-import.yaml"))
	}
	dir := t.TempDir()
	module := "def is_blue(value):\n    return value is not None and value.get('color') == 'blue'\n"
	if err := os.WriteFile(filepath.Join(dir, "test_filter_module.py"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := python.Init(python.Options{ModulePaths: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	h := corpusHarness(t, "test-filter-module-import.yaml")
	pipeColors(h, "blue", "red", "green", "blue", "red")
	expect(t, "colors", field(t, h.out("ksml_sensordata_filtered", "string", sensorType), "color"), "blue", "blue")
}

// RepartitionIT, on the test driver: activities keyed by region are
// re-keyed by user, enriched and repartitioned by a custom partitioner
// (even users to partitions 0-1, odd ones to 2-3). The records are shaped
// as repartition-example-producer.yaml generates them.
func TestUpstreamRepartitionExample(t *testing.T) {
	file := filepath.Join(corpus, "ksml-integration-tests/src/test/resources/docs-examples/reference/operations/repartition-example-processor.yaml")
	if _, err := os.Stat(file); err != nil {
		sharedtest.Missing(t, file)
	}
	h, err := buildDef(t, loadDef(t, file, "test"))
	if err != nil {
		t.Fatal(err)
	}
	regions := []string{"north", "south", "east", "west"}
	for i := 0; i < 20; i++ {
		user := fmt.Sprintf("user_%03d", i%5+1)
		region := regions[i%4]
		h.pipeJSON("user_activities", region, fmt.Sprintf(`{"activity_id":"activity_%04d","user_id":%q,"activity_type":"login","timestamp":%d,"region":%q}`,
			i+1, user, 1000+i, region))
	}
	recs := h.drv.ReadOutput("repartitioned_activities")
	if len(recs) != 20 {
		t.Fatalf("%d records, want 20", len(recs))
	}
	partitions := map[string]map[int32]bool{}
	for _, r := range recs {
		user := string(r.Key)
		if partitions[user] == nil {
			partitions[user] = map[int32]bool{}
		}
		partitions[user][r.Partition] = true
		v, err := h.serde("json", false).Deserialize("repartitioned_activities", nil, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		v, _ = types.Resolve(v)
		for _, f := range []string{"user_id", "activity_id", "activity_type", "region", "original_region"} {
			if path(v, f) == nil {
				t.Errorf("%s: %s missing", user, f)
			}
		}
		if got := path(v, "processing_info"); got != "Repartitioned by user: "+user {
			t.Errorf("%s: processing_info = %#v", user, got)
		}
		if got := path(v, "user_id"); got != user {
			t.Errorf("key %s, user_id %#v", user, got)
		}
	}
	want := map[string]int32{"user_001": 2, "user_002": 1, "user_003": 3, "user_004": 0, "user_005": 2}
	for user, p := range want {
		if len(partitions[user]) != 1 || !partitions[user][p] {
			t.Errorf("%s went to partitions %v, want only %d", user, partitions[user], p)
		}
	}
}

// KSMLBranchingIT checks the JSON text on each branch's topic.
func TestUpstreamBranchingOrderJSONText(t *testing.T) {
	h := docsHarness(t, "intermediate-tutorial/branching/processor-order-processing.yaml")
	order := `{"order_id":"o1","customer_type":%q,"region":%q,"total_amount":%v}`
	h.pipeJSON("order_input", "o1", fmt.Sprintf(order, "premium", "US", 1500.0))
	h.pipeJSON("order_input", "o2", fmt.Sprintf(order, "standard", "EU", 500.0))
	h.pipeJSON("order_input", "o3", fmt.Sprintf(order, "basic", "APAC", 300.0))
	for topic, wants := range map[string][]string{
		"priority_orders":      {`"processing_tier":"priority"`, `"sla_hours":4`},
		"regional_orders":      {`"processing_tier":"regional"`, `"sla_hours":24`},
		"international_orders": {`"processing_tier":"international"`, `"sla_hours":72`, `"customs_required":true`},
	} {
		recs := h.drv.ReadOutput(topic)
		if len(recs) != 1 {
			t.Errorf("%s: %d records", topic, len(recs))
			continue
		}
		for _, w := range wants {
			if !strings.Contains(string(recs[0].Value), w) {
				t.Errorf("%s: %s lacks %s", topic, recs[0].Value, w)
			}
		}
	}
}

// Record metadata and record context reach Python as upstream's
// RecordMetadata and RecordContext structs, with "@type" and "@schema"
// (upstream's examples/00-example-dump-messages.yaml deletes both keys).
func TestMetadataAndRecordContextCarrySchemaMarkers(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: transformMetadata
        mapper:
          code: |
            seen = metadata["@type"] + "/" + metadata["@schema"]["name"] + "/" + metadata["@schema"]["fields"][1]["name"]
            del metadata["@schema"]
            del metadata["@type"]
            metadata["headers"] = [{"key": "seen", "value": seen}]
          expression: metadata
    toTopicNameExtractor:
      topicNameExtractor:
        expression: recordContext["@type"] + "-" + recordContext["@schema"]["fields"][3]["name"]
`)
	h.mustPipe("in", "string", "json", "k", map[string]any{"a": int64(1)}, 5)
	recs := h.drv.ReadOutput("RecordContext-partition")
	if len(recs) != 1 {
		t.Fatalf("topics %v", h.drv.Topics())
	}
	if hs := recs[0].Headers; len(hs) != 1 || hs[0].Key != "seen" || string(hs[0].Value) != "RecordMetadata/RecordMetadata/headers" {
		t.Errorf("headers %q", hs)
	}
	if recs[0].Timestamp != 5 {
		t.Errorf("timestamp %d", recs[0].Timestamp)
	}
}

// examples/00-example-dump-messages.yaml: a transformMetadata mapper that
// deletes "@schema" and "@type" and logs the record runs without error.
func TestUpstreamExampleDumpMessages(t *testing.T) {
	file := filepath.Join(corpus, "examples/00-example-dump-messages.yaml")
	if _, err := os.Stat(file); err != nil {
		sharedtest.Missing(t, file)
	}
	h, err := buildDef(t, loadDef(t, file, "test"))
	if err != nil {
		t.Fatal(err)
	}
	h.mustPipe("ksml_sensordata_avro", "bytes", "bytes", []byte{1, 2}, []byte{0, 0, 0, 0, 7}, 1_700_000_000_000,
		streams.Header{Key: "h", Value: []byte("v")}, streams.Header{Key: "b", Value: []byte{0, 1}})
}

// A store declared without key and value types keeps what a function puts
// in it: a dict comes back a dict (upstream's
// use-cases/iot-data-processing/device-state-tracking.yaml relies on it; it
// got a list of bytes back).
func TestUntypedStoreKeepsValues(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
stores:
  st:
    type: keyValue
    persistent: true
functions:
  f:
    type: valueTransformer
    code: |
      prev = st.get(key)
      st.put(key, {"n": value["n"], "l": [1, "x"], "s": "str"})
      st.put(key + "-long", value["n"])
      return {"prev": prev, "prevLong": st.get(key + "-long")}
    resultType: struct
    stores: [st]
pipelines:
  p:
    from: in
    via:
      - type: transformValue
        mapper: f
    to: out
`)
	h.mustPipe("in", "string", "json", "k", map[string]any{"n": int64(1)}, 5)
	h.mustPipe("in", "string", "json", "k", map[string]any{"n": int64(2)}, 6)
	expect(t, "out", h.out("out", "string", "json"),
		`k={"prev":null,"prevLong":1}`,
		`k={"prev":{"n":1,"l":[1,"x"],"s":"str"},"prevLong":2}`)
}

// examples/08-example-count.yaml converts windowed keys into
// avro:windowed(string): Avro records of upstream's generated
// io.axual.ksml.data.WindowedString schema (the layout of
// examples/WindowedString.avsc).
func TestUpstreamExampleCountAvroWindowedKey(t *testing.T) {
	file := filepath.Join(corpus, "examples/08-example-count.yaml")
	if _, err := os.Stat(file); err != nil {
		sharedtest.Missing(t, file)
	}
	h, err := buildDef(t, loadDef(t, file, "test"))
	if err != nil {
		t.Fatal(err)
	}
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "s1", sensor("owner", "Alice"), 1_000)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "s2", sensor("owner", "Alice"), 2_000)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "s3", sensor("owner", "Bob"), 21_000)
	expect(t, "counts", h.out("ksml_sensordata_count", "avro:windowed(string)", "long"),
		`{"start":0,"end":20000,"startTime":"1970-01-01T00:00:00Z","endTime":"1970-01-01T00:00:20Z","key":"Alice"}=1`,
		`{"start":0,"end":20000,"startTime":"1970-01-01T00:00:00Z","endTime":"1970-01-01T00:00:20Z","key":"Alice"}=2`,
		`{"start":20000,"end":40000,"startTime":"1970-01-01T00:00:20Z","endTime":"1970-01-01T00:00:40Z","key":"Bob"}=1`)
}

// docs/reference/data-and-formats-reference.md, "Function Type Conversion":
// results convert to the declared resultType ("123" to int 123, 456 to
// "456"); a string that is not a number fails.
func TestDocsFunctionResultAutoConversion(t *testing.T) {
	h := docsHarness(t, "reference/data-types/auto-conversion-processor.yaml")
	h.pipeJSON("sensor_data", "sensor_1", `{"temperature":21}`)
	expect(t, "converted", h.out("converted_data", "string", "string"), "sensor_1=456")

	h = yamlHarness(t, jsonStreams+`
functions:
  invalid_conversion:
    type: valueTransformer
    code: |
      result = "not_a_number"
    expression: result
    resultType: int
pipelines:
  p:
    from: in
    via:
      - type: transformValue
        mapper: invalid_conversion
    to:
      topic: ints
      keyType: string
      valueType: int
`)
	err := h.pipe("in", "string", "json", "k", map[string]any{}, 1)
	if err == nil || !strings.Contains(err.Error(), "result does not match resultType") {
		t.Errorf("got %v", err)
	}
}

// VulnerabilitiesTest (disabled upstream, where it waits for a sandbox that
// blocks them): each definition tries to reach a process builder through a
// host object (log, loggerBridge, metrics, a store, java.util.HashMap).
// Here the record fails with a Python error naming the missing attribute or
// name, and the definition's shell command never runs.
func TestUpstreamVulnerabilitiesFail(t *testing.T) {
	cases := []struct{ file, keyType, valueType, want string }{
		{"vulnerable-hashmap.yaml", "string", "string", "NameError: name 'java' is not defined"},
		{"vulnerable-log.yaml", "string", "string", "has no attribute 'getClass'"},
		{"vulnerable-loggerbridge.yaml", "string", "string", "has no attribute 'getClass'"},
		{"vulnerable-metrics.yaml", "string", "string", "has no attribute 'getClass'"},
		{"vulnerable-state-store.yaml", "string", sensorType, "has no attribute 'getClass'"},
	}
	for _, c := range cases {
		h := corpusHarness(t, c.file)
		var value any = "value1"
		if c.valueType == sensorType {
			value = sensor("city", "Amsterdam", "value", "80")
		}
		err := h.pipe("ksml_sensordata_avro", c.keyType, c.valueType, "key1", value, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.file, err, c.want)
		}
	}
}

// TransformMetadataProcessorTest: metadata returned with a null timestamp
// and null headers leaves the record as it was.
func TestTransformMetadataNullFieldsKeepTheRecords(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: transformMetadata
        mapper:
          expression: '{"timestamp": None, "headers": None}'
    to: out
`)
	h.mustPipe("in", "string", "json", "k", map[string]any{"a": int64(1)}, 42, streams.Header{Key: "h", Value: []byte("v")})
	recs := h.drv.ReadOutput("out")
	if len(recs) != 1 || recs[0].Timestamp != 42 || len(recs[0].Headers) != 1 || recs[0].Headers[0].Key != "h" || string(recs[0].Headers[0].Value) != "v" {
		t.Errorf("got %+v", recs)
	}
}

// BinaryDataFormatIT, on the test driver: the producer's generator makes
// 7-byte messages with "KSML" in bytes 2-5 (a list of ints declared as
// bytes); the processor increments the first byte modulo 256 and keeps the
// rest and the order.
func TestUpstreamBinaryDataFormat(t *testing.T) {
	dir := filepath.Join(corpus, "ksml-integration-tests/src/test/resources/docs-examples/beginner-tutorial/different-data-formats/binary")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	prod := loadDef(t, filepath.Join(dir, "binary-producer.yaml"), "producer")
	gen, err := NewPythonFunctions(pythonInterp(t)).Compile(prod, prod.Producers[0].Generator.Def, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := buildDef(t, loadDef(t, filepath.Join(dir, "binary-processor.yaml"), "test"))
	if err != nil {
		t.Fatal(err)
	}
	var originals [][]byte
	var keys []string
	for i := 0; i < 300; i++ { // the counter byte wraps past 255
		res, err := gen.Call(nil)
		if err != nil {
			t.Fatal(err)
		}
		kv := res.(types.Tuple)
		b, ok := kv[1].([]byte)
		if !ok || len(b) != 7 || string(b[2:6]) != "KSML" || !strings.HasPrefix(kv[0].(string), "msg") {
			t.Fatalf("generated %#v", kv)
		}
		originals, keys = append(originals, b), append(keys, kv[0].(string))
		h.mustPipe("ksml_sensordata_binary", "string", "bytes", kv[0], b, int64(i))
	}
	h.mustPipe("ksml_sensordata_binary", "string", "bytes", "msg-wrap", []byte{255, 1, 'K', 'S', 'M', 'L', 2}, 300)
	originals, keys = append(originals, []byte{255, 1, 'K', 'S', 'M', 'L', 2}), append(keys, "msg-wrap")
	out := h.drv.ReadOutput("ksml_sensordata_binary_processed")
	if len(out) != len(originals) {
		t.Fatalf("%d records out, %d in", len(out), len(originals))
	}
	for i, r := range out {
		o := originals[i]
		want := append([]byte{byte((int(o[0]) + 1) % 256)}, o[1:]...)
		if string(r.Key) != keys[i] || string(r.Value) != string(want) {
			t.Fatalf("record %d: %s=%v, want %s=%v", i, r.Key, r.Value, keys[i], want)
		}
	}
}

// buildWithSchemas builds def with Avro schemas from dirs (over an
// in-memory Confluent-style registry).
func buildWithSchemas(t *testing.T, def *definition.Definition, dirs ...string) *harness {
	t.Helper()
	h, err := buildWithSchemasErr(t, def, dirs...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func buildWithSchemasErr(t *testing.T, def *definition.Definition, dirs ...string) (*harness, error) {
	t.Helper()
	serdes := testEnvironment(t, dirs...)
	res, err := Build([]*definition.Definition{def}, Options{ApplicationID: "app",
		Functions: NewPythonFunctions(pythonInterp(t)), Serdes: serdes, Stdout: io.Discard})
	if err != nil {
		return nil, err
	}
	drv, err := testdriver.New(res.Topology, testdriver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return &harness{t: t, drv: drv, res: res, stdout: &bytes.Buffer{}, serdes: serdes}, nil
}

// AvroLogicalTypesIT, on the test driver: the producer's records, converted
// to avro:LogicalData as a producer does, keep their logical-type values
// through the Avro wire and convertValue into json.
func TestUpstreamAvroLogicalTypesToJSON(t *testing.T) {
	dir := filepath.Join(corpus, "ksml-integration-tests/src/test/resources/logical-types")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	load := func(name, ns string) *definition.Definition {
		def, err := definition.Load(filepath.Join(dir, name), definition.Options{Namespace: ns, SchemaDirs: []string{dir}})
		if err != nil {
			t.Fatal(err)
		}
		return def
	}
	prod := load("producer-logical.yaml", "producer")
	gen, err := NewPythonFunctions(pythonInterp(t)).Compile(prod, prod.Producers[0].Generator.Def, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := buildWithSchemas(t, load("processor-logical-convert.yaml", "test"), dir)
	target, err := types.ParseUserType("avro:LogicalData")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		res, err := gen.Call(nil)
		if err != nil {
			t.Fatal(err)
		}
		kv := res.(types.Tuple)
		v, err := h.serdes.Convert(kv[1], types.UserType{Notation: "json", Type: types.Any}, target)
		if err != nil {
			t.Fatal(err)
		}
		h.mustPipe("logical_data_avro", "string", "avro:LogicalData", kv[0], v, int64(i))
	}
	out := h.out("logical_data_json", "string", "json")
	want := `{"name":"sensor%d","id":"123e4567-e89b-12d3-a456-426614174000","amount":"123.45","eventDate":19785,` +
		`"eventTimeMillis":3723000,"eventTimestamp":1700000000123,"eventTimeMicros":3723000000,` +
		`"eventTimestampMicros":1700000000123456,"eventLocalTimestamp":1700000000123,"eventLocalTimestampMicros":1700000000123456}`
	expect(t, "json", out, "sensor0="+fmt.Sprintf(want, 0), "sensor1="+fmt.Sprintf(want, 1))
}

// A timestampExtractor gets upstream's ConsumerRecord struct, with "@type"
// and "@schema" like every schema-backed struct.
func TestTimestampExtractorRecordCarriesSchemaMarkers(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: json
    timestampExtractor:
      expression: 'len(record["@type"]) * 1000 + len(record["@schema"]["fields"]) if record["@type"] == "ConsumerRecord" else -1'
pipelines:
  p:
    from: in
    to:
      topic: out
      keyType: string
      valueType: json
`)
	h.mustPipe("in", "string", "json", "a", map[string]any{"x": int64(1)}, 1)
	recs := h.drv.Output("out")
	if len(recs) != 1 || recs[0].Timestamp != 14007 {
		t.Errorf("got %+v", recs)
	}
}

// filter and filterNot on a table follow Kafka Streams' KTable.filter: a
// record that does not pass becomes a tombstone for its key, and a
// tombstone passes without the predicate being asked.
func TestTableFilterForwardsTombstones(t *testing.T) {
	h := yamlHarness(t, `
tables:
  a: {topic: a, keyType: string, valueType: long}
pipelines:
  keep:
    from: a
    via:
      - type: filter
        if:
          expression: value > 1
      - type: toStream
    to: {topic: kept, keyType: string, valueType: long}
  drop:
    from: a
    via:
      - type: filterNot
        if:
          expression: value > 1
      - type: toStream
    to: {topic: rest, keyType: string, valueType: long}
`)
	h.mustPipe("a", "string", "long", "k1", int64(5), 1)
	h.mustPipe("a", "string", "long", "k2", int64(0), 2)
	h.mustPipe("a", "string", "long", "k1", int64(0), 3)
	h.mustPipe("a", "string", "long", "k2", nil, 4)
	expect(t, "filter", h.out("kept", "string", "long"), "k1=5", "k2=null", "k1=null", "k2=null")
	expect(t, "filterNot", h.out("rest", "string", "long"), "k1=null", "k2=0", "k1=0", "k2=null")
}

// Structs inside a result get the schemas the resultType names for them:
// list elements and tuple members (here the values of a flatMap).
func TestResultSchemasInListsAndTuples(t *testing.T) {
	schemas := filepath.Join(corpus, "ksml/src/test/resources/schemas")
	if _, err := os.Stat(schemas); err != nil {
		sharedtest.Missing(t, schemas)
	}
	file := filepath.Join(t.TempDir(), "def.yaml")
	if err := os.WriteFile(file, []byte(`
streams:
  in: {topic: in, keyType: string, valueType: json}
  out: {topic: out, keyType: string, valueType: string}
pipelines:
  p:
    from: in
    via:
      - type: flatMap
        mapper:
          expression: '[(key + str(i), {"name": "s" + str(i), "timestamp": i, "value": "v", "type": "AREA", "unit": "m"}) for i in range(2)]'
          resultType: '[(string, avro:SensorData)]'
      - type: mapValues
        mapper:
          expression: value["@type"] + "/" + value["@schema"]["name"] + "/" + value["name"]
          resultType: string
    to: out
`), 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := definition.Load(file, definition.Options{Namespace: "test", SchemaDirs: []string{schemas}})
	if err != nil {
		t.Fatal(err)
	}
	h := buildWithSchemas(t, def, schemas)
	h.mustPipe("in", "string", "json", "k", map[string]any{}, 1)
	expect(t, "out", h.out("out", "string", "string"), "k0=SensorData/SensorData/s0", "k1=SensorData/SensorData/s1")
}

// ExampleTopologyTest: every example builds and processes one SensorData
// record without error (01, 07 and 17 with the csv, xml, jsonschema and
// protobuf notations).
func TestUpstreamExampleTopologies(t *testing.T) {
	dir := filepath.Join(corpus, "examples")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	unsupported := map[string]string{}
	files := []string{"00-example-dump-messages.yaml", "01-example-inspect.yaml", "02-example-copy.yaml", "03-example-filter.yaml",
		"04-example-branch.yaml", "05-example-route.yaml", "06-example-duplicate.yaml", "07-example-convert.yaml",
		"08-example-count.yaml", "09-example-aggregate.yaml", "10-example-queryable-table.yaml", "11-example-field-modification.yaml",
		"13-example-join.yaml", "14-example-manual-state-store.yaml", "15-example-pipeline-linking.yaml",
		"16-example-transform-metadata.yaml", "17-example-inspect-with-metrics.yaml", "18-example-timestamp-extractor.yaml",
		"19-example-performance-measurement.yaml", "12-example-byte-manipulation.yaml"}
	for _, f := range files {
		def, err := definition.Load(filepath.Join(dir, f), definition.Options{Namespace: "test", SchemaDirs: []string{dir}})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if want, ok := unsupported[f]; ok {
			if _, err := buildWithSchemasErr(t, def, dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want an error containing %q", f, err, want)
			}
			continue
		}
		h, err := buildWithSchemasErr(t, def, dir)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if f == "12-example-byte-manipulation.yaml" {
			continue // upstream only builds it
		}
		v := sensor("name", "sensor0", "timestamp", time.Now().UnixMilli(), "value", "42", "type", "TEMPERATURE", "unit", "C",
			"color", "blue", "city", "Amsterdam", "owner", "Alice")
		if err := h.pipe("ksml_sensordata_avro", "string", sensorType, "sensor0", v, time.Now().UnixMilli()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// convertValue from JSON text into avro:Name parses the text (upstream
// converts a string to a struct type so); a failure names the target once.
func TestConvertValueTextIntoAvro(t *testing.T) {
	schemas := filepath.Join(corpus, "ksml/src/test/resources/schemas")
	if _, err := os.Stat(schemas); err != nil {
		sharedtest.Missing(t, schemas)
	}
	file := filepath.Join(t.TempDir(), "def.yaml")
	if err := os.WriteFile(file, []byte(`
streams:
  in: {topic: in, keyType: string, valueType: string}
pipelines:
  p:
    from: in
    via:
      - type: convertValue
        into: avro:SensorData
    to: {topic: out, keyType: string, valueType: avro:SensorData}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := definition.Load(file, definition.Options{Namespace: "test", SchemaDirs: []string{schemas}})
	if err != nil {
		t.Fatal(err)
	}
	h := buildWithSchemas(t, def, schemas)
	h.mustPipe("in", "string", "string", "k", `{"name":"s","timestamp":"5","value":"v","type":"AREA","unit":"m"}`, 1)
	expect(t, "out", h.out("out", "string", "avro:SensorData"),
		`k={"name":"s","timestamp":5,"value":"v","type":"AREA","unit":"m","color":null,"city":null,"owner":null}`)
	err = h.pipe("in", "string", "string", "k", `{"name":"s","timestamp":"soon"}`, 2)
	if err == nil || strings.Count(err.Error(), "converting to avro:SensorData") != 1 || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("got %v", err)
	}
}

// print spells keys and values as upstream's data objects print themselves
// (Kafka Streams' "[label]: key, value" with toString): top-level strings
// bare, structs with sorted fields, nested strings quoted.
func TestPrintSpellsValuesAsUpstream(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  show:
    from: in
    print:
      label: lbl
`)
	v, err := types.DecodeJSON([]byte(`{"b": "x", "a": [1, "y", 2.5], "c": null}`))
	if err != nil {
		t.Fatal(err)
	}
	h.mustPipe("in", "string", "json", "k", v, 1)
	h.mustPipe("in", "string", "json", nil, nil, 2)
	expect(t, "stdout", strings.Split(strings.TrimSpace(h.stdout.String()), "\n"),
		`[lbl]: k, {"a": [1, "y", 2.5], "b": "x", "c": null}`, `[lbl]: null, null`)
}
