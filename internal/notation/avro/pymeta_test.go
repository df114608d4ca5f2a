package avro

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

func TestPythonMetaForSensorData(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "ksml-corpus", "ksml-test-runner", "src", "test", "resources", "schemas")
	n := newNotation(t, Confluent, nil, dir, nil)
	s, err := n.loader.Load("SensorData")
	if err != nil {
		t.Fatal(err)
	}
	serde := n.SerdeWithSchema(s, false)
	name, desc, ok := PythonMeta(serde.StructSchema())
	if !ok || name != "SensorData" {
		t.Fatalf("PythonMeta = %q, %v", name, ok)
	}
	got, err := types.MarshalJSON(desc)
	if err != nil {
		t.Fatal(err)
	}
	field := func(name, doc, typ string, required bool, dflt string) string {
		out := `{"name":"` + name + `","doc":"` + doc + `","required":` + map[bool]string{true: "true", false: "false"}[required] +
			`,"constant":false,"tag":-1,"type":` + typ
		if dflt != "" {
			out += `,"defaultValue":` + dflt
		}
		return out + `,"order":"ASCENDING"}`
	}
	var symbols []string
	for _, s := range []string{"AREA", "HUMIDITY", "LENGTH", "STATE", "TEMPERATURE"} {
		symbols = append(symbols, `{"name":"`+s+`","tag":-1}`)
	}
	want := `{"type":"struct","namespace":"io.axual.ksml.example","name":"SensorData","doc":"Emulated sensor data with a few additional attributes","fields":[` +
		strings.Join([]string{
			field("name", "The name of the sensor", `"string"`, true, ""),
			field("timestamp", "The timestamp of the sensor reading", `"long"`, true, ""),
			field("value", "The value of the sensor, represented as string", `"string"`, true, ""),
			field("type", "The type of the sensor", `{"type":"enum","namespace":"io.axual.ksml.example","name":"SensorType","doc":"The type of a sensor","symbols":[`+strings.Join(symbols, ",")+`]}`, true, ""),
			field("unit", "The unit of the sensor", `"string"`, true, ""),
			field("color", "The color of the sensor", `"string"`, false, "null"),
			field("city", "The city of the sensor", `"string"`, false, "null"),
			field("owner", "The owner of the sensor", `"string"`, false, "null"),
		}, ",") + `],"additionalFieldsAllowed":false}`
	if string(got) != want {
		t.Fatalf("@schema\n got: %s\nwant: %s", got, want)
	}
	if _, _, ok := PythonMeta(&types.StructSchema{Name: "x"}); ok {
		t.Fatal("PythonMeta accepted a non-Avro schema")
	}
}

func TestPythonMetaLogicalAndNested(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"All": allTypesSchema})
	n := newNotation(t, Confluent, nil, dir, nil)
	s, err := n.loader.Load("All")
	if err != nil {
		t.Fatal(err)
	}
	_, desc, _ := PythonMeta(n.SerdeWithSchema(s, false).StructSchema())
	got, _ := types.MarshalJSON(desc)
	for _, frag := range []string{
		`{"name":"i","required":true,"constant":false,"tag":-1,"type":"integer","order":"ASCENDING"}`,
		`{"name":"fx","required":true,"constant":false,"tag":-1,"type":{"type":"fixed","namespace":"test.types","name":"Four","size":4},"order":"ASCENDING"}`,
		`{"name":"arr","required":true,"constant":false,"tag":-1,"type":{"type":"list","items":"integer"},"order":"ASCENDING"}`,
		`{"name":"m","required":true,"constant":false,"tag":-1,"type":{"type":"map","values":"double"},"order":"ASCENDING"}`,
		`{"name":"multi","required":false,"constant":false,"tag":-1,"type":[{"name":null,"type":"long","doc":null,"tag":-1},{"name":null,"type":"string","doc":null,"tag":-1},{"name":null,"type":{"type":"struct","namespace":"test.types","name":"Inner","fields":[{"name":"x","required":true,"constant":false,"tag":-1,"type":"integer","order":"ASCENDING"}],"additionalFieldsAllowed":false},"doc":null,"tag":-1}],"order":"ASCENDING"}`,
		`{"name":"withDefault","required":true,"constant":false,"tag":-1,"type":"string","defaultValue":"dflt","order":"ASCENDING"}`,
		`{"name":"uuid","required":true,"constant":false,"tag":-1,"type":"string","order":"ASCENDING"}`,
		`{"name":"date","required":true,"constant":false,"tag":-1,"type":"integer","order":"ASCENDING"}`,
		`{"name":"tus","required":true,"constant":false,"tag":-1,"type":"long","order":"ASCENDING"}`,
		`{"name":"dec","required":true,"constant":false,"tag":-1,"type":"string","order":"ASCENDING"}`,
	} {
		if !strings.Contains(string(got), frag) {
			t.Fatalf("@schema lacks %s\nin %s", frag, got)
		}
	}
}
