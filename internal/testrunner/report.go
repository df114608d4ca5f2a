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

// Report writes the results in upstream's layout (documented in its
// testing guide, so CI scripts that read it keep working):
//
//	=== KSML Test Results ===
//
//	  PASS  <suite> › <test>
//	  FAIL  <suite> › <test>
//	        <message>
//
//	N passed, M failed, K errors
//
// and returns the totals.
func Report(w io.Writer, results []Result) Summary {
	var s Summary
	fmt.Fprint(w, "\n=== KSML Test Results ===\n\n")
	for _, r := range results {
		switch r.Status {
		case Pass:
			fmt.Fprintf(w, "  PASS  %s\n", r.Label())
			s.Passed++
			continue
		case Fail:
			fmt.Fprintf(w, "  FAIL  %s\n", r.Label())
			s.Failed++
		default:
			fmt.Fprintf(w, "  ERROR %s\n", r.Label())
			s.Errors++
		}
		fmt.Fprintf(w, "        %s\n", indentMessage(r.Message))
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d errors\n", s.Passed, s.Failed, s.Errors)
	return s
}

// indentMessage keeps multi-line messages under their test line.
func indentMessage(m string) string {
	m = strings.TrimRight(m, "\n")
	return strings.ReplaceAll(m, "\n", "\n        ")
}
