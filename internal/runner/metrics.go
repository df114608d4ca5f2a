package runner

import (
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// pipelineObserver forwards the engine's per-topic record events to the
// runner's counters and to the metrics registry: the counters of the
// pipelines reading (consumed, consume and process failures) or writing
// (produced, produce failures) the topic, and the consumer lag.
type pipelineObserver struct {
	*Counters
	reg      *observability.Registry
	bySource map[string][]*observability.PipelineCounters
	bySink   map[string][]*observability.PipelineCounters
}

func newPipelineObserver(c *Counters, reg *observability.Registry, defs []*definition.Definition) *pipelineObserver {
	o := &pipelineObserver{Counters: c, reg: reg,
		bySource: map[string][]*observability.PipelineCounters{}, bySink: map[string][]*observability.PipelineCounters{}}
	for _, d := range defs {
		for _, p := range d.Pipelines {
			pc := reg.Pipeline(d.Namespace, p.Name)
			if p.From.Def != nil {
				o.bySource[p.From.Def.Topic] = append(o.bySource[p.From.Def.Topic], pc)
			}
			for _, t := range sinkTopics(p.Sink) {
				o.bySink[t] = append(o.bySink[t], pc)
			}
		}
	}
	return o
}

func sinkTopics(s *definition.Sink) []string {
	if s == nil {
		return nil
	}
	var out []string
	if s.To != nil && s.To.Def != nil {
		out = append(out, s.To.Def.Topic)
	}
	for _, b := range s.Branches {
		out = append(out, sinkTopics(b.Sink)...)
	}
	return out
}

func (o *pipelineObserver) Consumed(topic string) {
	o.Counters.Consumed(topic)
	for _, pc := range o.bySource[topic] {
		pc.Consumed(1)
	}
}

// ConsumedN implements kafkaio.BatchObserver.
func (o *pipelineObserver) ConsumedN(topic string, n int) {
	o.Counters.ConsumedN(topic, n)
	for _, pc := range o.bySource[topic] {
		pc.Consumed(int64(n))
	}
}

func (o *pipelineObserver) Produced(topic string) {
	o.Counters.Produced(topic)
	for _, pc := range o.bySink[topic] {
		pc.Produced(1)
	}
}

func (o *pipelineObserver) Failed(kind kafkaio.ErrorKind, topic string) {
	o.Counters.Failed(kind, topic)
	k, pcs := observability.ProcessError, o.bySource[topic]
	switch kind {
	case kafkaio.ConsumeError:
		k = observability.ConsumeError
	case kafkaio.ProduceError:
		k = observability.ProduceError
		if len(pcs) == 0 {
			pcs = o.bySink[topic] // a delivery failure names the output topic
		}
	}
	for _, pc := range pcs {
		pc.Failed(k, 1)
	}
}

// Lag implements kafkaio.LagObserver.
func (o *pipelineObserver) Lag(topic string, partition int32, lag int64) {
	o.Counters.Lag(topic, partition, lag)
	o.reg.SetConsumerLag(topic, partition, lag)
}

// LagRemoved implements kafkaio.LagObserver.
func (o *pipelineObserver) LagRemoved(topic string, partition int32) {
	o.Counters.LagRemoved(topic, partition)
	o.reg.RemoveConsumerLag(topic, partition)
}

// EnforcedProcessing implements kafkaio.EnforcedProcessingObserver.
func (o *pipelineObserver) EnforcedProcessing(task string, n int64) {
	o.reg.EnforcedProcessing(task, n)
}
