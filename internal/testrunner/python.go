package testrunner

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/topology"
)

var codeChecker = topology.CodeChecker

// pyEnv is the embedded Python as the test runner uses it: for pipeline
// functions, generators and assertion code.
type pyEnv struct {
	interp *python.Interpreter
}

func newPyEnv(moduleDirs []string, logger *slog.Logger) (*pyEnv, error) {
	// Avro records reach Python with upstream's "@type" and "@schema" keys.
	in, err := python.Init(python.Options{ModulePaths: moduleDirs, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &pyEnv{interp: in}, nil
}

// functions returns a compiler for one test's topology build.
func (e *pyEnv) functions() topology.FunctionCompiler {
	return topology.NewPythonFunctions(e.interp)
}

// generator compiles a produce block's generator in its own module.
func (e *pyEnv) generator(file string, g *Generator) (func() (any, error), error) {
	m, err := e.interp.NewModule("test", file, nil)
	if err != nil {
		return nil, err
	}
	f, err := m.Define(python.FunctionSpec{
		Name:       g.Name,
		Type:       "generator",
		LoggerKind: "generator",
		GlobalCode: python.Source{Text: g.GlobalCode, File: file, Line: g.line("globalCode")},
		Code:       python.Source{Text: g.Code, File: file, Line: g.line("code")},
		Expression: python.Source{Text: g.Expression, File: file, Line: g.line("expression")},
	})
	if err != nil {
		return nil, err
	}
	return func() (any, error) { return f.Call(nil) }, nil
}

// assert runs assertion code as the body of a function whose parameters are
// the injected variables; stores are passed as store proxies. An
// AssertionError becomes an *assertionFailure.
func (e *pyEnv) assert(file string, ab *AssertBlock, records []any, stores map[string]python.Store) error {
	m, err := e.interp.NewModule("assertions", file, nil)
	if err != nil {
		return err
	}
	spec := python.FunctionSpec{
		Name:       "assertions",
		Type:       "generic",
		Code:       python.Source{Text: explainAsserts(ab.Code), File: file, Line: ab.Line},
		ResultType: "null",
	}
	var args []any
	if ab.On != "" {
		spec.Parameters = []python.Parameter{{Name: "records", Type: "?"}}
		args = append(args, records)
	}
	var cc *python.CallContext
	if len(stores) > 0 {
		cc = &python.CallContext{Stores: stores}
		spec.Stores = ab.Stores
	}
	f, err := m.Define(spec)
	if err != nil {
		return err
	}
	_, err = f.Call(cc, args...)
	var fe *python.FunctionError
	if errors.As(err, &fe) && fe.Type == "AssertionError" {
		msg := "AssertionError"
		if fe.Message != "" {
			msg += ": " + fe.Message
		}
		if fe.File != "" && fe.Line > 0 {
			msg += fmt.Sprintf("\nat %s:%d", fe.File, fe.Line)
			lines := strings.Split(ab.Code, "\n")
			if i := fe.Line - ab.Line; i >= 0 && i < len(lines) {
				msg += ": " + strings.TrimSpace(lines[i])
			}
		}
		return &assertionFailure{msg: msg}
	}
	return err
}

// line is where a generator field starts in the suite file (the block's
// line for defaults that were not written).
func (g *Generator) line(field string) int {
	if l, ok := g.Lines[field]; ok {
		return l
	}
	return g.Line
}
