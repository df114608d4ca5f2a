package avro

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// registryWith registers one in-memory-registry notation under the three
// upstream names, as the test runner does.
func registryWith(t *testing.T, dir string) (*notation.Registry, *Notation, *schemaregistry.Memory) {
	t.Helper()
	mem := schemaregistry.NewMemory()
	n := newNotation(t, Confluent, mem, dir, nil)
	reg := notation.NewRegistry()
	for _, name := range []string{"avro", "confluent_avro", "apicurio_avro"} {
		reg.Register(name, n)
	}
	return reg, n, mem
}

func parseType(t *testing.T, reg *notation.Registry, s string) types.UserType {
	t.Helper()
	ut, err := types.Parser{Notation: reg.TypeInfo}.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return ut
}

// The seed's service-to-service and schema-evolution suites, at the serde
// level: the test data as the YAML loader yields it, produced with the
// declared type, consumed by the pipeline, written again and read by the
// assertion side.
func TestSeedSchemasThroughTheNotationRegistry(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "acceptance", "seed", "schemas")
	reg, n, mem := registryWith(t, dir)
	for topic, schema := range map[string]string{"new-orders": "Order", "processed-orders": "Order", "service-events": "ServiceEvent", "service-events-copy": "ServiceEvent"} {
		if _, err := n.Preregister(topic, false, schema); err != nil {
			t.Fatal(err)
		}
	}

	orders, err := reg.Serde(parseType(t, reg, "avro:Order"), false)
	if err != nil {
		t.Fatal(err)
	}
	data, err := orders.Serialize("new-orders", nil, st("orderId", "o-2", "customerId", "c-8", "amount", 5.0, "items", []any{}))
	if err != nil {
		t.Fatal(err)
	}
	order, err := orders.Deserialize("new-orders", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	want := st("orderId", "o-2", "customerId", "c-8", "amount", 5.0, "items", []any{}, "processingTimestamp", nil)
	want.Schema = &types.StructSchema{Name: "io.example.orders.Order"}
	mustEqual(t, order, want)
	// The pipeline's mapValues sets the timestamp; the sink writes it.
	order.(*types.Struct).Set("processingTimestamp", int64(1764000000000))
	out, err := orders.Serialize("processed-orders", nil, order)
	if err != nil {
		t.Fatal(err)
	}
	back, err := orders.Deserialize("processed-orders", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	want.Set("processingTimestamp", int64(1764000000000))
	mustEqual(t, back, want)

	events, err := reg.Serde(parseType(t, reg, "avro:ServiceEvent"), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []*types.Struct{
		st("service", "billing", "eventType", "DEGRADED", "occurredAt", int64(1700000000123), "details", st("region", "eu-west-1")),
		st("service", "auth", "eventType", "STARTED", "occurredAt", int64(1700000000456), "details", nil),
	} {
		data, err := events.Serialize("service-events", nil, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Deserialize("service-events-copy", nil, data)
		if err != nil {
			t.Fatal(err)
		}
		want := st("service", in.Keys()[0], "eventType", nil, "occurredAt", nil, "details", nil)
		in.Range(func(k string, v any) bool { want.Set(k, v); return true })
		want.Schema = &types.StructSchema{Name: "io.example.services.ServiceEvent"}
		mustEqual(t, got, want)
	}
	if got := mem.Subjects(); strings.Join(got, ",") != "new-orders-value,processed-orders-value,service-events-copy-value,service-events-value" {
		t.Fatalf("subjects = %v", got)
	}
}

func TestBareVendorTypesAndErrors(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "ksml-corpus", "ksml-test-runner", "src", "test", "resources", "schemas")
	reg, n, _ := registryWith(t, dir)
	// sample-filter-test-apicurio-avro: the pipeline declares bare
	// apicurio_avro on topics the suite registered as avro:SensorData.
	for _, topic := range []string{"ksml_sensordata_avro", "ksml_sensordata_filtered"} {
		if _, err := n.Preregister(topic, false, "SensorData"); err != nil {
			t.Fatal(err)
		}
	}
	typed, err := reg.Serde(parseType(t, reg, "avro:SensorData"), false)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := reg.Serde(parseType(t, reg, "apicurio_avro"), false)
	if err != nil {
		t.Fatal(err)
	}
	in := st("name", "s1", "timestamp", int64(1000), "value", "25.0", "type", "TEMPERATURE", "unit", "C", "color", "blue")
	data, err := typed.Serialize("ksml_sensordata_avro", nil, in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := bare.Deserialize("ksml_sensordata_avro", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	// The filter passes the record on; the bare sink writes it with the
	// schema it carries, and the suite side reads it as avro:SensorData.
	out, err := bare.Serialize("ksml_sensordata_filtered", nil, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := typed.Deserialize("ksml_sensordata_filtered", nil, out)
	if err != nil {
		t.Fatal(err)
	}
	want := st("name", "s1", "timestamp", int64(1000), "value", "25.0", "type", "TEMPERATURE", "unit", "C", "color", "blue", "city", nil, "owner", nil)
	want.Schema = &types.StructSchema{Name: "io.axual.ksml.example.SensorData"}
	mustEqual(t, got, want)
	// A bare sink given a schemaless value uses the subject's latest schema.
	out, err = bare.Serialize("ksml_sensordata_filtered", nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := typed.Deserialize("ksml_sensordata_filtered", nil, out); err != nil {
		t.Fatal(err)
	} else {
		mustEqual(t, got, want)
	}

	// bare-vendor-avro: no subject for the topic.
	bad, err := reg.Serde(parseType(t, reg, "confluent_avro"), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Serialize("input_topic", nil, st("x", "ignored"))
	if err == nil || !strings.Contains(err.Error(), `confluent_avro serialize: topic input_topic: type confluent_avro has no schema name and the schema registry has no subject "input_topic-value"; declare the type as confluent_avro:<SchemaName>`) {
		t.Fatalf("bare without subject: err = %v", err)
	}

	if _, err := reg.Serde(parseType(t, reg, "avro:Nope"), false); err == nil || !strings.Contains(err.Error(), `avro schema "Nope" not found`) {
		t.Fatalf("missing schema: err = %v", err)
	}
	if _, err := n.Serde(types.ListType{Elem: types.String}, false); err == nil || !strings.Contains(err.Error(), "holds Avro records only") {
		t.Fatalf("list type: err = %v", err)
	}
}

func TestConvertToAvroType(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "acceptance", "seed", "schemas")
	reg, _, _ := registryWith(t, dir)
	to := parseType(t, reg, "avro:Order")
	got, err := reg.Convert(st("customerId", "c", "orderId", "o", "amount", int64(3)), types.UserType{Notation: "json", Type: types.StructType{}}, to)
	if err != nil {
		t.Fatal(err)
	}
	want := st("orderId", "o", "customerId", "c", "amount", 3.0, "items", []any{}, "processingTimestamp", nil)
	want.Schema = &types.StructSchema{Name: "io.example.orders.Order"}
	mustEqual(t, got, want)
	if _, err := reg.Convert(st("orderId", "o"), types.UserType{Type: types.StructType{}}, to); err == nil || !strings.Contains(err.Error(), "field customerId: missing value for required field of type string") {
		t.Fatalf("incomplete: err = %v", err)
	}
}
