package streams

import (
	"fmt"
	"sort"
	"strings"
)

// NodeKind tells sources, processors and sinks apart.
type NodeKind int

// Node kinds.
const (
	SourceNode NodeKind = iota
	ProcessorNode
	SinkNode
)

// ProcessorSupplier returns a fresh processor instance; every task gets its
// own instances so processors may keep per-task state.
type ProcessorSupplier func() Processor

// SourceOptions configure how a source reads its topics.
type SourceOptions struct {
	KeySerde           Serde
	ValueSerde         Serde
	TimestampExtractor TimestampExtractor // nil: the record's own timestamp
	OffsetReset        OffsetReset
}

// SinkOptions configure how a sink writes. Exactly one of a fixed topic (the
// AddSink argument) or TopicExtractor is used.
type SinkOptions struct {
	KeySerde       Serde
	ValueSerde     Serde
	Partitioner    Partitioner
	TopicExtractor TopicNameExtractor
}

// Node is one vertex of the processor graph.
type Node struct {
	Name     string
	Kind     NodeKind
	Topics   []string // sources: topics read; sinks: the fixed topic (if any)
	Source   SourceOptions
	Sink     SinkOptions
	Supplier ProcessorSupplier
	Stores   []string
	Parents  []*Node
	Children []*Node
	// Stats counts the records through the node while it runs.
	Stats NodeStats
	order int
}

// InternalTopic is a topic the application creates and owns.
type InternalTopic struct {
	Name       string
	Kind       string // "repartition" or "changelog"
	Partitions int    // 0: same as the source partitions
}

// SubTopology is a connected part of the graph; one task per partition runs it.
type SubTopology struct {
	ID          int
	Nodes       []*Node // in insertion order
	SourceNodes []*Node
	Stores      []string
	topicSource map[string]*Node
}

// SourceTopics returns the topics the sub-topology reads, sorted.
func (s *SubTopology) SourceTopics() []string {
	out := make([]string, 0, len(s.topicSource))
	for t := range s.topicSource {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Topology is the processor graph under construction. It is not safe for
// concurrent mutation; once built it is read only and shared by all tasks.
type Topology struct {
	ApplicationID string
	nodes         []*Node
	byName        map[string]*Node
	stores        map[string]StoreBuilder
	storeOrder    []string
	internal      []InternalTopic
	subs          []*SubTopology
	built         bool
}

// NewTopology returns an empty topology for an application id (used to name
// internal topics).
func NewTopology(applicationID string) *Topology {
	return &Topology{ApplicationID: applicationID, byName: map[string]*Node{}, stores: map[string]StoreBuilder{}}
}

func (t *Topology) add(n *Node, parents []string) error {
	if t.built {
		return fmt.Errorf("topology already built; cannot add node %q", n.Name)
	}
	if n.Name == "" {
		return fmt.Errorf("node name must not be empty")
	}
	if _, dup := t.byName[n.Name]; dup {
		return fmt.Errorf("a node named %q already exists in the topology", n.Name)
	}
	for _, p := range parents {
		pn, ok := t.byName[p]
		if !ok {
			return fmt.Errorf("node %q: unknown parent %q", n.Name, p)
		}
		if pn.Kind == SinkNode {
			return fmt.Errorf("node %q: parent %q is a sink", n.Name, p)
		}
		n.Parents = append(n.Parents, pn)
	}
	for _, pn := range n.Parents {
		pn.Children = append(pn.Children, n)
	}
	n.order = len(t.nodes)
	t.nodes = append(t.nodes, n)
	t.byName[n.Name] = n
	return nil
}

// AddSource adds a source node reading topics.
func (t *Topology) AddSource(name string, topics []string, opts SourceOptions) error {
	if len(topics) == 0 {
		return fmt.Errorf("source %q reads no topics", name)
	}
	for _, n := range t.nodes {
		if n.Kind != SourceNode {
			continue
		}
		for _, have := range n.Topics {
			for _, want := range topics {
				if have == want {
					return fmt.Errorf("topic %q is already read by source %q", want, n.Name)
				}
			}
		}
	}
	return t.add(&Node{Name: name, Kind: SourceNode, Topics: topics, Source: opts}, nil)
}

// AddProcessor adds a processor node below parents (at least one).
func (t *Topology) AddProcessor(name string, supplier ProcessorSupplier, parents ...string) error {
	if len(parents) == 0 {
		return fmt.Errorf("processor %q has no parent", name)
	}
	if supplier == nil {
		return fmt.Errorf("processor %q has no supplier", name)
	}
	return t.add(&Node{Name: name, Kind: ProcessorNode, Supplier: supplier}, parents)
}

// AddSink adds a sink writing to topic (or, when opts.TopicExtractor is set,
// to the topic it picks per record).
func (t *Topology) AddSink(name, topic string, opts SinkOptions, parents ...string) error {
	if len(parents) == 0 {
		return fmt.Errorf("sink %q has no parent", name)
	}
	if topic == "" && opts.TopicExtractor == nil {
		return fmt.Errorf("sink %q has neither a topic nor a topic name extractor", name)
	}
	n := &Node{Name: name, Kind: SinkNode, Sink: opts}
	if topic != "" {
		n.Topics = []string{topic}
	}
	return t.add(n, parents)
}

// AddStateStore registers a store and connects it to the named processors.
func (t *Topology) AddStateStore(b StoreBuilder, processors ...string) error {
	if _, dup := t.stores[b.Name()]; dup {
		return fmt.Errorf("a store named %q already exists in the topology", b.Name())
	}
	t.stores[b.Name()] = b
	t.storeOrder = append(t.storeOrder, b.Name())
	if b.Logging() {
		t.internal = append(t.internal, InternalTopic{Name: ChangelogTopic(t.ApplicationID, b.Name()), Kind: "changelog"})
	}
	for _, p := range processors {
		if err := t.ConnectStore(p, b.Name()); err != nil {
			return err
		}
	}
	return nil
}

// HasStore reports whether a store is registered.
func (t *Topology) HasStore(name string) bool { _, ok := t.stores[name]; return ok }

// ConnectStore gives a processor access to a registered store.
func (t *Topology) ConnectStore(processor, store string) error {
	n, ok := t.byName[processor]
	if !ok {
		return fmt.Errorf("unknown processor %q", processor)
	}
	if _, ok := t.stores[store]; !ok {
		return fmt.Errorf("unknown store %q", store)
	}
	for _, s := range n.Stores {
		if s == store {
			return nil
		}
	}
	n.Stores = append(n.Stores, store)
	return nil
}

// AddInternalTopic declares a repartition topic the application owns.
func (t *Topology) AddInternalTopic(it InternalTopic) { t.internal = append(t.internal, it) }

// InternalTopics returns the internal topics in declaration order.
func (t *Topology) InternalTopics() []InternalTopic { return t.internal }

// Node returns a node by name.
func (t *Topology) Node(name string) (*Node, bool) { n, ok := t.byName[name]; return n, ok }

// Nodes returns all nodes in insertion order.
func (t *Topology) Nodes() []*Node { return t.nodes }

// StoreBuilders returns the registered stores in registration order.
func (t *Topology) StoreBuilders() []StoreBuilder {
	out := make([]StoreBuilder, 0, len(t.storeOrder))
	for _, n := range t.storeOrder {
		out = append(out, t.stores[n])
	}
	return out
}

// Build freezes the graph and splits it into sub-topologies: nodes linked by
// edges or by a shared store end up together. It fails when a processor
// uses a store that nobody registered.
func (t *Topology) Build() error {
	if t.built {
		return nil
	}
	parent := make([]int, len(t.nodes))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra < rb {
			parent[rb] = ra
		} else if rb < ra {
			parent[ra] = rb
		}
	}
	storeOwner := map[string]int{}
	for _, n := range t.nodes {
		for _, c := range n.Children {
			union(n.order, c.order)
		}
		for _, s := range n.Stores {
			if o, ok := storeOwner[s]; ok {
				union(o, n.order)
			} else {
				storeOwner[s] = n.order
			}
		}
	}
	// Sub-topology ids follow the order of their first node, as in Kafka Streams.
	idOf := map[int]*SubTopology{}
	for _, n := range t.nodes {
		root := find(n.order)
		st, ok := idOf[root]
		if !ok {
			st = &SubTopology{ID: len(t.subs), topicSource: map[string]*Node{}}
			idOf[root] = st
			t.subs = append(t.subs, st)
		}
		st.Nodes = append(st.Nodes, n)
		if n.Kind == SourceNode {
			st.SourceNodes = append(st.SourceNodes, n)
			for _, tp := range n.Topics {
				st.topicSource[tp] = n
			}
		}
		for _, s := range n.Stores {
			if !contains(st.Stores, s) {
				st.Stores = append(st.Stores, s)
			}
		}
	}
	t.built = true
	return nil
}

// SubTopologies returns the sub-topologies; Build must have been called.
func (t *Topology) SubTopologies() []*SubTopology { return t.subs }

// SourceTopics returns every topic read by a source, sorted.
func (t *Topology) SourceTopics() []string {
	var out []string
	for _, n := range t.nodes {
		if n.Kind == SourceNode {
			out = append(out, n.Topics...)
		}
	}
	sort.Strings(out)
	return out
}

// SubTopologyFor returns the sub-topology that reads topic.
func (t *Topology) SubTopologyFor(topic string) (*SubTopology, bool) {
	for _, s := range t.subs {
		if _, ok := s.topicSource[topic]; ok {
			return s, true
		}
	}
	return nil, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Describe renders the topology in Kafka Streams' TopologyDescription text
// form, which KSML users know from logs and reference outputs.
func (t *Topology) Describe() string {
	var b strings.Builder
	b.WriteString("Topologies:\n")
	for _, st := range t.subs {
		fmt.Fprintf(&b, "   Sub-topology: %d\n", st.ID)
		for _, n := range describeOrder(st) {
			switch n.Kind {
			case SourceNode:
				fmt.Fprintf(&b, "    Source: %s (topics: [%s])\n", n.Name, strings.Join(n.Topics, ", "))
			case ProcessorNode:
				fmt.Fprintf(&b, "    Processor: %s (stores: [%s])\n", n.Name, strings.Join(n.Stores, ", "))
			case SinkNode:
				if len(n.Topics) > 0 {
					fmt.Fprintf(&b, "    Sink: %s (topic: %s)\n", n.Name, n.Topics[0])
				} else {
					// The class name upstream prints, so descriptions compare equal.
					fmt.Fprintf(&b, "    Sink: %s (extractor class: io.axual.ksml.user.UserTopicNameExtractor)\n", n.Name)
				}
			}
			if n.Kind != SinkNode {
				fmt.Fprintf(&b, "      --> %s\n", nodeNames(n.Children))
			}
			if n.Kind != SourceNode {
				fmt.Fprintf(&b, "      <-- %s\n", nodeNames(n.Parents))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// describeOrder lists nodes breadth first from the sources, as Kafka Streams
// prints them.
func describeOrder(st *SubTopology) []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	queue := append([]*Node(nil), st.SourceNodes...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
		queue = append(queue, n.Children...)
	}
	for _, n := range st.Nodes {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

func nodeNames(ns []*Node) string {
	if len(ns) == 0 {
		return "none"
	}
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
