package testrunner

import (
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one test.
type Status int

// Outcomes.
const (
	Pass Status = iota
	Fail
	Error
)

func (s Status) String() string {
	switch s {
	case Fail:
		return "FAIL"
	case Error:
		return "ERROR"
	}
	return "PASS"
}

// Result is the outcome of one test (or of a whole suite that could not be
// parsed).
type Result struct {
	Suite   string
	Test    string
	Status  Status
	Message string
}

// Label is "<suite> › <test>".
func (r Result) Label() string {
	switch {
	case r.Suite == "":
		return r.Test
	case r.Test == "":
		return r.Suite
	}
	return r.Suite + " › " + r.Test
}

// Summary counts results.
type Summary struct {
	Passed, Failed, Errors int
}

// OK reports whether every test passed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errors == 0 }

// Report writes one line per result, then the totals, and returns them.
func Report(w io.Writer, results []Result) Summary {
	var s Summary
	for _, r := range results {
		line := r.Label() + ": " + r.Status.String()
		if r.Status != Pass && r.Message != "" {
			line += ": " + indentMessage(r.Message)
		}
		fmt.Fprintln(w, line)
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		default:
			s.Errors++
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d errors\n", s.Passed, s.Failed, s.Errors)
	return s
}

// indentMessage keeps multi-line messages readable under their test line.
func indentMessage(m string) string {
	m = strings.TrimRight(m, "\n")
	return strings.ReplaceAll(m, "\n", "\n    ")
}
