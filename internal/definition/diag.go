package definition

import (
	"fmt"
	"sort"
	"strings"
)

// Diagnostic is one problem found in a definition file.
type Diagnostic struct {
	Pos Pos
	Msg string
}

// Error formats the diagnostic as file:line:col: message.
func (d Diagnostic) Error() string {
	if !d.Pos.IsValid() {
		return d.Pos.File + ": " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// Diagnostics is every problem of one or more files, sorted by position.
// Load and Parse return it as their error when it is not empty.
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

func (ds Diagnostics) sort() {
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

// diags collects diagnostics while parsing one file; duplicates (same place,
// same message) are reported once.
type diags struct {
	list Diagnostics
	seen map[string]bool
}

func (d *diags) add(p Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	key := p.String() + "\x00" + msg
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if d.seen[key] {
		return
	}
	d.seen[key] = true
	d.list = append(d.list, Diagnostic{Pos: p, Msg: msg})
}
