package runner

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ksml-dev/ksml/internal/console"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/streams"
)

// mountConsole serves the web console on the application server at
// /console/ (and / redirects there): the topology with the runtime's
// per-node counters, the runner's record counters and lag, and a topic
// browser over the cluster the runner uses. It returns what closes the
// console's Kafka client.
func (r *Runner) mountConsole(app *observability.AppServer, kc *kafkaclient.Config, pipelines bool) func() {
	k := &r.cfg.KSML
	var dlq []string
	seen := map[string]bool{}
	for _, h := range []string{k.ErrorHandling.Consume.DeadLetterTopic, k.ErrorHandling.Process.DeadLetterTopic, k.ErrorHandling.Produce.DeadLetterTopic} {
		if h != "" && !seen[h] {
			seen[h] = true
			dlq = append(dlq, h)
		}
	}
	var pls []console.Pipeline
	for _, d := range r.defs {
		for _, p := range d.Pipelines {
			cp := console.Pipeline{Namespace: d.Namespace, Name: p.Name, From: []string{}, To: sinkTopics(p.Sink)}
			if p.From.Def != nil {
				cp.From = append(cp.From, p.From.Def.Topic)
			}
			if cp.To == nil {
				cp.To = []string{}
			}
			pls = append(pls, cp)
		}
	}
	opts := console.Options{
		Pipelines:        pls,
		Status:           r.consoleStatus,
		Topics:           r.topicCounts,
		Lags:             r.partitionLags,
		Kafka:            kc.AdminOpts(),
		Serdes:           topicSerdes(r.topo.Topology),
		DeadLetterTopics: dlq,
		StateQueries:     true,
		Logger:           r.log,
	}
	if pipelines {
		opts.Topology = r.topo.Topology
	}
	c := console.New(opts)
	app.Handle("GET /console/", c)
	app.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
	return c.Close
}

// consoleStatus is the runner's state for the console: the lifecycle, Kafka
// Streams' name for the pipelines' state, the health probes' answers and
// the error that stopped the runner.
func (r *Runner) consoleStatus() console.Status {
	r.mu.Lock()
	streamsState, failure, srv := r.streamsState, r.failure, r.servers
	r.mu.Unlock()
	s := console.Status{State: string(r.state.get()), Streams: streamsState}
	if failure != nil {
		s.Error = failure.Error()
	} else if stuck := python.StuckCalls(); len(stuck) > 0 {
		// The probes count the pipelines as failed meanwhile; say why.
		s.Error = fmt.Sprintf("Python function %s is stuck past its timeout since %s (%d stuck calls)",
			stuck[0].Function, stuck[0].Deadline.UTC().Format(time.RFC3339), len(stuck))
	}
	if srv != nil && srv.App != nil {
		if src := srv.App.States(); src != nil {
			s.Live, s.Ready = observability.Live(src), observability.Ready(src)
		}
	}
	return s
}

func (r *Runner) topicCounts() []console.TopicCount {
	byTopic := map[string]*console.TopicCount{}
	var order []string
	for _, c := range r.counters.Snapshot() {
		tc, ok := byTopic[c.Topic]
		if !ok {
			tc = &console.TopicCount{Topic: c.Topic}
			byTopic[c.Topic] = tc
			order = append(order, c.Topic)
		}
		switch c.What {
		case "consumed":
			tc.Consumed += c.N
		case "produced":
			tc.Produced += c.N
		default:
			tc.Failed += c.N
		}
	}
	out := make([]console.TopicCount, 0, len(order))
	for _, t := range order {
		out = append(out, *byTopic[t])
	}
	return out
}

func (r *Runner) partitionLags() []console.PartitionLag {
	lags := r.counters.Lags()
	out := make([]console.PartitionLag, len(lags))
	for i, l := range lags {
		out[i] = console.PartitionLag{Topic: l.Topic, Partition: l.Partition, Lag: l.Lag}
	}
	return out
}

// topicSerdes returns the serdes the topology reads a topic with (its
// source's), else those it writes it with (the first sink's).
func topicSerdes(t *streams.Topology) func(string) (streams.Serde, streams.Serde, bool) {
	type pair struct{ key, value streams.Serde }
	m := map[string]pair{}
	for _, n := range t.Nodes() {
		if n.Kind != streams.SourceNode {
			continue
		}
		for _, tp := range n.Topics {
			m[tp] = pair{n.Source.KeySerde, n.Source.ValueSerde}
		}
	}
	for _, n := range t.Nodes() {
		if n.Kind != streams.SinkNode || len(n.Topics) == 0 {
			continue
		}
		if _, ok := m[n.Topics[0]]; !ok {
			m[n.Topics[0]] = pair{n.Sink.KeySerde, n.Sink.ValueSerde}
		}
	}
	return func(topic string) (streams.Serde, streams.Serde, bool) {
		p, ok := m[topic]
		return p.key, p.value, ok
	}
}
