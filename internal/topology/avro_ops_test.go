package topology

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/types"
)

// Ports of upstream's KSML*Test classes that use Avro SensorData records.

// sensor builds a SensorData record; unset required fields get neutral
// values, optional ones stay null.
func sensor(fields ...any) *types.Struct {
	s := types.NewStruct(8)
	s.Set("name", "sensor")
	s.Set("timestamp", int64(0))
	s.Set("value", "")
	s.Set("type", "TEMPERATURE")
	s.Set("unit", "")
	s.Set("color", nil)
	s.Set("city", nil)
	s.Set("owner", nil)
	for i := 0; i+1 < len(fields); i += 2 {
		s.Set(fields[i].(string), fields[i+1])
	}
	return s
}

const sensorType = "avro:SensorData"

func field(t *testing.T, lines []string, name string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		_, v, _ := strings.Cut(l, "=")
		d, err := types.DecodeJSON([]byte(v))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		f, _ := d.(*types.Struct).Get(name)
		out = append(out, Format(f))
	}
	return out
}

func pipeColors(h *harness, colors ...string) {
	for _, c := range colors {
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "key", sensor("color", c), 1)
	}
}

func TestUpstreamFilter(t *testing.T) {
	for _, file := range []string{"test-filter.yaml", "test-filter-globalcode.yaml"} {
		h := corpusHarness(t, file)
		pipeColors(h, "blue", "red", "green", "blue", "red")
		out := h.out("ksml_sensordata_filtered", "string", sensorType)
		expect(t, file, field(t, out, "color"), "blue", "blue")
	}
}

func TestUpstreamFilterNot(t *testing.T) {
	h := corpusHarness(t, "test-filternot.yaml")
	pipeColors(h, "blue", "red", "green", "blue", "red")
	expect(t, "colors", field(t, h.out("ksml_sensordata_filtered", "string", sensorType), "color"), "red", "green", "red")
}

func TestUpstreamBranching(t *testing.T) {
	h := corpusHarness(t, "test-branching.yaml")
	pipeColors(h, "blue", "red", "blue", "green", "blue", "red", "green")
	expect(t, "blue", field(t, h.out("ksml_sensordata_blue", "string", sensorType), "color"), "blue", "blue", "blue")
	expect(t, "red", field(t, h.out("ksml_sensordata_red", "string", sensorType), "color"), "red", "red")
}

func TestUpstreamRouting(t *testing.T) {
	h := corpusHarness(t, "test-routing.yaml")
	for _, k := range []string{"sensor1", "sensor2", "sensor3", "sensor0", "sensor1", "sensor1", "sensor2", "sensor99", "random_key", "sensor1"} {
		h.mustPipe("ksml_sensordata_avro", "string", "string", k, "some_value", 1)
	}
	expect(t, "sensor0", h.out("ksml_sensordata_sensor0", "string", "string"),
		"sensor3=some_value", "sensor0=some_value", "sensor99=some_value", "random_key=some_value")
	expect(t, "sensor1", h.out("ksml_sensordata_sensor1", "string", "string"),
		"sensor1=some_value", "sensor1=some_value", "sensor1=some_value", "sensor1=some_value")
	expect(t, "sensor2", h.out("ksml_sensordata_sensor2", "string", "string"), "sensor2=some_value", "sensor2=some_value")
}

func TestUpstreamCopyAndTransformToNone(t *testing.T) {
	h := corpusHarness(t, "test-copying.yaml")
	h.mustPipe("ksml_sensordata_avro", "string", "string", "key1", "value1", 1)
	expect(t, "copy", h.out("ksml_sensordata_copy", "string", "string"), "key1=value1")

	h = corpusHarness(t, "test-transform-to-none.yaml")
	h.mustPipe("ksml_sensordata_avro", "string", "string", "key1", nil, 1)
	recs := h.drv.Output("ksml_sensordata_copy")
	if len(recs) != 1 || string(recs[0].Key) != "key1" || recs[0].Value != nil {
		t.Errorf("transform to none: %+v", recs)
	}
}

func mapInputs() []*types.Struct {
	return []*types.Struct{
		sensor("city", "AMS", "type", "HUMIDITY", "unit", "%", "value", "80"),
		sensor("city", "UTR", "type", "HUMIDITY", "unit", "%", "value", "75"),
		sensor("city", "AMS", "type", "TEMPERATURE", "unit", "C", "value", "25"),
		sensor("city", "UTR", "type", "TEMPERATURE", "unit", "C", "value", "27"),
	}
}

func TestUpstreamMapKeyAndAliases(t *testing.T) {
	for _, file := range []string{"test-mapkey-expression.yaml", "test-mapkey-code.yaml", "test-selectkey-expression.yaml",
		"test-selectkey-code.yaml", "test-transformkey-expression.yaml", "test-transformkey-code.yaml"} {
		h := corpusHarness(t, file)
		in := mapInputs()
		h.mustPipe("input_topic", "string", sensorType, "amsterdam", in[0], 1)
		h.mustPipe("input_topic", "string", sensorType, "utrecht", in[1], 2)
		out := h.out("output_topic", "string", sensorType)
		var keys []string
		for _, l := range out {
			k, _, _ := strings.Cut(l, "=")
			keys = append(keys, k)
		}
		expect(t, file+" keys", keys, "AMST", "UTRE")
		expect(t, file+" cities", field(t, out, "city"), "AMS", "UTR")
		expect(t, file+" values", field(t, out, "value"), "80", "75")
	}
}

func TestUpstreamMapAndTransformKeyValue(t *testing.T) {
	for _, file := range []string{"test-map-expression.yaml", "test-map-code.yaml",
		"test-transformkeyvalue-expression.yaml", "test-transformkeyvalue-code.yaml"} {
		h := corpusHarness(t, file)
		for i, r := range mapInputs() {
			h.mustPipe("input_topic", "string", sensorType, fmt.Sprint(i), r, 1)
		}
		expect(t, file, h.out("output_topic", "string", "string"),
			"AMS=HUMIDITY 80", "UTR=HUMIDITY 75", "AMS=TEMPERATURE 25", "UTR=TEMPERATURE 27")
	}
}

func TestUpstreamMapValueAndAliases(t *testing.T) {
	for _, file := range []string{"test-mapvalue-expression.yaml", "test-mapvalues-expression.yaml", "test-transformvalue-expression.yaml",
		"test-mapvalue-code.yaml", "test-mapvalues-code.yaml", "test-transformvalue-code.yaml"} {
		h := corpusHarness(t, file)
		for _, r := range mapInputs() {
			h.mustPipe("input_topic", "string", sensorType, "key", r, 1)
		}
		expect(t, file, h.out("output_topic", "string", "string"),
			"key=HUMIDITY 80", "key=HUMIDITY 75", "key=TEMPERATURE 25", "key=TEMPERATURE 27")
	}
}

func TestUpstreamStateStore(t *testing.T) {
	for _, file := range []string{"test-state-store.yaml", "test-state-store-avro.yaml"} {
		h := corpusHarness(t, file)
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "80"), 1)
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor2", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "26"), 2)
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "70"), 3)
		st, ok := h.drv.Store("last_sensor_data_store")
		if !ok {
			t.Fatalf("%s: store not found", file)
		}
		kv, err := h.res.Stores.KeyValue("last_sensor_data_store").Typed(st)
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string][2]string{"sensor1": {"Amsterdam", "70"}, "sensor2": {"Utrecht", "26"}} {
			v, err := kv.Get(key)
			if err == nil {
				v, err = types.Resolve(v) // json values come back lazily decoded
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			s, ok := v.(*types.Struct)
			if !ok {
				t.Fatalf("%s: %s is %T", file, key, v)
			}
			city, _ := s.Get("city")
			value, _ := s.Get("value")
			if city != want[0] || value != want[1] {
				t.Errorf("%s: %s = %s", file, key, Format(s))
			}
		}
	}
}

func TestUpstreamTimestampedStateStore(t *testing.T) {
	for _, file := range []string{"test-state-store-timestamped.yaml", "test-state-store-timestamped-avro.yaml"} {
		h := corpusHarness(t, file)
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "80"), 1)
		h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor2", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "26"), 2)
		st, ok := h.drv.Store("last_sensor_data_store")
		if !ok {
			t.Fatalf("%s: store not found", file)
		}
		b := h.res.Stores.KeyValue("last_sensor_data_store")
		ts, err := b.TypedTimestamped(st)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		v, err := ts.Get("sensor1")
		if err != nil {
			t.Fatal(err)
		}
		vt := v.(*types.Struct)
		stamp, _ := vt.Get("timestamp")
		inner, _ := vt.Get("value")
		inner, _ = types.Resolve(inner)
		city, _ := inner.(*types.Struct).Get("city")
		if city != "Amsterdam" || stamp.(int64) < 1_600_000_000_000 {
			t.Errorf("%s: sensor1 = %s", file, Format(vt))
		}
		plain, _ := b.Typed(st)
		pv, _ := plain.Get("sensor2")
		pv, _ = types.Resolve(pv)
		if c, _ := pv.(*types.Struct).Get("city"); c != "Utrecht" {
			t.Errorf("%s: plain view sensor2 = %s", file, Format(pv))
		}
	}
}
