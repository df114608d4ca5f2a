package observability

import (
	"cmp"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	buildversion "github.com/ksml-dev/ksml/internal/version"
)

// Options configures a Registry.
type Options struct {
	// Tags are constant labels added to every series, such as the seed
	// document's configuration.metrics.tags. A series' own label of the same
	// name wins over a tag.
	Tags map[string]string
	// AppID is the application.id, the app_id label of ksml_app.
	AppID string
	// AppName, AppVersion and BuildTime label ksml_app; empty values are
	// taken from the binary's build information ("ksml"; the module
	// version, else "dev"; the release build's -ldflags build time, else
	// the VCS time, else the executable's modification time, RFC 3339 in
	// UTC).
	AppName, AppVersion, BuildTime string
	// RuntimeMetrics adds the Go runtime (go_*) and process (process_*)
	// collectors, the counterparts of upstream's jvm_* and os_* series.
	RuntimeMetrics bool
	// Clock is the time source of rates and decays; nil means time.Now.
	Clock Clock
}

// Registry holds every metric ksml exports and serves them to Prometheus.
//
// A nil *Registry is valid and records nothing: every recording method
// returns nil handles, and every handle method is a no-op on nil, so the
// runtime can run with metrics disabled without checks on the hot path.
// Only serving (Handler, Gather, Prometheus) needs a real Registry.
type Registry struct {
	prom  *prometheus.Registry
	clock Clock
	tags  []labelPair

	mu        sync.Mutex
	series    map[string]*series // by kind, family and labels
	pipelines map[[2]string]*PipelineCounters
	producers map[[2]string]*ProducerCounters
	lag       map[lagKey]int64
	enforced  map[string]int64
	latencies map[[2]string]*Latency // by task ID and node name

	topicCounts func() []TopicCount
	dropped     DroppedRecords
}

// New returns a registry with ksml_app registered. Tag names are sanitized
// the way upstream's exporter sanitizes them (lowercase, other characters
// than letters, digits and '_' become '_').
func New(opts Options) *Registry {
	r := &Registry{
		prom:      prometheus.NewRegistry(),
		clock:     opts.Clock,
		series:    map[string]*series{},
		pipelines: map[[2]string]*PipelineCounters{},
		producers: map[[2]string]*ProducerCounters{},
		lag:       map[lagKey]int64{},
		enforced:  map[string]int64{},
		latencies: map[[2]string]*Latency{},
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	r.tags = makeLabels(opts.Tags)
	r.prom.MustRegister((*collector)(r))
	if opts.RuntimeMetrics {
		wrapped := prometheus.WrapRegistererWith(pairsToLabels(r.tags), r.prom)
		for _, c := range []prometheus.Collector{
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		} {
			// A tag named like a runtime label (go_info's "version") makes
			// the wrapped registration fail; keep the series, untagged.
			if wrapped.Register(c) != nil {
				_ = r.prom.Register(c)
			}
		}
	}
	name, version, built := buildInfo()
	app := &series{kind: kindConst, family: "ksml_app", value: 1, labels: r.withTags(makeLabels(map[string]string{
		"app_id":     opts.AppID,
		"name":       cmp.Or(opts.AppName, name),
		"version":    cmp.Or(opts.AppVersion, version),
		"build_time": cmp.Or(opts.BuildTime, built),
	}))}
	r.series[app.key()] = app
	return r
}

func buildInfo() (name, version, built string) {
	name, version = "ksml", "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				built = s.Value
			}
		}
	}
	if bt := buildversion.Get("").BuildTime; bt != "" {
		// A release build records when it was built (-ldflags).
		built = bt
	}
	if built == "" {
		// Builds without VCS stamping (go test, -buildvcs=false): the
		// binary's own modification time is when it was built.
		if exe, err := os.Executable(); err == nil {
			if fi, err := os.Stat(exe); err == nil {
				built = fi.ModTime().UTC().Format(time.RFC3339)
			}
		}
	}
	return name, version, built
}

// Handler serves the registry at /metrics and / (as upstream's exporter
// does) in the Prometheus text format, or the format the scraper
// negotiates. A collector that fails is left out; the rest is still served.
func (r *Registry) Handler() http.Handler {
	h := promhttp.HandlerFor(r.prom, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	mux.Handle("GET /{$}", h)
	return mux
}

// Gather returns the current metric families, sorted by name.
func (r *Registry) Gather() ([]*dto.MetricFamily, error) { return r.prom.Gather() }

// Prometheus returns the underlying registry, for registering further
// collectors (Kafka client metrics, for example). Collectors registered
// here do not get the tags.
func (r *Registry) Prometheus() *prometheus.Registry { return r.prom }

// ---------------------------------------------------------------- labels

type labelPair struct{ name, value string }

// makeLabels sanitizes names and values of m into sorted pairs. Of two
// names that sanitize alike, the one that sorts first (by original name)
// wins; empty names are dropped.
func makeLabels(m map[string]string) []labelPair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]labelPair, 0, len(keys))
	seen := map[string]bool{}
	for _, k := range keys {
		n := LabelName(k)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, labelPair{n, validUTF8(m[k])})
	}
	slices.SortFunc(out, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	return out
}

// validUTF8 replaces invalid bytes, which Prometheus rejects in label
// values.
func validUTF8(s string) string { return strings.ToValidUTF8(s, string(utf8.RuneError)) }

// withTags adds the registry's tags to ls where ls lacks the name.
func (r *Registry) withTags(ls []labelPair) []labelPair {
	if len(r.tags) == 0 {
		return ls
	}
	out := slices.Clone(ls)
	for _, t := range r.tags {
		if !slices.ContainsFunc(ls, func(l labelPair) bool { return l.name == t.name }) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	return out
}

func pairsToLabels(ls []labelPair) prometheus.Labels {
	m := prometheus.Labels{}
	for _, l := range ls {
		m[l.name] = l.value
	}
	return m
}

// LabelName turns a tag name into a Prometheus label name as upstream's
// exporter does: lowercase, every run of characters other than letters,
// digits and '_' becomes one '_', and a leading digit gets a '_' prefix.
// Names that would start with the reserved "__" lose the extra '_'.
func LabelName(s string) string {
	var b strings.Builder
	prevUnderscore := false
	for _, c := range strings.ToLower(s) {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !ok || c == '_' {
			if !prevUnderscore {
				b.WriteByte('_')
			}
			prevUnderscore = true
			continue
		}
		b.WriteRune(c)
		prevUnderscore = false
	}
	n := b.String()
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

// ---------------------------------------------------------------- series

type seriesKind int

const (
	kindCounter seriesKind = iota // Dropwizard counter: <family>_count
	kindMeter                     // Dropwizard meter: count and rates
	kindTimer                     // Dropwizard timer: count, rates, statistics
	kindConst                     // a gauge with a fixed value
)

// series is one registered instrument with its labels.
type series struct {
	kind    seriesKind
	family  string
	labels  []labelPair
	counter *Counter
	meter   *Meter
	timer   *Timer
	value   float64
}

func (s *series) key() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(s.kind)))
	b.WriteByte(0)
	b.WriteString(s.family)
	for _, l := range s.labels {
		b.WriteByte(0)
		b.WriteString(l.name)
		b.WriteByte(0)
		b.WriteString(l.value)
	}
	return b.String()
}

// instrument returns the registered series like proto, creating it on
// first use.
func (r *Registry) instrument(kind seriesKind, family string, labels []labelPair) *series {
	s := &series{kind: kind, family: family, labels: r.withTags(labels)}
	k := s.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.series[k]; ok {
		return old
	}
	switch kind {
	case kindCounter:
		s.counter = &Counter{}
	case kindMeter:
		s.meter = newMeterInstrument(r.clock)
	case kindTimer:
		s.timer = newTimer(r.clock)
	}
	r.series[k] = s
	return s
}

// Help texts, as upstream describes its series (a meter or timer family
// shares the text across its suffixes).
var familyHelp = map[string]string{
	"ksml_app":                       "Build and version information for the running KSML application; the value is always 1 and the details are exposed as labels",
	"ksml_execution_time":            "Execution time statistics of a KSML user function per invocation; durations are in milliseconds and rates are per second",
	"ksml_record_e2e_latency_avg_ms": "Average end-to-end latency of records from the source topic to this KSML processor node, in milliseconds",
	"ksml_record_e2e_latency_min_ms": "Minimum end-to-end latency of records from the source topic to this KSML processor node, in milliseconds",
	"ksml_record_e2e_latency_max_ms": "Maximum end-to-end latency of records from the source topic to this KSML processor node, in milliseconds",
	"ksml_user_defined_counter":      "User-defined counter metric registered from KSML user code",
	"ksml_user_defined_meter":        "User-defined meter metric registered from KSML user code; rates are in events per second",
	"ksml_user_defined_timer":        "User-defined timer metric registered from KSML user code; durations are in milliseconds and rates are per second",

	"ksml_dropped_records_total":           "Records a stateful processor dropped (late records for closed windows, null keys), per task and processor, as Kafka Streams' dropped-records-total",
	"ksml_pipeline_records_consumed_total": "Records a KSML pipeline read from its input topics",
	"ksml_pipeline_records_produced_total": "Records a KSML pipeline wrote to its output topics",
	"ksml_pipeline_records_failed_total":   "Records of a KSML pipeline that failed, by the error handler that saw them (consume, process, produce)",
	"ksml_producer_records_produced_total": "Records a KSML producer generated and wrote",
	"ksml_producer_records_failed_total":   "Records of a KSML producer that failed to be generated or produced",
	"ksml_topic_records_consumed_total":    "Records read from a topic",
	"ksml_topic_records_produced_total":    "Records written to a topic",
	"ksml_topic_records_failed_total":      "Records of a topic that failed, by the error handler that saw them (consume, process, produce)",
	"ksml_consumer_records_lag":            "Records between the consumer's position and the end of a partition (high watermark)",
	"ksml_enforced_processing_total":       "Records a task processed while one of its input partitions was empty after max.task.idle.ms, as Kafka Streams' enforced-processing-total",
}

func help(family string) string {
	if h, ok := familyHelp[family]; ok {
		return h
	}
	return family
}

// collector emits the registry's series at scrape time. It describes
// nothing, so the Prometheus registry accepts families whose series carry
// different label names (user tags differ per series), as upstream's
// exporter does.
type collector Registry

func (c *collector) Describe(chan<- *prometheus.Desc) {}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := (*Registry)(c)
	r.mu.Lock()
	all := make([]*series, 0, len(r.series))
	for _, s := range r.series {
		all = append(all, s)
	}
	pipes := make([]*PipelineCounters, 0, len(r.pipelines))
	for _, p := range r.pipelines {
		pipes = append(pipes, p)
	}
	prods := make([]*ProducerCounters, 0, len(r.producers))
	for _, p := range r.producers {
		prods = append(prods, p)
	}
	lags := make([]lagEntry, 0, len(r.lag))
	for k, v := range r.lag {
		lags = append(lags, lagEntry{k, v})
	}
	enforced := make(map[string]int64, len(r.enforced))
	for k, v := range r.enforced {
		enforced[k] = v
	}
	topicCounts, dropped := r.topicCounts, r.dropped
	lats := make([]*Latency, 0, len(r.latencies))
	for _, l := range r.latencies {
		lats = append(lats, l)
	}
	r.mu.Unlock()

	for _, l := range lats {
		l.emit(ch)
	}
	if topicCounts != nil {
		r.emitTopicCounts(ch, topicCounts)
	}
	if dropped != nil {
		r.emitDropped(ch, dropped)
	}
	for _, s := range all {
		emitSeries(ch, s)
	}
	for _, p := range pipes {
		p.emit(ch)
	}
	for _, p := range prods {
		p.emit(ch)
	}
	for task, n := range enforced {
		emit(ch, "ksml_enforced_processing_total", "", prometheus.CounterValue, float64(n),
			r.withTags([]labelPair{{"task", task}}))
	}
	for _, l := range lags {
		emit(ch, "ksml_consumer_records_lag", "", prometheus.GaugeValue, float64(l.lag),
			r.withTags([]labelPair{{"partition", strconv.Itoa(int(l.key.partition))}, {"topic", validUTF8(l.key.topic)}}))
	}
}

// emit sends one sample of family+suffix. Invalid label values were
// sanitized at registration, so errors here are not expected; a series that
// fails anyway is dropped rather than failing the scrape.
func emit(ch chan<- prometheus.Metric, family, suffix string, vt prometheus.ValueType, v float64, labels []labelPair) {
	desc := prometheus.NewDesc(family+suffix, help(family), nil, pairsToLabels(labels))
	if m, err := prometheus.NewConstMetric(desc, vt, v); err == nil {
		ch <- m
	}
}

var percentiles = []struct {
	suffix string
	q      float64
}{
	{"_50thpercentile", 0.5}, {"_75thpercentile", 0.75}, {"_95thpercentile", 0.95},
	{"_98thpercentile", 0.98}, {"_99thpercentile", 0.99}, {"_999thpercentile", 0.999},
}

// nanosPerMilli converts reservoir values (nanoseconds) to the
// milliseconds upstream reports durations in.
const nanosPerMilli = float64(time.Millisecond)

func emitRates(ch chan<- prometheus.Metric, family string, v meterValues, ls []labelPair) {
	g := prometheus.GaugeValue
	emit(ch, family, "_count", g, float64(v.count), ls)
	emit(ch, family, "_meanrate", g, v.mean, ls)
	emit(ch, family, "_oneminuterate", g, v.m1, ls)
	emit(ch, family, "_fiveminuterate", g, v.m5, ls)
	emit(ch, family, "_fifteenminuterate", g, v.m15, ls)
}

func emitSeries(ch chan<- prometheus.Metric, s *series) {
	switch s.kind {
	case kindConst:
		emit(ch, s.family, "", prometheus.GaugeValue, s.value, s.labels)
	case kindCounter:
		emit(ch, s.family, "_count", prometheus.CounterValue, float64(s.counter.Value()), s.labels)
	case kindMeter:
		emitRates(ch, s.family, s.meter.values(), s.labels)
	case kindTimer:
		v := s.timer.values()
		emitRates(ch, s.family, v.meterValues, s.labels)
		g := prometheus.GaugeValue
		lo, hi := v.snap.minMax()
		emit(ch, s.family, "_min", g, lo/nanosPerMilli, s.labels)
		emit(ch, s.family, "_max", g, hi/nanosPerMilli, s.labels)
		emit(ch, s.family, "_mean", g, v.snap.mean()/nanosPerMilli, s.labels)
		emit(ch, s.family, "_stddev", g, v.snap.stddev()/nanosPerMilli, s.labels)
		for _, p := range percentiles {
			emit(ch, s.family, p.suffix, g, v.snap.quantile(p.q)/nanosPerMilli, s.labels)
		}
	}
}
