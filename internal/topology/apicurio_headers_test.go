package topology

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/streams"
)

// TestApicurioHeadersModeOnTheTestDriver runs a re-keying aggregation over
// an Apicurio Avro notation in headers mode on the test driver: the schema
// id travels in the apicurio.value.contentId header into the source, through
// the repartition topic and out of the sink, while the store's changelog
// (whose records carry no serde headers) frames the id in the payload.
func TestApicurioHeadersModeOnTheTestDriver(t *testing.T) {
	mem := schemaregistry.NewMemory()
	h := sensorHarness(t, environment.Entry{Name: "avro", Type: "apicurio_avro", Registry: mem,
		Config: map[string]string{"apicurio.registry.headers.enabled": "true", "apicurio.registry.auto-register": "true"}}, `streams:
  sensors_in: {topic: sensors-in, keyType: string, valueType: avro:Sensor}
  sensors_out: {topic: sensors-out, keyType: string, valueType: avro:Sensor}
pipelines:
  total:
    from: sensors_in
    via:
      - type: groupBy
        name: by_name
        mapper:
          expression: value["name"]
          resultType: string
      - type: reduce
        name: sum
        reducer:
          code: |
            return {"name": value1["name"], "value": value1["value"] + value2["value"]}
          resultType: avro:Sensor
      - type: toStream
    to: sensors_out
`)
	h.mustPipe("sensors-in", "string", "avro:Sensor", "k1", apicurioSensor("a", 1), 1000)
	h.mustPipe("sensors-in", "string", "avro:Sensor", "k2", apicurioSensor("b", 2), 1001)
	h.mustPipe("sensors-in", "string", "avro:Sensor", "k3", apicurioSensor("a", 4), 1002)

	// The driver's input carried the id in a header too (harness.pipe
	// serializes with headers); the output decodes with the headers only.
	expect(t, "sensors-out", h.out("sensors-out", "string", "avro:Sensor"),
		`a={"name":"a","value":1}`, `b={"name":"b","value":2}`, `a={"name":"a","value":5}`)

	contentID := func(subject string) uint64 {
		versions := mem.Versions(subject)
		if len(versions) != 1 {
			t.Fatalf("subject %s: versions %v, want one", subject, versions)
		}
		ss, err := mem.Version(t.Context(), subject, versions[0])
		if err != nil {
			t.Fatal(err)
		}
		return uint64(ss.ID)
	}
	lastID := func(hs []streams.Header) (uint64, int) {
		var id uint64
		count := 0
		for _, hd := range hs {
			if hd.Key == "apicurio.value.contentId" {
				id, count = binary.BigEndian.Uint64(hd.Value), count+1
			}
		}
		return id, count
	}
	var repartition, changelog string
	for _, topic := range h.drv.Topics() {
		switch {
		case len(topic) > len("-repartition") && topic[len(topic)-len("-repartition"):] == "-repartition":
			repartition = topic
		case len(topic) > len("-changelog") && topic[len(topic)-len("-changelog"):] == "-changelog":
			changelog = topic
		}
	}
	if repartition == "" || changelog == "" {
		t.Fatalf("topics %v: want a repartition and a changelog topic", h.drv.Topics())
	}
	// Repartition and sink records: the id in headers, bare Avro payloads
	// (the first byte is the name's zigzag length, not a magic byte).
	for _, c := range []struct {
		topic     string
		idHeaders int // input headers are forwarded; each sink appends one
	}{{repartition, 2}, {"sensors-out", 3}} {
		want := contentID(c.topic + "-value")
		for i, r := range h.drv.Output(c.topic) {
			id, count := lastID(r.Headers)
			if id != want || count != c.idHeaders {
				t.Errorf("%s[%d]: headers %v, want %d apicurio.value.contentId headers, the last %d", c.topic, i, r.Headers, c.idHeaders, want)
			}
			if len(r.Value) == 0 || r.Value[0] != 2 {
				t.Errorf("%s[%d]: payload % x, want bare Avro", c.topic, i, r.Value)
			}
		}
	}
	// Changelog records carry no serde headers: the id is in the payload.
	// Stores serialize for their changelog topic's subject, as Kafka
	// Streams' state serdes do; nothing is registered under the store name.
	want := contentID(changelog + "-value")
	if v := mem.Versions("test_sum-store-value"); len(v) != 0 {
		t.Errorf("subject test_sum-store-value has versions %v, want none", v)
	}
	recs := h.drv.Output(changelog)
	if len(recs) != 3 {
		t.Fatalf("%s: %d records, want 3", changelog, len(recs))
	}
	sums := []struct {
		name  string
		value int64
		ts    int64
	}{{"a", 1, 1000}, {"b", 2, 1001}, {"a", 5, 1002}}
	for i, r := range recs {
		if _, count := lastID(r.Headers); count != 0 {
			t.Errorf("%s[%d]: headers %v, want no id header", changelog, i, r.Headers)
		}
		// As Kafka Streams' timestamped stores log: the value alone (magic
		// byte, 4-byte content id, then the Avro record), with the
		// aggregate's timestamp as the record's.
		if r.Timestamp != sums[i].ts {
			t.Errorf("%s[%d]: timestamp %d, want the aggregate's %d", changelog, i, r.Timestamp, sums[i].ts)
		}
		framed := binary.BigEndian.AppendUint32([]byte{0}, uint32(want))
		framed = binary.AppendVarint(framed, int64(len(sums[i].name)))
		framed = binary.AppendVarint(append(framed, sums[i].name...), sums[i].value)
		if string(r.Value) != string(framed) {
			t.Errorf("%s[%d]: payload % x, want % x", changelog, i, r.Value, framed)
		}
	}
}

// sensorHarness builds the definition src (namespace "test") with the
// Avro schema Sensor {name: string, value: long} in its schema directory and
// the notation entry (its registry set by the caller).
func sensorHarness(t *testing.T, entry environment.Entry, src string) *harness {
	t.Helper()
	dir := t.TempDir()
	const schema = `{"type": "record", "name": "Sensor", "fields": [{"name": "name", "type": "string"}, {"name": "value", "type": "long"}]}`
	if err := os.WriteFile(filepath.Join(dir, "Sensor.avsc"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := environment.New(environment.Config{SchemaDirs: []string{dir}, Notations: []environment.Entry{entry}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "def.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := definition.Load(path, definition.Options{Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := buildDefWith(t, def, NotationSerdes{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func apicurioSensor(name string, value int64) map[string]any {
	return map[string]any{"name": name, "value": value}
}
