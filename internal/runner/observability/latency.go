package observability

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Record end-to-end latency, upstream's ksml_record_e2e_latency_{avg,min,max}_ms:
// the time from a record's timestamp to its arrival at a processor node,
// kept per (task, node) over the last minute as Kafka Streams keeps its
// record-e2e-latency metrics (two samples of 30 seconds).

const (
	latencyWindow  = 30 * time.Second
	latencySamples = 2
)

// NodeName is a KSML processor node name split into its parts, as upstream
// parses `<namespace>_pipelines_<pipeline>[_via_step<N>]_<operation>`.
type NodeName struct {
	Namespace string
	Pipeline  string
	Step      string // "" when the node is not a via step
	Operation string
}

// ParseNodeName splits a KSML node name; ok is false for nodes that are
// not a pipeline's (upstream exports latency only for those). The
// namespace ends at the first "_pipelines_", the operation is the last
// '_'-separated part, and a pipeline name cannot contain "_via_step"
// followed by a digit.
func ParseNodeName(node string) (NodeName, bool) {
	const marker = "_pipelines_"
	i := strings.Index(node, marker)
	if i <= 0 || len(node) > 500 {
		return NodeName{}, false
	}
	n := NodeName{Namespace: node[:i]}
	rest := node[i+len(marker):]
	j := strings.LastIndexByte(rest, '_')
	if j <= 0 || j == len(rest)-1 {
		return NodeName{}, false
	}
	n.Operation = rest[j+1:]
	head := rest[:j]
	const via = "_via_step"
	for k := 0; k+len(via) < len(head); k++ {
		if head[k:k+len(via)] == via && isDigit(head[k+len(via)]) {
			digits := head[k+len(via):]
			for d := 0; d < len(digits); d++ {
				if !isDigit(digits[d]) {
					return NodeName{}, false
				}
			}
			head, n.Step = head[:k], digits
			break
		}
	}
	if head == "" {
		return NodeName{}, false
	}
	n.Pipeline = head
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// latencySample is one window of observations.
type latencySample struct {
	start         time.Time
	count         int64
	sum, min, max float64
}

// Latency records the end-to-end latency at one node of one task. Methods
// are safe for concurrent use and no-ops on nil.
type Latency struct {
	labels []labelPair
	clock  Clock

	mu      sync.Mutex
	samples [latencySamples]latencySample
	current int
}

// NodeLatency returns the latency recorder of a processor node in a task
// (taskID as Kafka Streams prints it, "0_1"), creating it on first use.
// It returns nil, which records nothing, for a node that is not a KSML
// pipeline node, and on a nil Registry.
func (r *Registry) NodeLatency(taskID, node string) *Latency {
	if r == nil {
		return nil
	}
	nn, ok := ParseNodeName(node)
	if !ok {
		return nil
	}
	m := map[string]string{
		"namespace": nn.Namespace, "pipeline": nn.Pipeline, "operation_name": nn.Operation,
		"processor_node_id": node, "unit": "ms", "task_id": taskID,
	}
	if nn.Step != "" {
		m["step"] = nn.Step
	}
	if sub, part, ok := strings.Cut(taskID, "_"); ok && allDigits(sub) && allDigits(part) {
		m["subtopology"], m["partition"] = sub, part
	}
	k := [2]string{taskID, node}
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.latencies[k]
	if !ok {
		l = &Latency{labels: r.withTags(makeLabels(m)), clock: r.clock}
		now := r.clock()
		for i := range l.samples {
			l.samples[i] = latencySample{start: now}
		}
		r.latencies[k] = l
	}
	return l
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// RemoveTask drops the latency series of a task that was closed (its
// partition revoked).
func (r *Registry) RemoveTask(taskID string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	for k := range r.latencies {
		if k[0] == taskID {
			delete(r.latencies, k)
		}
	}
	r.mu.Unlock()
}

// Observe records one record's latency: the node's processing time minus
// the record's timestamp.
func (l *Latency) Observe(d time.Duration) {
	if l == nil {
		return
	}
	ms := float64(d) / float64(time.Millisecond)
	now := l.clock()
	l.mu.Lock()
	s := &l.samples[l.current]
	if now.Sub(s.start) >= latencyWindow {
		l.current = (l.current + 1) % latencySamples
		s = &l.samples[l.current]
		*s = latencySample{start: now}
	}
	if s.count == 0 || ms < s.min {
		s.min = ms
	}
	if s.count == 0 || ms > s.max {
		s.max = ms
	}
	s.count++
	s.sum += ms
	l.mu.Unlock()
}

// stats returns avg, min and max over the samples of the last minute, NaN
// when there were no records (as Kafka's metrics report).
func (l *Latency) stats() (avg, lo, hi float64) {
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	var count int64
	var sum float64
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range l.samples {
		s := &l.samples[i]
		if now.Sub(s.start) >= latencySamples*latencyWindow {
			*s = latencySample{start: now}
			continue
		}
		if s.count == 0 {
			continue
		}
		count += s.count
		sum += s.sum
		lo, hi = math.Min(lo, s.min), math.Max(hi, s.max)
	}
	if count == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return sum / float64(count), lo, hi
}

// emit sends the three gauges with both series upstream's exporter shows
// for a gauge (_value and _number).
func (l *Latency) emit(ch chan<- prometheus.Metric) {
	avg, lo, hi := l.stats()
	for _, g := range []struct {
		family string
		v      float64
	}{
		{"ksml_record_e2e_latency_avg_ms", avg},
		{"ksml_record_e2e_latency_min_ms", lo},
		{"ksml_record_e2e_latency_max_ms", hi},
	} {
		emit(ch, g.family, "_value", prometheus.GaugeValue, g.v, l.labels)
		emit(ch, g.family, "_number", prometheus.GaugeValue, g.v, l.labels)
	}
}
