package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

// The different-data-formats tutorials (upstream's CsvDataFormatIT,
// XmlDataFormatIT and JsonSchemaDataFormatIT) on the test driver: each
// processor reads its notation, transforms the value in Python and writes
// it on; the raw output bytes are asserted.

func formatsHarness(t *testing.T, format, file string) *harness {
	t.Helper()
	dir := filepath.Join(corpus, "ksml-integration-tests/src/test/resources/docs-examples/beginner-tutorial/different-data-formats", format)
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	def, err := definition.Load(filepath.Join(dir, file), definition.Options{Namespace: "test", SchemaDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	return buildWithSchemas(t, def, dir)
}

func rawValues(h *harness, topic string) []string {
	var out []string
	for _, r := range h.drv.ReadOutput(topic) {
		out = append(out, string(r.Key)+"="+string(r.Value))
	}
	return out
}

func TestCSVDataFormatProcessor(t *testing.T) {
	h := formatsHarness(t, "csv", "csv-processor.yaml")
	if err := h.drv.Pipe("ksml_sensordata_csv", []byte("sensor1"),
		[]byte(`"sensor1","1700000000000","23.5","TEMPERATURE","C","red","Amsterdam","alice"`), 1, nil); err != nil {
		t.Fatal(err)
	}
	// An unquoted line with a missing owner: the field is "" on both sides.
	if err := h.drv.Pipe("ksml_sensordata_csv", []byte("sensor2"), []byte("sensor2,5,7,AREA,m2,blue,utrecht\n"), 2, nil); err != nil {
		t.Fatal(err)
	}
	expect(t, "csv out", rawValues(h, "ksml_sensordata_csv_processed"),
		`sensor1="sensor1","1700000000000","23.5","TEMPERATURE","C","red","AMSTERDAM","alice"`,
		`sensor2="sensor2","5","7","AREA","m2","blue","UTRECHT",""`)
}

func TestXMLDataFormatProcessor(t *testing.T) {
	h := formatsHarness(t, "xml", "processor-xml.yaml")
	in := `<?xml version="1.0" encoding="UTF-8"?>
<SensorData>
  <name>sensor1</name>
  <timestamp>1700000000000</timestamp>
  <value>23.5</value>
  <type>TEMPERATURE</type>
  <unit>C</unit>
  <color>red</color>
  <city>Amsterdam</city>
  <owner>alice &amp; bob</owner>
</SensorData>`
	if err := h.drv.Pipe("ksml_sensordata_xml", []byte("sensor1"), []byte(in), 1, nil); err != nil {
		t.Fatal(err)
	}
	expect(t, "xml out", rawValues(h, "ksml_sensordata_xml_processed"),
		`sensor1=<?xml version='1.1' encoding='UTF-8'?><SensorData><city>AMSTERDAM</city><color>red</color><name>sensor1</name>`+
			`<owner>alice &amp; bob</owner><timestamp>1700000000000</timestamp><type>TEMPERATURE</type><unit>C</unit><value>23.5</value></SensorData>`)
}

func TestJSONSchemaDataFormatProcessor(t *testing.T) {
	h := formatsHarness(t, "jsonschema", "jsonschema-processor.yaml")
	in := `{"name":"sensor1","timestamp":1700000000000,"value":"23.5","type":"TEMPERATURE","unit":"C","city":"Utrecht"}`
	if err := h.drv.Pipe("sensor_data_jsonschema", []byte("sensor1"), []byte(in), 1, nil); err != nil {
		t.Fatal(err)
	}
	got := rawValues(h, "sensor_data_jsonschema_processed")
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	// processed_at is the wall clock; everything else is exact.
	prefix := `sensor1={"name":"sensor1","timestamp":1700000000000,"value":"23.5","type":"TEMPERATURE","unit":"C","city":"Utrecht","processed_at":"`
	if !strings.HasPrefix(got[0], prefix) || !strings.HasSuffix(got[0], `","sensor_id":"SENSOR1"}`) {
		t.Fatalf("got %s", got[0])
	}
	// A value the schema refuses is an error naming the field.
	err := h.drv.Pipe("sensor_data_jsonschema", []byte("sensor2"), []byte(`{"name":"sensor2","type":"WIND"}`), 2, nil)
	if err == nil || !strings.Contains(err.Error(), "value does not match JSON schema SensorData: at '/type'") {
		t.Fatalf("got %v", err)
	}
}

// 07-example-convert: avro -> json -> string -> json -> xml -> string -> xml,
// and avro written to an xml topic directly; both give the same document.
func TestExampleConvertToXML(t *testing.T) {
	dir := filepath.Join(corpus, "examples")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	def, err := definition.Load(filepath.Join(dir, "07-example-convert.yaml"), definition.Options{Namespace: "test", SchemaDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	h := buildWithSchemas(t, def, dir)
	v := sensor("name", "sensor0", "timestamp", int64(1700000000000), "value", "42", "type", "TEMPERATURE", "unit", "C",
		"color", nil, "city", "Amsterdam", "owner", "Alice")
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor0", v, 1)
	doc := `sensor0=<?xml version='1.1' encoding='UTF-8'?><SensorData><city>Amsterdam</city><color%s<name>sensor0</name>` +
		`<owner>Alice</owner><timestamp>1700000000000</timestamp><type>TEMPERATURE</type><unit>C</unit><value>42</value></SensorData>`
	// The converting pipeline read its null color back from <color/> as
	// "" (an empty element is empty text), so it writes an empty element
	// with a closing tag; the direct pipeline writes the null.
	expect(t, "xml out", rawValues(h, "ksml_sensordata_xml"), fmt.Sprintf(doc, "></color>"), fmt.Sprintf(doc, "/>"))
}
