package observability

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/runner/config"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

// fakeClock is a settable clock for exact rates and decays.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// serve starts h on a real loopback listener and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	s, err := Serve("127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return "http://" + s.Addr()
}

func httpGet(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// scrape returns the exposition of r over HTTP.
func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	code, body, hdr := httpGet(t, serve(t, r.Handler())+"/metrics")
	if code != 200 {
		t.Fatalf("scrape: status %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	return body
}

// samples returns the sample lines of body whose name starts with prefix.
func samples(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestExpositionWithTagsAndUserCounter(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{
		Tags:  map[string]string{"application": "microservices-integration", "Team-Name": "platform"},
		AppID: "my-app", AppVersion: "1.2.3", BuildTime: "2026-01-02T03:04:05Z",
		Clock: clk.Now,
	})
	c := r.UserMetric(python.CounterMetric, "received-records", map[string]string{"format": "AVRO"})
	c.Record(1)
	c.Record(17)
	// The same kind, name and tags is the same instrument.
	r.UserMetric(python.CounterMetric, "received-records", map[string]string{"format": "AVRO"}).Record(2)

	want := `# HELP ksml_app Build and version information for the running KSML application; the value is always 1 and the details are exposed as labels
# TYPE ksml_app gauge
ksml_app{app_id="my-app",application="microservices-integration",build_time="2026-01-02T03:04:05Z",name="ksml",team_name="platform",version="1.2.3"} 1
# HELP ksml_user_defined_counter_count User-defined counter metric registered from KSML user code
# TYPE ksml_user_defined_counter_count counter
ksml_user_defined_counter_count{application="microservices-integration",custom_name="received-records",format="AVRO",team_name="platform"} 20
`
	if got := scrape(t, r); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	// The root path serves the same, as upstream's exporter does.
	base := serve(t, r.Handler())
	if code, body, _ := httpGet(t, base+"/"); code != 200 || body != want {
		t.Errorf("GET /: %d\n%s", code, body)
	}
	if code, _, _ := httpGet(t, base+"/other"); code != 404 {
		t.Errorf("GET /other: %d, want 404", code)
	}
}

func TestMeterRatesFollowDropwizard(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk.Now})
	r.UserMetric(python.MeterMetric, "events", nil).Record(3)
	// The first tick happens once more than 5 s have passed.
	clk.Add(5*time.Second + time.Millisecond)
	body := scrape(t, r)
	want := strings.Join([]string{
		`ksml_user_defined_meter_count{custom_name="events"} 3`,
		`ksml_user_defined_meter_fifteenminuterate{custom_name="events"} 0.6`,
		`ksml_user_defined_meter_fiveminuterate{custom_name="events"} 0.6`,
		`ksml_user_defined_meter_meanrate{custom_name="events"} 0.5998800239952009`,
		`ksml_user_defined_meter_oneminuterate{custom_name="events"} 0.6`,
	}, "\n")
	if got := samples(body, "ksml_user_defined_meter"); got != want {
		t.Errorf("meter after one tick:\n%s\nwant:\n%s", got, want)
	}

	// One, two and three minutes later the rates have decayed as
	// Dropwizard's exponentially weighted moving averages do.
	wants := [][3]float64{
		{0.22072766470286553, 0.49123845184678905, 0.5613041910189706},
		{0.08120116994196772, 0.4021920276213837, 0.5251039914257684},
		{0.029872241020718428, 0.32928698165641596, 0.4912384518467888},
	}
	for i, w := range wants {
		clk.Add(time.Minute)
		body := scrape(t, r)
		for j, name := range []string{"oneminuterate", "fiveminuterate", "fifteenminuterate"} {
			got := sampleValue(t, body, `ksml_user_defined_meter_`+name+`{custom_name="events"}`)
			if math.Abs(got-w[j]) > 1e-9 {
				t.Errorf("minute %d %s = %v, want %v", i+1, name, got, w[j])
			}
		}
	}
}

func sampleValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in:\n%s", series, body)
	return 0
}

func TestTimerStatisticsInMilliseconds(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk.Now})
	tm := r.UserMetric(python.TimerMetric, "processing-time", map[string]string{"format": "JSON"})
	for i := 1; i <= 100; i++ {
		tm.Record(float64(time.Duration(i) * time.Millisecond))
	}
	clk.Add(10 * time.Second)
	body := scrape(t, r)
	l := `{custom_name="processing-time",format="JSON"}`
	// Equal weights (all in one second): quantile q is the value whose
	// cumulative weight range holds q, as Dropwizard's weighted snapshot
	// (cumulative sums of 0.01 land just above 0.98 and 0.99, so those pick
	// the value below). Rates: one tick at 20/s, then one idle tick.
	want := strings.Join([]string{
		`ksml_user_defined_timer_50thpercentile` + l + ` 50`,
		`ksml_user_defined_timer_75thpercentile` + l + ` 75`,
		`ksml_user_defined_timer_95thpercentile` + l + ` 95`,
		`ksml_user_defined_timer_98thpercentile` + l + ` 98`,
		`ksml_user_defined_timer_999thpercentile` + l + ` 100`,
		`ksml_user_defined_timer_99thpercentile` + l + ` 99`,
		`ksml_user_defined_timer_count` + l + ` 100`,
		`ksml_user_defined_timer_fifteenminuterate` + l + ` 19.889196960097937`,
		`ksml_user_defined_timer_fiveminuterate` + l + ` 19.669429076432348`,
		`ksml_user_defined_timer_max` + l + ` 100`,
		`ksml_user_defined_timer_mean` + l + ` 50.5`,
		`ksml_user_defined_timer_meanrate` + l + ` 10`,
		`ksml_user_defined_timer_min` + l + ` 1`,
		`ksml_user_defined_timer_oneminuterate` + l + ` 18.400888292586465`,
		`ksml_user_defined_timer_stddev` + l + ` 28.86607004772212`,
	}, "\n")
	if got := samples(body, "ksml_user_defined_timer"); got != want {
		t.Errorf("timer:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(body, "# TYPE ksml_user_defined_timer_max gauge\n") {
		t.Errorf("timer series are not gauges:\n%s", body)
	}
}

func TestTimerFavoursRecentDurations(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk.Now})
	tm := r.ExecutionTimer(FunctionLabels{Namespace: "ns", FunctionType: "forEach", FunctionName: "f"})
	tm.Observe(time.Millisecond)
	clk.Add(100 * time.Second)
	tm.Observe(100 * time.Millisecond)
	tm.Observe(-time.Second) // ignored, as upstream's timers ignore negative durations
	body := scrape(t, r)
	// Weights exp(0.015*age): 1 for the old value, e^1.5 for the new one.
	w := math.Exp(0.015 * 100)
	wantMean := (1 + 100*w) / (1 + w)
	l := `{function_name="f",function_type="forEach",namespace="ns"}`
	if got := sampleValue(t, body, "ksml_execution_time_mean"+l); math.Abs(got-wantMean) > 1e-9 {
		t.Errorf("mean = %v, want %v", got, wantMean)
	}
	if got := sampleValue(t, body, "ksml_execution_time_count"+l); got != 2 {
		t.Errorf("count = %v, want 2", got)
	}
	if got := sampleValue(t, body, "ksml_execution_time_50thpercentile"+l); got != 100 {
		t.Errorf("median = %v, want 100 (the heavier recent value)", got)
	}
}

func TestReservoirStaysBounded(t *testing.T) {
	clk := newFakeClock()
	tm := newTimer(clk.Now)
	for i := range 5000 {
		tm.Observe(time.Duration(i))
		if i%100 == 0 {
			clk.Add(time.Second)
		}
	}
	if n := len(tm.r.samples); n != reservoirSize {
		t.Errorf("reservoir holds %d samples, want %d", n, reservoirSize)
	}
	// After two hours the hourly rescale has run and weights are finite.
	clk.Add(2 * time.Hour)
	tm.Observe(time.Millisecond)
	v := tm.values()
	if v.count != 5001 || math.IsNaN(v.snap.mean()) || math.IsInf(v.snap.mean(), 0) {
		t.Errorf("after rescale: count %d mean %v", v.count, v.snap.mean())
	}
}

func TestExecutionTimeLabels(t *testing.T) {
	clk := newFakeClock()
	r := New(Options{Clock: clk.Now})
	tm := r.ExecutionTimer(FunctionLabels{
		Namespace: "inspect", Pipeline: "consume_avro", OperationName: "inspect_pipelines_consume_avro_forEach",
		FunctionType: "forEach", FunctionName: "pipelines_consume_avro_forEach",
	})
	start := clk.Now()
	clk.Add(4 * time.Millisecond)
	tm.Since(start)
	if r.ExecutionTimer(FunctionLabels{
		Namespace: "inspect", Pipeline: "consume_avro", OperationName: "inspect_pipelines_consume_avro_forEach",
		FunctionType: "forEach", FunctionName: "pipelines_consume_avro_forEach",
	}) != tm {
		t.Error("same labels gave a different timer")
	}
	body := scrape(t, r)
	want := `ksml_execution_time_count{function_name="pipelines_consume_avro_forEach",function_type="forEach",namespace="inspect",operation_name="inspect_pipelines_consume_avro_forEach",pipeline="consume_avro"} 1`
	if got := samples(body, "ksml_execution_time_count"); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if got := sampleValue(t, body, strings.Replace(want[:strings.Index(want, "}")+1], "_count", "_max", 1)); got != 4 {
		t.Errorf("max = %v ms, want 4", got)
	}
	if !strings.Contains(body, "# HELP ksml_execution_time_count Execution time statistics of a KSML user function per invocation; durations are in milliseconds and rates are per second\n# TYPE ksml_execution_time_count gauge\n") {
		t.Errorf("help/type of ksml_execution_time_count:\n%s", body)
	}
}

func TestPipelineProducerAndLagSeries(t *testing.T) {
	r := New(Options{Tags: map[string]string{"team": "platform"}})
	p := r.Pipeline("orders", "enrich")
	p.Consumed(5)
	p.Produced(4)
	p.Failed(ProcessError, 1)
	p.Failed(ErrorKind(9), 1) // unknown kinds are ignored
	if r.Pipeline("orders", "enrich") != p {
		t.Error("same pipeline gave different counters")
	}
	g := r.Producer("orders", "generate")
	g.Produced(10)
	g.Failed(2)
	r.SetConsumerLag("orders-in", 0, 12)
	r.SetConsumerLag("orders-in", 1, -3)
	r.SetConsumerLag("orders-in", 2, 7)
	r.RemoveConsumerLag("orders-in", 2)
	r.EnforcedProcessing("0_1", 2)
	r.EnforcedProcessing("0_1", 3)
	body := scrape(t, r)
	want := `ksml_consumer_records_lag{partition="0",team="platform",topic="orders-in"} 12
ksml_consumer_records_lag{partition="1",team="platform",topic="orders-in"} 0
ksml_enforced_processing_total{task="0_1",team="platform"} 5
ksml_pipeline_records_consumed_total{namespace="orders",pipeline="enrich",team="platform"} 5
ksml_pipeline_records_failed_total{error="consume",namespace="orders",pipeline="enrich",team="platform"} 0
ksml_pipeline_records_failed_total{error="process",namespace="orders",pipeline="enrich",team="platform"} 1
ksml_pipeline_records_failed_total{error="produce",namespace="orders",pipeline="enrich",team="platform"} 0
ksml_pipeline_records_produced_total{namespace="orders",pipeline="enrich",team="platform"} 4
ksml_producer_records_failed_total{namespace="orders",producer="generate",team="platform"} 2
ksml_producer_records_produced_total{namespace="orders",producer="generate",team="platform"} 10`
	var got []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "ksml_") && !strings.HasPrefix(l, "ksml_app") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if !strings.Contains(body, "# TYPE ksml_pipeline_records_consumed_total counter\n") {
		t.Errorf("consumed is not a counter:\n%s", body)
	}
}

func TestNilRegistryIsDisabled(t *testing.T) {
	var r *Registry
	if ins := r.UserMetric(python.CounterMetric, "x", nil); ins != nil {
		t.Errorf("UserMetric on nil = %v", ins)
	}
	// None of these may panic.
	r.ExecutionTimer(FunctionLabels{}).Observe(time.Second)
	r.ExecutionTimer(FunctionLabels{}).Since(time.Now())
	r.Pipeline("a", "b").Consumed(1)
	r.Pipeline("a", "b").Produced(1)
	r.Pipeline("a", "b").Failed(ConsumeError, 1)
	r.Producer("a", "b").Produced(1)
	r.Producer("a", "b").Failed(1)
	r.SetConsumerLag("t", 0, 1)
	r.RemoveConsumerLag("t", 0)
	r.EnforcedProcessing("0_0", 1)
	var c *Counter
	c.Record(1)
	if c.Value() != 0 {
		t.Error("nil counter has a value")
	}
	var m *Meter
	m.Record(1)
}

func TestUserTagsAreSanitizedAndCannotReplaceCustomName(t *testing.T) {
	r := New(Options{Tags: map[string]string{"format": "const", "region": "eu"}})
	r.UserMetric(python.CounterMetric, "n", map[string]string{
		"custom-name": "spoof", "Format": "AVRO", "9lives": "x", "a b..c": "y", "bad\xffvalue": "v\xff",
	}).Record(1)
	body := scrape(t, r)
	// A series label wins over a tag of the same name.
	want := `ksml_user_defined_counter_count{_9lives="x",a_b_c="y",bad_value="v\ufffd",custom_name="n",format="AVRO",region="eu"} 1`
	want = strings.Replace(want, `\ufffd`, "\ufffd", 1)
	if got := samples(body, "ksml_user_defined_counter_count{"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"custom-name": "custom_name", "Team": "team", "a--b": "a_b", "__x": "_x", "1st": "_1st",
		"ok_name": "ok_name", "": "", "é": "_",
	} {
		if got := LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuntimeMetricsCarryTags(t *testing.T) {
	r := New(Options{RuntimeMetrics: true, Tags: map[string]string{"team": "platform"}})
	body := scrape(t, r)
	if !strings.Contains(body, "\ngo_goroutines{team=\"platform\"} ") {
		t.Errorf("no tagged go_goroutines series:\n%.2000s", body)
	}
	// A tag named like a runtime label keeps the runtime series, untagged.
	r = New(Options{RuntimeMetrics: true, Tags: map[string]string{"version": "v"}})
	if body := scrape(t, r); !strings.Contains(body, "\ngo_goroutines ") {
		t.Errorf("runtime series missing when a tag collides:\n%.2000s", body)
	}
}

func TestResolveMetrics(t *testing.T) {
	prom := config.Default().KSML.Prometheus
	ep, err := ResolveMetrics(prom, nil)
	if err != nil || ep.Enabled || ep.Addr != "0.0.0.0:9999" || len(ep.Tags) != 0 {
		t.Errorf("defaults: %+v, %v", ep, err)
	}
	prom.Host, prom.Port = "127.0.0.1", 9100
	a := &definition.MetricsConfig{Enabled: true, Reporter: "prometheus", Tags: map[string]string{"team": "a", "app": "x"}, Pos: definition.Pos{File: "a.yaml", Line: 3, Col: 3}}
	off := &definition.MetricsConfig{Enabled: false, Tags: map[string]string{"ignored": "y"}}
	ep, err = ResolveMetrics(prom, []*definition.MetricsConfig{nil, off, a})
	if err != nil || !ep.Enabled || ep.Addr != "127.0.0.1:9100" || len(ep.Tags) != 2 || ep.Tags["team"] != "a" || ep.Tags["app"] != "x" {
		t.Errorf("seed enables: %+v, %v", ep, err)
	}
	b := &definition.MetricsConfig{Enabled: true, Tags: map[string]string{"team": "b"}, Pos: definition.Pos{File: "b.yaml", Line: 4, Col: 5}}
	jmx := &definition.MetricsConfig{Enabled: true, Reporter: "jmx", Pos: definition.Pos{File: "c.yaml", Line: 6, Col: 7}}
	_, err = ResolveMetrics(prom, []*definition.MetricsConfig{a, b, jmx})
	want := `b.yaml:4:5: configuration.metrics.tags.team is "b" here but "a" at a.yaml:3:3` + "\n" +
		`c.yaml:6:7: configuration.metrics.reporter "jmx" is not supported; use prometheus`
	if err == nil || err.Error() != want {
		t.Errorf("conflicts: %v\nwant %s", err, want)
	}
}

// The seed's monitoring example: its tags label every series.
func TestSeedMetricsConfiguration(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "acceptance", "seed", "definitions", "service-discovery-and-metrics.yaml")
	if _, err := os.Stat(path); err != nil {
		sharedtest.Missing(t, path)
	}
	def, err := definition.Load(path, definition.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if def.Configuration == nil || def.Configuration.Metrics == nil {
		t.Fatalf("no configuration.metrics parsed")
	}
	ep, err := ResolveMetrics(config.Prometheus{Host: "127.0.0.1", Port: 0}, []*definition.MetricsConfig{def.Configuration.Metrics})
	if err != nil || !ep.Enabled {
		t.Fatalf("ResolveMetrics: %+v, %v", ep, err)
	}
	r := New(Options{Tags: ep.Tags, AppID: "seed", AppVersion: "v", BuildTime: "t"})
	s, err := Serve(ep.Addr, r.Handler(), nil)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	defer s.Shutdown(context.Background())
	r.Pipeline(def.Namespace, "discovery-pipeline").Consumed(1)
	_, body, _ := httpGet(t, "http://"+s.Addr()+"/metrics")
	want := `ksml_app{app_id="seed",application="microservices-integration",build_time="t",name="ksml",team="platform-team",version="v"} 1` + "\n" +
		`ksml_pipeline_records_consumed_total{application="microservices-integration",namespace="` + def.Namespace + `",pipeline="discovery-pipeline",team="platform-team"} 1`
	if got := samples(body, "ksml_app") + "\n" + samples(body, "ksml_pipeline_records_consumed"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestServeReportsBindErrors(t *testing.T) {
	s, err := Serve("127.0.0.1:0", http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	_, err = Serve(s.Addr(), http.NotFoundHandler(), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "listening on "+s.Addr()+": ") {
		t.Errorf("second bind: %v", err)
	}
	if _, err := Serve("256.1.1.1:80", http.NotFoundHandler(), nil); err == nil {
		t.Error("bad host accepted")
	}
}
