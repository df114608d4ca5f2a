package config

import (
	"net"
	"strconv"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Pos is a place in a configuration file; Line and Col are 1-based.
type Pos = yamlspec.Pos

// Diagnostic is one problem found in a configuration.
type Diagnostic = yamlspec.Diagnostic

// Errors is every problem of a configuration, sorted by position. Load,
// Parse and Resolve return it as their error when it is not empty.
type Errors = yamlspec.Diagnostics

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func itoa(i int) string { return strconv.Itoa(i) }

// suggest returns the known name closest to name, or "" when none is
// close enough to be a likely typo.
func suggest(name string, known []string) string { return yamlspec.Suggest(name, known) }
