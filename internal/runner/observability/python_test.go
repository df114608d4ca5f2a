package observability

import (
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/python"
)

// Python's metrics object, on the real interpreter, lands in the registry
// under upstream's names.
func TestPythonMetricsReachPrometheus(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Tags: map[string]string{"team": "platform"}, Clock: clk.Now})
	in, err := python.Init(python.Options{Metrics: r})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() {
		if _, err := python.Init(python.Options{}); err != nil {
			t.Errorf("Init: %v", err)
		}
	})
	m, err := in.NewModule("inspect", "inspect.yaml", nil)
	if err != nil {
		t.Fatalf("NewModule: %v", err)
	}
	f, err := m.Define(python.FunctionSpec{Name: "inspect", Type: "forEach", Code: python.Source{File: "inspect.yaml", Line: 10, Text: strings.Join([]string{
		"metrics.counter('received-records', {'format': value['format']}).increment()",
		"metrics.counter('log_message-calls').increment(2)",
		"metrics.meter('records-in', {'format': value['format']}).mark()",
		"metrics.timer('processing-time', {'format': value['format']}).updateMillis(value['ms'])",
	}, "\n")}})
	if err != nil {
		t.Fatalf("Define: %v", err)
	}
	for _, ms := range []int64{4, 8} {
		v := map[string]any{"format": "AVRO", "ms": ms}
		if _, err := f.Call(nil, "key", v); err != nil {
			t.Fatalf("Call: %v", err)
		}
	}
	clk.Add(time.Second)
	body := scrape(t, r)
	want := strings.Join([]string{
		`ksml_user_defined_counter_count{custom_name="log_message-calls",team="platform"} 4`,
		`ksml_user_defined_counter_count{custom_name="received-records",format="AVRO",team="platform"} 2`,
		`ksml_user_defined_meter_count{custom_name="records-in",format="AVRO",team="platform"} 2`,
		`ksml_user_defined_meter_meanrate{custom_name="records-in",format="AVRO",team="platform"} 2`,
		`ksml_user_defined_timer_count{custom_name="processing-time",format="AVRO",team="platform"} 2`,
		`ksml_user_defined_timer_max{custom_name="processing-time",format="AVRO",team="platform"} 8`,
		`ksml_user_defined_timer_mean{custom_name="processing-time",format="AVRO",team="platform"} 6`,
		`ksml_user_defined_timer_min{custom_name="processing-time",format="AVRO",team="platform"} 4`,
	}, "\n")
	var got []string
	for _, l := range strings.Split(body, "\n") {
		for _, p := range []string{"ksml_user_defined_counter_count", "ksml_user_defined_meter_count", "ksml_user_defined_meter_meanrate", "ksml_user_defined_timer_count", "ksml_user_defined_timer_max", "ksml_user_defined_timer_mean{", "ksml_user_defined_timer_min"} {
			if strings.HasPrefix(l, p) {
				got = append(got, l)
			}
		}
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
