package yamlspec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads the first document of src. A syntax error is returned as a
// diagnostic at the line and column to fix: yaml.v3 names the start of
// the block it was reading, so a wrongly indented line, a tab in the
// indentation and an unquoted ": " inside a value are located and
// explained. An empty document yields nil and no diagnostic. The node
// returned is the document's root as written (it may be an alias or a
// null scalar).
func Parse(file string, src []byte) (*yaml.Node, *Diagnostic) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		d := syntaxError(file, strings.Split(string(src), "\n"), err)
		return nil, &d
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxError(file string, lines []string, err error) Diagnostic {
	msg := err.Error()
	line := 1
	for _, part := range strings.Split(msg, "\n") {
		part = strings.TrimSpace(part)
		if m := yamlLineRe.FindStringSubmatch(part); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
			break
		}
		msg = strings.TrimPrefix(part, "yaml: ")
	}
	col := 1
	if l, c, ok := misindented(lines, line); ok && indentationMessages[msg] {
		line, col = l, c
		msg += " (this line's indentation matches no enclosing block)"
	}
	if msg == "mapping values are not allowed in this context" && line >= 1 && line <= len(lines) {
		// Usually a plain value holding ": " (code: return {"a": 1}).
		text := lines[line-1]
		if first := strings.Index(text, ": "); first >= 0 {
			if second := strings.Index(text[first+2:], ": "); second >= 0 {
				col = first + 2 + second + 1
				msg += ` (a value that contains ": " must be quoted, or written as a block: key: |)`
			}
		}
	}
	if line >= 1 && line <= len(lines) {
		text := lines[line-1]
		indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
		if i := strings.IndexByte(indent, '\t'); i >= 0 {
			col = i + 1
			msg += " (YAML does not allow tabs for indentation)"
		}
	}
	return Diagnostic{Pos: Pos{File: file, Line: line, Col: col}, Msg: "YAML syntax error: " + msg}
}

// indentationMessages are the yaml.v3 errors a wrongly indented line
// causes.
var indentationMessages = map[string]bool{
	"did not find expected key":                              true,
	"mapping values are not allowed in this context":         true,
	"did not find expected '-' indicator":                    true,
	"block sequence entries are not allowed in this context": true,
}

// misindented finds the first line after from (1-based) whose indentation
// matches none of the blocks open above it, the usual cause of the errors
// above, and returns its line and column.
func misindented(lines []string, from int) (int, int, bool) {
	var open []int // indentation of the blocks open above the current line
	for i, text := range lines {
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		ind := len(text) - len(trimmed)
		if len(open) == 0 || ind > open[len(open)-1] {
			open = append(open, ind) // a deeper block
			continue
		}
		for len(open) > 0 && open[len(open)-1] > ind {
			open = open[:len(open)-1] // blocks that end here
		}
		if len(open) == 0 || open[len(open)-1] != ind {
			if i+1 > from {
				return i + 1, ind + 1, true
			}
			open = append(open, ind)
		}
	}
	return 0, 0, false
}

// Deref follows alias nodes (at most 100, so alias chains cannot loop).
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n, after aliases, is absent or a null scalar.
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// IsMergeKey reports whether k is the << merge key.
func IsMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge"
}

// Pair is one key/value entry of a mapping.
type Pair struct {
	Key   *yaml.Node
	Value *yaml.Node
}

// Pairs lists the entries of mapping n (after aliases), expanding << merge
// keys; explicit entries win over merged ones. Anything but a mapping has
// no entries. Each mapping is expanded once and merges nest at most 20
// deep, so hostile alias graphs cannot blow up the work.
func Pairs(n *yaml.Node) []Pair {
	return pairsDepth(n, 0, map[*yaml.Node]bool{})
}

func pairsDepth(n *yaml.Node, depth int, seen map[*yaml.Node]bool) []Pair {
	n = Deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 20 || seen[n] {
		return nil
	}
	seen[n] = true
	var own, merged []Pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if IsMergeKey(k) {
			src := Deref(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					merged = append(merged, pairsDepth(s, depth+1, seen)...)
				}
			} else {
				merged = append(merged, pairsDepth(src, depth+1, seen)...)
			}
			continue
		}
		own = append(own, Pair{k, v})
	}
	if len(merged) == 0 {
		return own
	}
	have := map[string]bool{}
	for _, e := range own {
		have[e.Key.Value] = true
	}
	out := own
	for _, e := range merged {
		if !have[e.Key.Value] {
			have[e.Key.Value] = true
			out = append(out, e)
		}
	}
	return out
}

// Duplicates calls report for every scalar key written twice in one
// mapping, anywhere below n (merge keys aside), with the key and its first
// occurrence. A mapping's own keys are checked before its values; aliases
// are not followed (their target is checked where it is written). The walk
// stops 200 levels deep.
func Duplicates(n *yaml.Node, report func(key, first *yaml.Node)) {
	duplicates(n, 0, report)
}

func duplicates(n *yaml.Node, depth int, report func(key, first *yaml.Node)) {
	if n == nil || depth > 200 || n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind == yaml.MappingNode {
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || IsMergeKey(k) {
				continue
			}
			if prev, ok := first[k.Value]; ok {
				report(k, prev)
				continue
			}
			first[k.Value] = k
		}
	}
	for _, c := range n.Content {
		duplicates(c, depth+1, report)
	}
}

// CheckDuplicates reports every duplicate key below n to c, as upstream
// KSML treats them: fatal.
func CheckDuplicates(c *Collector, file string, n *yaml.Node) {
	Duplicates(n, func(k, first *yaml.Node) {
		c.Add(At(file, k), "duplicate key %q (first defined at line %d)", k.Value, first.Line)
	})
}

// KindName names a node's kind for messages: "a mapping", "a list", "a
// scalar", "null", or "nothing" for an absent node.
func KindName(n *yaml.Node) string {
	n = Deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "an unknown node"
}

// Describe names what a value is for messages: "nothing" for null, the
// quoted text of a scalar, or its kind.
func Describe(n *yaml.Node) string {
	n = Deref(n)
	switch {
	case IsNull(n):
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return KindName(n)
}
