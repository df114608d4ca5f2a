package definition

import "github.com/ksml-dev/ksml/internal/yamlspec"

// Diagnostic is one problem found in a definition file, formatted by
// Error as file:line:col: message.
type Diagnostic = yamlspec.Diagnostic

// Diagnostics is every problem of one or more files, sorted by position.
// Load and Parse return it as their error when it is not empty.
type Diagnostics = yamlspec.Diagnostics
