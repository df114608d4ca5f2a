// Package testgate keeps the inherently long tests (soaks, kill/restart and
// broker-outage fault runs, benchmark smoke runs, builds of the binary) out
// of the everyday `go test ./...`, which must stay fast, without losing
// them: `KSML_LONG_TESTS=1 go test ./...` runs everything, and CI runs the
// long tests on their own with .ci/long.
package testgate

import (
	"os"
	"strconv"
	"testing"
)

// Env is the variable that turns the long tests on.
const Env = "KSML_LONG_TESTS"

// Enabled reports whether long tests run: KSML_LONG_TESTS is true.
func Enabled() bool {
	on, _ := strconv.ParseBool(os.Getenv(Env))
	return on
}

// Long skips the calling test unless KSML_LONG_TESTS is true; why says
// what makes it long. .ci/long finds the tests that call Long, runs them
// with KSML_LONG_TESTS=1 and fails if any of them skips, so under CI a
// long test is never skipped silently.
func Long(t testing.TB, why string) {
	t.Helper()
	if !Enabled() {
		t.Skipf("long test (%s): runs with %s=1 (CI: .ci/long)", why, Env)
	}
}
