package topology

import (
	"fmt"
	"io"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// Function is a compiled user function. Call gets the processor context of
// the node calling it (stores, record context) and the function type's
// built-in arguments; it returns the function's result in the data model.
type Function interface {
	Call(pc *streams.ProcessorContext, args ...any) (any, error)
}

// FunctionCompiler turns a function definition into a callable, once per
// definition function. stores is the catalogue of the build compiling it
// (still being filled: a function's stores are registered before it is
// compiled), nil outside a build; a compiler serves one build. Errors name
// the function and its position.
type FunctionCompiler interface {
	Compile(def *definition.Definition, fn *definition.FunctionDef, stores *StoreCatalog) (Function, error)
}

// SerdeProvider returns the serde of a declared type.
type SerdeProvider interface {
	Serde(t types.UserType, isKey bool) (streams.Serde, error)
}

// Options configure Build.
type Options struct {
	ApplicationID string
	Functions     FunctionCompiler
	Serdes        SerdeProvider
	// Stdout receives print sinks without a filename (default os.Stdout).
	Stdout io.Writer
	// StateDir is where persistent stores live: storageDirectory/<application.id>,
	// each store under <task>/<store>. Empty keeps persistent stores in memory.
	StateDir string
}

// Result is a built topology with what callers need to inspect it.
type Result struct {
	Topology *streams.Topology
	// Stores is the build's store catalogue, for typed access (test
	// assertions, interactive queries).
	Stores *StoreCatalog
}

// BuildError is a build failure at a place in a definition.
type BuildError struct {
	Pos definition.Pos
	Msg string
}

func (e *BuildError) Error() string {
	if e.Pos.IsValid() {
		return e.Pos.String() + ": " + e.Msg
	}
	if e.Pos.File != "" {
		return e.Pos.File + ": " + e.Msg
	}
	return e.Msg
}

func errAt(p definition.Pos, format string, args ...any) error {
	return &BuildError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
