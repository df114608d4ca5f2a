package topology

import (
	"fmt"
	"io"

	"ksml/internal/definition"
	"ksml/internal/store"
	"ksml/internal/streams"
	"ksml/internal/types"
)

// Function is a compiled user function. Call gets the processor context of
// the node calling it (stores, record context) and the function type's
// built-in arguments; it returns the function's result in the data model.
type Function interface {
	Call(pc *streams.ProcessorContext, args ...any) (any, error)
}

// FunctionCompiler turns a function definition into a callable, once per
// definition function. Errors name the function and its position.
type FunctionCompiler interface {
	Compile(def *definition.Definition, fn *definition.FunctionDef) (Function, error)
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
	// Stores, when not nil, is filled with the key/value store builders as
	// they are registered (it becomes Result.Stores), so a FunctionCompiler
	// can find store serdes while the topology is still being built.
	Stores map[string]*store.KeyValueBuilder
}

// Result is a built topology with what callers need to inspect it.
type Result struct {
	Topology *streams.Topology
	// Stores are the key/value store builders by store name, for typed
	// access (test assertions, interactive queries).
	Stores map[string]*store.KeyValueBuilder
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
