package observability

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ksml-dev/ksml/internal/python"
)

// UserMetric implements python.MetricsSink: Python's metrics.counter,
// metrics.meter and metrics.timer land in ksml_user_defined_counter,
// _meter and _timer with a custom_name label holding name and one label per
// tag. The same (kind, name, tags) always returns the same instrument. On a
// nil Registry it returns nil, which the bridge treats as "discard".
func (r *Registry) UserMetric(kind python.MetricKind, name string, tags map[string]string) python.Instrument {
	if r == nil {
		return nil
	}
	all := make(map[string]string, len(tags)+1)
	for k, v := range tags {
		all[k] = v
	}
	labels := makeLabels(all)
	// custom_name is the name given in code; a tag cannot replace it.
	labels = setLabel(labels, "custom_name", name)
	switch kind {
	case python.CounterMetric:
		return r.instrument(kindCounter, "ksml_user_defined_counter", labels).counter
	case python.MeterMetric:
		return r.instrument(kindMeter, "ksml_user_defined_meter", labels).meter
	case python.TimerMetric:
		return r.instrument(kindTimer, "ksml_user_defined_timer", labels).timer
	}
	return nil
}

func setLabel(ls []labelPair, name, value string) []labelPair {
	for i := range ls {
		if ls[i].name == name {
			ls[i].value = value
			return ls
		}
	}
	ls = append(ls, labelPair{name, value})
	for i := len(ls) - 1; i > 0 && ls[i].name < ls[i-1].name; i-- {
		ls[i], ls[i-1] = ls[i-1], ls[i]
	}
	return ls
}

// FunctionLabels identify a user function for ksml_execution_time, as
// upstream tags it. Empty fields are left out of the labels.
type FunctionLabels struct {
	Namespace     string
	Pipeline      string
	OperationName string
	Step          string // "1", "2", ... for operations in a pipeline's via
	Branch        string // the branch of a branch operation
	FunctionType  string // upstream's function type: predicate, valueTransformer, forEach, generator, ...
	FunctionName  string
}

func (f FunctionLabels) pairs() []labelPair {
	var ls []labelPair
	for _, l := range []labelPair{
		{"branch", f.Branch}, {"function_name", f.FunctionName}, {"function_type", f.FunctionType},
		{"namespace", f.Namespace}, {"operation_name", f.OperationName}, {"pipeline", f.Pipeline}, {"step", f.Step},
	} {
		if l.value != "" {
			l.value = validUTF8(l.value)
			ls = append(ls, l)
		}
	}
	return ls
}

// ExecutionTimer returns the ksml_execution_time timer of one function.
// Time every call with Observe or Since; the same labels return the same
// timer. Nil on a nil Registry (and a nil *Timer ignores observations).
func (r *Registry) ExecutionTimer(f FunctionLabels) *Timer {
	if r == nil {
		return nil
	}
	return r.instrument(kindTimer, "ksml_execution_time", f.pairs()).timer
}

// ErrorKind says which error handler saw a failed record.
type ErrorKind int

// The error handlers of ksml.errorHandling.
const (
	ConsumeError ErrorKind = iota
	ProcessError
	ProduceError
)

var errorKindNames = [...]string{"consume", "process", "produce"}

func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(errorKindNames) {
		return errorKindNames[k]
	}
	return "unknown"
}

// PipelineCounters count the records of one pipeline. Methods are safe for
// concurrent use and cost one atomic add; they are no-ops on nil.
type PipelineCounters struct {
	labels   []labelPair
	consumed atomic.Int64
	produced atomic.Int64
	failed   [len(errorKindNames)]atomic.Int64
}

// Pipeline returns the counters of a pipeline, creating them on first use:
// ksml_pipeline_records_consumed_total, _produced_total and
// _failed_total{error="consume|process|produce"}, labelled with namespace
// and pipeline.
func (r *Registry) Pipeline(namespace, pipeline string) *PipelineCounters {
	if r == nil {
		return nil
	}
	k := [2]string{namespace, pipeline}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pipelines[k]
	if !ok {
		p = &PipelineCounters{labels: r.withTags(makeLabels(map[string]string{"namespace": namespace, "pipeline": pipeline}))}
		r.pipelines[k] = p
	}
	return p
}

// Consumed counts n records read.
func (p *PipelineCounters) Consumed(n int64) {
	if p != nil {
		p.consumed.Add(n)
	}
}

// Produced counts n records written.
func (p *PipelineCounters) Produced(n int64) {
	if p != nil {
		p.produced.Add(n)
	}
}

// Failed counts n records that failed in the given stage. An unknown kind
// is ignored.
func (p *PipelineCounters) Failed(kind ErrorKind, n int64) {
	if p != nil && kind >= 0 && int(kind) < len(p.failed) {
		p.failed[kind].Add(n)
	}
}

func (p *PipelineCounters) emit(ch chan<- prometheus.Metric) {
	c := prometheus.CounterValue
	emit(ch, "ksml_pipeline_records_consumed_total", "", c, float64(p.consumed.Load()), p.labels)
	emit(ch, "ksml_pipeline_records_produced_total", "", c, float64(p.produced.Load()), p.labels)
	for i := range p.failed {
		emit(ch, "ksml_pipeline_records_failed_total", "", c, float64(p.failed[i].Load()),
			setLabel(append([]labelPair(nil), p.labels...), "error", errorKindNames[i]))
	}
}

// ProducerCounters count the records of one producer (generator). Methods
// are safe for concurrent use and no-ops on nil.
type ProducerCounters struct {
	labels   []labelPair
	produced atomic.Int64
	failed   atomic.Int64
}

// Producer returns the counters of a producer, creating them on first use:
// ksml_producer_records_produced_total and _failed_total, labelled with
// namespace and producer.
func (r *Registry) Producer(namespace, producer string) *ProducerCounters {
	if r == nil {
		return nil
	}
	k := [2]string{namespace, producer}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.producers[k]
	if !ok {
		p = &ProducerCounters{labels: r.withTags(makeLabels(map[string]string{"namespace": namespace, "producer": producer}))}
		r.producers[k] = p
	}
	return p
}

// Produced counts n records written.
func (p *ProducerCounters) Produced(n int64) {
	if p != nil {
		p.produced.Add(n)
	}
}

// Failed counts n records that could not be generated or produced.
func (p *ProducerCounters) Failed(n int64) {
	if p != nil {
		p.failed.Add(n)
	}
}

func (p *ProducerCounters) emit(ch chan<- prometheus.Metric) {
	emit(ch, "ksml_producer_records_produced_total", "", prometheus.CounterValue, float64(p.produced.Load()), p.labels)
	emit(ch, "ksml_producer_records_failed_total", "", prometheus.CounterValue, float64(p.failed.Load()), p.labels)
}

type lagKey struct {
	topic     string
	partition int32
}

type lagEntry struct {
	key lagKey
	lag int64
}

// SetConsumerLag reports the lag of an assigned partition: records between
// the consumer's position and the high watermark. It is exported as
// ksml_consumer_records_lag{topic,partition}. A negative lag (a stale
// watermark) is reported as 0.
func (r *Registry) SetConsumerLag(topic string, partition int32, lag int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.lag[lagKey{topic, partition}] = max(lag, 0)
	r.mu.Unlock()
}

// EnforcedProcessing counts n records task processed while one of its
// input partitions was empty (max.task.idle.ms ran out), exported as
// ksml_enforced_processing_total{task}.
func (r *Registry) EnforcedProcessing(task string, n int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.enforced[task] += n
	r.mu.Unlock()
}

// RemoveConsumerLag drops the lag series of a partition that is no longer
// assigned.
func (r *Registry) RemoveConsumerLag(topic string, partition int32) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.lag, lagKey{topic, partition})
	r.mu.Unlock()
}
