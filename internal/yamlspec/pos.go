package yamlspec

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a file; Line and Col are 1-based. A Pos without a line
// names only the file.
type Pos struct {
	File string
	Line int
	Col  int
}

// At returns the position of node n in file; a nil node yields the file
// alone.
func At(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// String formats the position as file:line:col.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// IsValid reports whether the position points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Diagnostic is one problem found in a file.
type Diagnostic struct {
	Pos Pos
	Msg string
}

// Error formats the diagnostic as file:line:col: message, or file: message
// when it has no line, or the message alone when it has no file either.
func (d Diagnostic) Error() string {
	if !d.Pos.IsValid() {
		if d.Pos.File == "" {
			return d.Msg
		}
		return d.Pos.File + ": " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// Diagnostics is every problem of one or more files.
type Diagnostics []Diagnostic

// Error joins the diagnostics, one per line.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Sort orders the diagnostics by file, line and column, keeping the order
// of those at the same place.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Collector gathers diagnostics. The same message at the same place is
// kept once: aliases and merge keys can make a node be read twice. The
// zero value is ready to use.
type Collector struct {
	List Diagnostics
	seen map[string]bool
}

// Add records a problem at p.
func (c *Collector) Add(p Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	key := p.String() + "\x00" + msg
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.List = append(c.List, Diagnostic{Pos: p, Msg: msg})
}

// Len is the number of problems recorded.
func (c *Collector) Len() int { return len(c.List) }
