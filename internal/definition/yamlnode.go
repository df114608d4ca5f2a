package definition

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file holds the YAML plumbing: reading a document into position-
// carrying nodes, following aliases and merge keys, finding duplicate keys,
// and locating the text of code scalars.

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads the first document of src. Syntax errors are reported at
// the line yaml.v3 names; an empty document yields nil without error.
func (p *parser) parseYAML(src []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
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
		if l, c, ok := misindented(p.lines, line); ok && indentationMessages[msg] {
			// yaml.v3 names the start of the block it was reading; the
			// line to fix is the one whose indentation fits no block.
			line, col = l, c
			msg += " (this line's indentation matches no enclosing block)"
		}
		if msg == "mapping values are not allowed in this context" && line >= 1 && line <= len(p.lines) {
			// Usually a plain value holding ": " (code: return {"a": 1}).
			text := p.lines[line-1]
			if first := strings.Index(text, ": "); first >= 0 {
				if second := strings.Index(text[first+2:], ": "); second >= 0 {
					col = first + 2 + second + 1
					msg += ` (a value that contains ": " must be quoted, or written as a block: key: |)`
				}
			}
		}
		if line >= 1 && line <= len(p.lines) {
			text := p.lines[line-1]
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			if i := strings.IndexByte(indent, '\t'); i >= 0 {
				col = i + 1
				msg += " (YAML does not allow tabs for indentation)"
			}
		}
		p.d.add(Pos{File: p.file, Line: line, Col: col}, "YAML syntax error: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// indentationMessages are the yaml.v3 errors a wrongly indented line
// causes.
var indentationMessages = map[string]bool{
	"did not find expected key":                              true,
	"mapping values are not allowed in this context":         true,
	"did not find expected '-' indicator":                    true,
	"block sequence entries are not allowed in this context": true,
}

// misindented finds the first line after from (1-based) whose
// indentation matches none of the blocks open above it, the usual cause
// of the errors above, and returns its line and column.
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

// deref follows alias nodes.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func (p *parser) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: p.file}
	}
	return Pos{File: p.file, Line: n.Line, Col: n.Column}
}

// pair is one key/value entry of a mapping, after merge keys are expanded.
type pair struct {
	key   *yaml.Node
	value *yaml.Node
}

// pairs lists the entries of mapping node n, expanding `<<` merge keys
// (explicit entries win over merged ones).
func pairs(n *yaml.Node) []pair {
	return pairsDepth(n, 0, map[*yaml.Node]bool{})
}

// pairsDepth expands merges; each mapping is expanded once per call, so
// hostile alias graphs cannot blow up the work.
func pairsDepth(n *yaml.Node, depth int, seen map[*yaml.Node]bool) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 20 || seen[n] {
		return nil
	}
	seen[n] = true
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			src := deref(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					merged = append(merged, pairsDepth(s, depth+1, seen)...)
				}
			} else {
				merged = append(merged, pairsDepth(src, depth+1, seen)...)
			}
			continue
		}
		own = append(own, pair{k, v})
	}
	if len(merged) == 0 {
		return own
	}
	have := map[string]bool{}
	for _, e := range own {
		have[e.key.Value] = true
	}
	out := own
	for _, e := range merged {
		if !have[e.key.Value] {
			have[e.key.Value] = true
			out = append(out, e)
		}
	}
	return out
}

// checkDuplicates reports every mapping key that appears twice in the same
// mapping, anywhere in the document (upstream treats them as fatal).
func (p *parser) checkDuplicates(n *yaml.Node, depth int) {
	if n == nil || depth > 200 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && !(k.Value == "<<" && k.Tag == "!!merge") {
				if prev, ok := first[k.Value]; ok {
					p.d.add(p.pos(k), "duplicate key %q (first defined at line %d)", k.Value, prev.Line)
				} else {
					first[k.Value] = k
				}
			}
			p.checkDuplicates(n.Content[i+1], depth+1)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			p.checkDuplicates(c, depth+1)
		}
	}
}

// kindName describes a node kind for error messages.
func kindName(n *yaml.Node) string {
	n = deref(n)
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

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// codePos returns where the first line of a code scalar's text sits in the
// file. For block scalars (| and >) that is the first content line, at the
// block's indentation; for flow scalars it is the scalar itself (one column
// further for quoted ones).
func (p *parser) codePos(n *yaml.Node) Pos {
	pos := p.pos(n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// The text starts on the line after the indicator (leading blank
		// lines are part of it); the first non-blank line gives the
		// indentation.
		line := n.Line + 1
		pos.Line = line
		pos.Col = 1
		for l := line; l <= len(p.lines); l++ {
			text := p.lines[l-1]
			if strings.TrimSpace(text) == "" {
				continue
			}
			pos.Col = len(text) - len(strings.TrimLeft(text, " ")) + 1
			break
		}
		return pos
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		pos.Col++
	}
	return pos
}
