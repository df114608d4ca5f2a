package definition_test

import (
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
)

// pythonChecker compiles code with the embedded CPython.
func pythonChecker() definition.CodeChecker {
	return definition.CodeCheckerFunc(func(src string, kind definition.CodeKind) *definition.CodeError {
		var k python.CodeKind
		switch kind {
		case definition.FunctionBody:
			k = python.FunctionBody
		case definition.Expression:
			k = python.Expression
		default:
			k = python.GlobalCode
		}
		if e := python.CheckSyntax(src, k); e != nil {
			return &definition.CodeError{Line: e.Line, Col: e.Col, Msg: e.Msg}
		}
		return nil
	})
}
