package topology

import (
	"strings"
	"testing"
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
