// Package console serves the web console: one embedded page (the topology
// as a graph with live per-node rates, per-topic and per-pipeline counts,
// consumer lag, a topic browser, the state stores and the runner's state)
// and the JSON API under /console/api/ behind it.
//
// The page is a built bundle committed in assets/ (source and build in
// web/console); it loads nothing from any other host, so it works offline.
// The console reads what the runner and the runtime already count; it adds
// no work to the processing path. Everything it serves is read only, but it
// shows record contents: it must be bound like the application server (see
// docs/operations.md).
package console

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

//go:embed assets
var assets embed.FS

// Status is the runner's state as the page shows it.
type Status struct {
	// State is the runner's lifecycle state (CREATED, STARTING, STARTED,
	// STOPPING, STOPPED, FAILED).
	State string `json:"state"`
	// Streams is the pipelines' state with Kafka Streams' names
	// (REBALANCING, RUNNING, PENDING_SHUTDOWN, ERROR, NOT_RUNNING), empty
	// without pipelines.
	Streams string `json:"streams,omitempty"`
	// Error is why the runner or its pipelines failed, empty otherwise.
	Error string `json:"error,omitempty"`
	// Live and Ready are what /live and /ready answer.
	Live  bool `json:"live"`
	Ready bool `json:"ready"`
}

// TopicCount counts the records of one topic.
type TopicCount struct {
	Topic    string `json:"topic"`
	Consumed int64  `json:"consumed"`
	Produced int64  `json:"produced"`
	Failed   int64  `json:"failed"`
}

// PartitionLag is the consumer lag of one assigned partition.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Lag       int64  `json:"lag"`
}

// Pipeline names a pipeline and the topics it reads and writes, so the page
// can show its records in and out.
type Pipeline struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	From      []string `json:"from"`
	To        []string `json:"to"`
}

// Options say what the console shows. Every part is optional: `ksml
// broker` gives only Kafka, so the page shows only its topic parts.
type Options struct {
	// Topology is the running topology: its graph, and its nodes'
	// counters for the live rates.
	Topology *streams.Topology
	// Pipelines lists the definitions' pipelines.
	Pipelines []Pipeline
	// Status returns the runner's state.
	Status func() Status
	// Topics returns the record counts per topic.
	Topics func() []TopicCount
	// Lags returns the consumer lag per assigned partition.
	Lags func() []PartitionLag
	// Kafka is how to connect to the cluster whose topics are browsed;
	// nil turns the topic browser off.
	Kafka []kgo.Opt
	// Serdes returns the key and value serdes the topology uses for a
	// topic; the browser decodes its records with them (JSON, Avro through
	// the schema registry, ...). Topics without serdes are shown as JSON,
	// text or base64, whichever fits the bytes.
	Serdes func(topic string) (key, value streams.Serde, ok bool)
	// DeadLetterTopics are the error handlers' dead-letter topics.
	DeadLetterTopics []string
	// StateQueries tells the page that the application server's /state
	// endpoints answer beside the console.
	StateQueries bool
	// Now is the clock of the metrics snapshots; nil is time.Now.
	Now func() time.Time
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
}

// Console is the http.Handler of the page and its API. Mount it at /console/.
type Console struct {
	opts  Options
	graph *Graph
	mux   *http.ServeMux
	log   *slog.Logger
	kafka *kafkaBrowser
}

// New returns the console. It connects to nothing until the topic browser
// is used; Close releases the Kafka client then.
func New(opts Options) *Console {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	if opts.Topology != nil {
		g := GraphOf(opts.Topology)
		c.graph = &g
	}
	if opts.Kafka != nil {
		c.kafka = newKafkaBrowser(opts.Kafka, opts.Serdes, opts.DeadLetterTopics)
	}
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	c.mux.Handle("GET /console/", http.StripPrefix("/console/", noCache(files)))
	c.mux.HandleFunc("GET /console/api/overview", c.overview)
	c.mux.HandleFunc("GET /console/api/topology", c.topology)
	c.mux.HandleFunc("GET /console/api/metrics", c.metrics)
	c.mux.HandleFunc("GET /console/api/topics", c.topics)
	c.mux.HandleFunc("GET /console/api/topics/{topic}/records", c.records)
	return c
}

// Exposed reports whether a server bound to addr (host:port) can be reached
// from other machines: any host but localhost and loopback addresses. The
// console has no authentication, so callers warn when it is.
func Exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Close closes the Kafka client of the topic browser, if one was made.
func (c *Console) Close() {
	if c.kafka != nil {
		c.kafka.close()
	}
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// noCache makes the browser revalidate the page and bundle, so an upgraded
// binary is never paired with an old bundle.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// Overview is what the page needs first: which parts to show.
type Overview struct {
	ApplicationID string     `json:"applicationId,omitempty"`
	Status        *Status    `json:"status,omitempty"`
	Topology      bool       `json:"topology"`
	Topics        bool       `json:"topics"`
	StateQueries  bool       `json:"stateQueries"`
	Pipelines     []Pipeline `json:"pipelines"`
	DeadLetter    []string   `json:"deadLetterTopics"`
}

func (c *Console) overview(w http.ResponseWriter, _ *http.Request) {
	o := Overview{Topology: c.graph != nil, Topics: c.kafka != nil, StateQueries: c.opts.StateQueries,
		Pipelines: c.opts.Pipelines, DeadLetter: c.opts.DeadLetterTopics}
	if o.Pipelines == nil {
		o.Pipelines = []Pipeline{}
	}
	if o.DeadLetter == nil {
		o.DeadLetter = []string{}
	}
	if c.graph != nil {
		o.ApplicationID = c.graph.ApplicationID
	}
	if c.opts.Status != nil {
		s := c.opts.Status()
		o.Status = &s
	}
	writeJSON(w, o)
}

func (c *Console) topology(w http.ResponseWriter, _ *http.Request) {
	if c.graph == nil {
		http.Error(w, "no topology: this console serves only topics", http.StatusNotFound)
		return
	}
	writeJSON(w, c.graph)
}

// NodeMetrics are the cumulative counters of one node; the page turns two
// snapshots into rates.
type NodeMetrics struct {
	Name         string `json:"name"`
	Records      int64  `json:"records"`
	Errors       int64  `json:"errors"`
	Sampled      int64  `json:"sampled"`
	SampledNanos int64  `json:"sampledNanos"`
}

// Metrics is one snapshot of every counter.
type Metrics struct {
	// Time is when the snapshot was taken, epoch ms.
	Time   int64          `json:"time"`
	Status *Status        `json:"status,omitempty"`
	Nodes  []NodeMetrics  `json:"nodes"`
	Topics []TopicCount   `json:"topics"`
	Lag    []PartitionLag `json:"lag"`
}

// Snapshot reads every counter now.
func (c *Console) Snapshot() Metrics {
	m := Metrics{Time: c.opts.Now().UnixMilli(), Nodes: []NodeMetrics{}, Topics: []TopicCount{}, Lag: []PartitionLag{}}
	if c.opts.Status != nil {
		s := c.opts.Status()
		m.Status = &s
	}
	if c.opts.Topology != nil {
		for _, n := range c.opts.Topology.Nodes() {
			s := n.Stats.Snapshot()
			m.Nodes = append(m.Nodes, NodeMetrics{Name: n.Name, Records: s.Records, Errors: s.Errors, Sampled: s.Sampled, SampledNanos: s.SampledNanos})
		}
	}
	if c.opts.Topics != nil {
		m.Topics = append(m.Topics, c.opts.Topics()...)
		sort.Slice(m.Topics, func(i, j int) bool { return m.Topics[i].Topic < m.Topics[j].Topic })
	}
	if c.opts.Lags != nil {
		m.Lag = append(m.Lag, c.opts.Lags()...)
		sort.Slice(m.Lag, func(i, j int) bool {
			if m.Lag[i].Topic != m.Lag[j].Topic {
				return m.Lag[i].Topic < m.Lag[j].Topic
			}
			return m.Lag[i].Partition < m.Lag[j].Partition
		})
	}
	return m
}

func (c *Console) metrics(w http.ResponseWriter, _ *http.Request) { writeJSON(w, c.Snapshot()) }

func (c *Console) topics(w http.ResponseWriter, r *http.Request) {
	if c.kafka == nil {
		http.Error(w, "no Kafka connection: the topic browser is off", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	ts, err := c.kafka.topics(ctx, c.graph)
	if err != nil {
		c.log.Warn("console: listing topics", "error", err)
		http.Error(w, "listing topics: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(w, ts)
}

// maxRecords bounds ?limit=.
const maxRecords = 500

func (c *Console) records(w http.ResponseWriter, r *http.Request) {
	if c.kafka == nil {
		http.Error(w, "no Kafka connection: the topic browser is off", http.StatusNotFound)
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRecords {
			http.Error(w, "limit: want a number from 1 to "+strconv.Itoa(maxRecords), http.StatusBadRequest)
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	recs, err := c.kafka.latest(ctx, r.PathValue("topic"), limit)
	if err != nil {
		status := http.StatusBadGateway
		if err == errUnknownTopic {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	writeJSON(w, recs)
}
