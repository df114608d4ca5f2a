package topology

import (
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
)

// repartitionNullKeys is the filter in front of a stream's repartition
// topic. Kafka Streams (KIP-962) drops records with a null key there,
// unless a join downstream of the repartition accepts null keys (a left or
// outer stream-stream join, a left stream-table or stream-globalTable
// join): then they pass, so that join can emit them. keep is decided once
// the whole topology is built (resolveNullKeyFilters).
type repartitionNullKeys struct {
	stateless
	keep bool
}

func (p *repartitionNullKeys) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if r.Key == nil && !p.keep {
		return nil
	}
	return ctx.Forward(r)
}

// streamRepartition writes a stream through a repartition topic behind
// the null-key filter Kafka Streams puts there.
func (b *builder) streamRepartition(s stream, pos definition.Pos, name string, topic streams.InternalTopic, sink streams.SinkOptions) (stream, error) {
	filterName := b.uniqueName(name + "-repartition-filter")
	f := &repartitionNullKeys{}
	if err := b.topo.AddProcessor(filterName, func() streams.Processor { return f }, s.node); err != nil {
		return s, errAt(pos, "%v", err)
	}
	b.nullKeyFilters = append(b.nullKeyFilters, nullKeyFilter{filterName, f})
	s.node = filterName
	return b.throughTopic(s, pos, name, topic, sink)
}

type nullKeyFilter struct {
	node string
	proc *repartitionNullKeys
}

// resolveNullKeyFilters lets null keys through the repartition filters
// that have a null-key-accepting join downstream, following repartition
// topics to the nodes that read them (Kafka Streams' logical graph spans
// them too).
func (b *builder) resolveNullKeyFilters() {
	internal := map[string]bool{}
	for _, it := range b.topo.InternalTopics() {
		internal[it.Name] = true
	}
	readers := map[string][]*streams.Node{}
	for _, n := range b.topo.Nodes() {
		if n.Kind == streams.SourceNode {
			for _, t := range n.Topics {
				readers[t] = append(readers[t], n)
			}
		}
	}
	for _, f := range b.nullKeyFilters {
		start, ok := b.topo.Node(f.node)
		if !ok {
			continue
		}
		seen := map[*streams.Node]bool{}
		var relaxed func(n *streams.Node) bool
		relaxed = func(n *streams.Node) bool {
			if seen[n] {
				return false
			}
			seen[n] = true
			if n.Supplier != nil && acceptsNullKeys(n.Supplier()) {
				return true
			}
			next := n.Children
			if n.Kind == streams.SinkNode {
				for _, t := range n.Topics {
					if internal[t] {
						next = append(next, readers[t]...)
					}
				}
			}
			for _, c := range next {
				if relaxed(c) {
					return true
				}
			}
			return false
		}
		f.proc.keep = relaxed(start)
	}
}

// acceptsNullKeys tells the joins that emit records with a null key.
func acceptsNullKeys(p streams.Processor) bool {
	switch j := p.(type) {
	case *streamTableJoinProc:
		return j.kind == leftJoin
	case *streamGlobalJoinProc:
		return j.kind == leftJoin
	case *ssJoinProc:
		return j.ssJoin != nil && j.kind != innerJoin
	}
	return false
}
