package observability

import (
	"strings"
	"testing"
	"time"
)

// Upstream's node-name examples (KsmlTagEnricherTest).
func TestParseNodeName(t *testing.T) {
	valid := map[string]NodeName{
		"inspect_pipelines_consume_avro_forEach":                             {"inspect", "consume_avro", "", "forEach"},
		"copy_pipelines_main_copy_pipeline_via_step1_peek":                   {"copy", "main_copy_pipeline", "1", "peek"},
		"copy_pipelines_main_copy_pipeline_to":                               {"copy", "main_copy_pipeline", "", "to"},
		"duplicate_pipelines_main_via_step1_transformKeyValueToKeyValueList": {"duplicate", "main", "1", "transformKeyValueToKeyValueList"},
		"convert_pipelines_main_to_xml_via_step2_peek":                       {"convert", "main_to_xml", "2", "peek"},
		"convert_pipelines_alternate_to_xml_to":                              {"convert", "alternate_to_xml", "", "to"},
		"route_pipelines_main_toTopicNameExtractor":                          {"route", "main", "", "toTopicNameExtractor"},
		"queryable_table_pipelines_main_via_step2_peek":                      {"queryable_table", "main", "2", "peek"},
		"convert_pipelines_main_to_via_xml_via_step6_peek":                   {"convert", "main_to_via_xml", "6", "peek"},
		"via_convert_main_pipelines_main_to_via_xml_via_step6_peek":          {"via_convert_main", "main_to_via_xml", "6", "peek"},
		"ns-with-dash_pipelines_pipe.with.dots_op":                           {"ns-with-dash", "pipe.with.dots", "", "op"},
		"ns_pipelines_a_via_stepx_op":                                        {"ns", "a_via_stepx", "", "op"},
		"ns_pipelines_main_via_step12_mapValues":                             {"ns", "main", "12", "mapValues"},
	}
	for in, want := range valid {
		got, ok := ParseNodeName(in)
		if !ok || got != want {
			t.Errorf("ParseNodeName(%q) = %+v, %v; want %+v", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"invalid_format", "missing_pipelines_part", "namespace_pipeline_operation", "_pipelines_pipeline_op",
		"ns_pipelines__op", "ns_pipelines_pipe_", "ns_pipelines_p_via_step2_x_op",
		"KSTREAM-SOURCE-0000000000", "", strings.Repeat("a", 490) + "_pipelines_p_op",
	} {
		if got, ok := ParseNodeName(in); ok {
			t.Errorf("ParseNodeName(%q) = %+v, want no match", in, got)
		}
	}
}

func TestRecordEndToEndLatency(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk.Now, Tags: map[string]string{"team": "platform"}})
	if r.NodeLatency("0_0", "KSTREAM-SOURCE-0000000000") != nil {
		t.Error("a non-KSML node got a latency recorder")
	}
	l := r.NodeLatency("1_3", "orders_pipelines_enrich_via_step2_peek")
	if r.NodeLatency("1_3", "orders_pipelines_enrich_via_step2_peek") != l {
		t.Error("same task and node gave a different recorder")
	}
	r.NodeLatency("1_3", "orders_pipelines_enrich_to") // a sink without records
	l.Observe(10 * time.Millisecond)
	l.Observe(30 * time.Millisecond)
	labels := `{namespace="orders",operation_name="peek",partition="3",pipeline="enrich",processor_node_id="orders_pipelines_enrich_via_step2_peek",step="2",subtopology="1",task_id="1_3",team="platform",unit="ms"}`
	check := func(when string, avg, lo, hi string) {
		t.Helper()
		body := scrape(t, r)
		want := strings.Join([]string{
			"ksml_record_e2e_latency_avg_ms_number" + labels + " " + avg,
			"ksml_record_e2e_latency_avg_ms_value" + labels + " " + avg,
			"ksml_record_e2e_latency_max_ms_number" + labels + " " + hi,
			"ksml_record_e2e_latency_max_ms_value" + labels + " " + hi,
			"ksml_record_e2e_latency_min_ms_number" + labels + " " + lo,
			"ksml_record_e2e_latency_min_ms_value" + labels + " " + lo,
		}, "\n")
		var got []string
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "ksml_record_e2e_latency") && strings.Contains(line, "step2_peek") {
				got = append(got, line)
			}
		}
		if strings.Join(got, "\n") != want {
			t.Errorf("%s:\n%s\nwant:\n%s", when, strings.Join(got, "\n"), want)
		}
	}
	check("first window", "20", "10", "30")
	clk.Add(31 * time.Second)
	l.Observe(50 * time.Millisecond)
	check("two windows", "30", "10", "50")
	clk.Add(34 * time.Second) // the first window is older than a minute
	check("first window expired", "50", "50", "50")
	clk.Add(30 * time.Second)
	check("all expired", "NaN", "NaN", "NaN")

	body := scrape(t, r)
	if !strings.Contains(body, `ksml_record_e2e_latency_avg_ms_value{namespace="orders",operation_name="to",partition="3",pipeline="enrich",processor_node_id="orders_pipelines_enrich_to",subtopology="1",task_id="1_3",team="platform",unit="ms"} NaN`) {
		t.Errorf("sink node series missing:\n%s", body)
	}
	if !strings.Contains(body, "# HELP ksml_record_e2e_latency_avg_ms_value Average end-to-end latency of records from the source topic to this KSML processor node, in milliseconds\n") {
		t.Errorf("help text missing:\n%s", body)
	}
	r.RemoveTask("1_3")
	if body := scrape(t, r); strings.Contains(body, "ksml_record_e2e_latency") {
		t.Errorf("series of a removed task remain:\n%s", body)
	}
	var none *Latency
	none.Observe(time.Second)
	var nr *Registry
	nr.RemoveTask("0_0")
	if nr.NodeLatency("0_0", "a_pipelines_b_c") != nil {
		t.Error("nil registry returned a recorder")
	}
}
