package definition

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

func (p *parser) pos(n *yaml.Node) Pos { return yamlspec.At(p.file, n) }

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
