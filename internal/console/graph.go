package console

import (
	"sort"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Graph is the topology as the page draws it: Kafka Streams'
// TopologyDescription (sub-topologies of sources, processors and sinks)
// plus the stores and topics around them.
type Graph struct {
	ApplicationID string        `json:"applicationId"`
	SubTopologies []SubTopology `json:"subTopologies"`
	Stores        []Store       `json:"stores"`
	Topics        []GraphTopic  `json:"topics"`
}

// SubTopology is one connected part of the graph; one task per partition
// runs it.
type SubTopology struct {
	ID    int    `json:"id"`
	Nodes []Node `json:"nodes"`
}

// Node is a source, processor or sink.
type Node struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // source, processor or sink
	// Topics are a source's topics or a sink's fixed topic (none when a
	// function picks it).
	Topics   []string `json:"topics"`
	Stores   []string `json:"stores"`
	Children []string `json:"children"`
}

// Store is a state store and, when logged, its changelog topic.
type Store struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // keyValue, window or session
	Changelog string `json:"changelog,omitempty"`
}

// GraphTopic is a topic the topology reads or writes.
type GraphTopic struct {
	Name string `json:"name"`
	// Kind is repartition or changelog for the application's internal
	// topics, otherwise topic.
	Kind string `json:"kind"`
}

// GraphOf describes a built topology. Nodes keep the topology's insertion
// order; stores and topics are sorted by name.
func GraphOf(t *streams.Topology) Graph {
	g := Graph{ApplicationID: t.ApplicationID, SubTopologies: []SubTopology{}, Stores: []Store{}, Topics: []GraphTopic{}}
	internal := map[string]string{}
	for _, it := range t.InternalTopics() {
		internal[it.Name] = it.Kind
	}
	topics := map[string]string{}
	for _, st := range t.SubTopologies() {
		s := SubTopology{ID: st.ID, Nodes: make([]Node, 0, len(st.Nodes))}
		for _, n := range st.Nodes {
			node := Node{Name: n.Name, Kind: kindName(n.Kind), Topics: nonNil(n.Topics), Stores: nonNil(n.Stores), Children: []string{}}
			for _, c := range n.Children {
				node.Children = append(node.Children, c.Name)
			}
			for _, tp := range n.Topics {
				topics[tp] = topicKind(internal, tp)
			}
			s.Nodes = append(s.Nodes, node)
		}
		g.SubTopologies = append(g.SubTopologies, s)
	}
	for _, b := range t.StoreBuilders() {
		s := Store{Name: b.Name(), Kind: string(b.Kind())}
		if b.Logging() {
			s.Changelog = t.ApplicationID + "-" + b.Name() + "-changelog"
			topics[s.Changelog] = "changelog"
		}
		g.Stores = append(g.Stores, s)
	}
	sort.Slice(g.Stores, func(i, j int) bool { return g.Stores[i].Name < g.Stores[j].Name })
	for name, kind := range topics {
		g.Topics = append(g.Topics, GraphTopic{Name: name, Kind: kind})
	}
	sort.Slice(g.Topics, func(i, j int) bool { return g.Topics[i].Name < g.Topics[j].Name })
	return g
}

func topicKind(internal map[string]string, topic string) string {
	if k, ok := internal[topic]; ok && k != "" {
		return k
	}
	return "topic"
}

func kindName(k streams.NodeKind) string {
	switch k {
	case streams.SourceNode:
		return "source"
	case streams.SinkNode:
		return "sink"
	}
	return "processor"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
