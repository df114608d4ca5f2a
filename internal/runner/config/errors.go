package config

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Pos is a place in a configuration file; Line and Col are 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// IsValid reports whether the position points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Diagnostic is one problem found in a configuration.
type Diagnostic struct {
	Pos Pos
	Msg string
}

// Error formats the diagnostic as file:line:col: message.
func (d Diagnostic) Error() string {
	if !d.Pos.IsValid() {
		if d.Pos.File == "" {
			return d.Msg
		}
		return d.Pos.File + ": " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// Errors is every problem of a configuration, sorted by position. Load,
// Parse and Resolve return it as their error when it is not empty.
type Errors []Diagnostic

// Error joins the diagnostics, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, d := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

func sortDiagnostics(ds []Diagnostic) {
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

// diagList collects diagnostics; the same message at the same place is
// kept once (aliases can make a node be read twice).
type diagList struct {
	list []Diagnostic
	seen map[string]bool
}

func (d *diagList) add(p Pos, format string, args ...any) {
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

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// suggest returns the known name closest to name, or "" when none is
// close enough to be a likely typo.
func suggest(name string, known []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == lname {
			return k
		}
		d := editDistance(lname, strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	limit := len(name) / 3
	if limit < 2 {
		limit = 2
	}
	if bestDist <= limit {
		return best
	}
	// A prefix of a known key ("schemaRegistr") or a known key with a
	// suffix ("enabledd") is also a likely typo.
	for _, k := range known {
		lk := strings.ToLower(k)
		if len(lname) >= 4 && (strings.HasPrefix(lk, lname) || strings.HasPrefix(lname, lk)) {
			return k
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters each
// cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
