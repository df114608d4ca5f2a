package topology

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// NoFunctions compiles every function into one that fails when called. It
// lets tools build a topology to inspect it without starting Python.
type NoFunctions struct{}

// Compile implements FunctionCompiler.
func (NoFunctions) Compile(_ *definition.Definition, fn *definition.FunctionDef, _ *StoreCatalog) (Function, error) {
	return uncallable(fn.Name), nil
}

type uncallable string

func (u uncallable) Call(*streams.ProcessorContext, ...any) (any, error) {
	return nil, fmt.Errorf("function %s cannot run: the topology was built for inspection only", string(u))
}

// Mermaid renders the topology as a Mermaid flowchart: one subgraph per
// sub-topology, topics as stadium shapes, stores as cylinders.
func Mermaid(t *streams.Topology) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	ids := map[string]string{}
	id := func(kind, name string) string {
		k := kind + ":" + name
		if v, ok := ids[k]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[k] = v
		return v
	}
	var edges []string
	for _, st := range t.SubTopologies() {
		fmt.Fprintf(&b, "  subgraph sub%d[\"Sub-topology %d\"]\n", st.ID, st.ID)
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", id("node", n.Name), mermaidEscape(n.Name))
			for _, s := range n.Stores {
				edges = append(edges, fmt.Sprintf("  %s --- %s", id("node", n.Name), id("store", s)))
			}
			for _, c := range n.Children {
				edges = append(edges, fmt.Sprintf("  %s --> %s", id("node", n.Name), id("node", c.Name)))
			}
			switch n.Kind {
			case streams.SourceNode:
				for _, tp := range n.Topics {
					edges = append(edges, fmt.Sprintf("  %s --> %s", id("topic", tp), id("node", n.Name)))
				}
			case streams.SinkNode:
				for _, tp := range n.Topics {
					edges = append(edges, fmt.Sprintf("  %s --> %s", id("node", n.Name), id("topic", tp)))
				}
			}
		}
		b.WriteString("  end\n")
	}
	for k, v := range sortedMap(ids) {
		kind, name, _ := strings.Cut(k, ":")
		switch kind {
		case "topic":
			fmt.Fprintf(&b, "  %s([\"%s\"])\n", v, mermaidEscape(name))
		case "store":
			fmt.Fprintf(&b, "  %s[(\"%s\")]\n", v, mermaidEscape(name))
		}
	}
	for _, e := range edges {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// Dot renders the topology in Graphviz dot syntax.
func Dot(t *streams.Topology) string {
	var b strings.Builder
	b.WriteString("digraph topology {\n  rankdir=TB;\n")
	for _, st := range t.SubTopologies() {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=\"Sub-topology %d\";\n", st.ID, st.ID)
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "    %q [shape=box];\n", n.Name)
		}
		b.WriteString("  }\n")
		for _, n := range st.Nodes {
			for _, c := range n.Children {
				fmt.Fprintf(&b, "  %q -> %q;\n", n.Name, c.Name)
			}
			for _, s := range n.Stores {
				fmt.Fprintf(&b, "  %q [shape=cylinder];\n  %q -> %q [dir=none];\n", "store:"+s, n.Name, "store:"+s)
			}
			switch n.Kind {
			case streams.SourceNode:
				for _, tp := range n.Topics {
					fmt.Fprintf(&b, "  %q [shape=ellipse];\n  %q -> %q;\n", "topic:"+tp, "topic:"+tp, n.Name)
				}
			case streams.SinkNode:
				for _, tp := range n.Topics {
					fmt.Fprintf(&b, "  %q [shape=ellipse];\n  %q -> %q;\n", "topic:"+tp, n.Name, "topic:"+tp)
				}
			}
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func mermaidEscape(s string) string { return strings.ReplaceAll(s, "\"", "#quot;") }

// sortedMap iterates a map in key order (a range-over-func iterator).
func sortedMap(m map[string]string) func(func(string, string) bool) {
	return func(yield func(string, string) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// NoSerdes gives every type a serde that fails when used; like NoFunctions
// it serves building a topology for inspection only.
type NoSerdes struct{}

// Serde implements SerdeProvider.
func (NoSerdes) Serde(t types.UserType, _ bool) (streams.Serde, error) {
	return noSerde(t.String()), nil
}

type noSerde string

func (n noSerde) Serialize(string, *[]streams.Header, any) ([]byte, error) {
	return nil, fmt.Errorf("no serde for %s: the topology was built for inspection only", string(n))
}

func (n noSerde) Deserialize(string, []streams.Header, []byte) (any, error) {
	return nil, fmt.Errorf("no serde for %s: the topology was built for inspection only", string(n))
}
