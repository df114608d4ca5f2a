package python

import "github.com/ksml-dev/ksml/internal/types"

// CodeKind says how a piece of Python source is compiled.
type CodeKind int

const (
	// GlobalCode is module-level code (a function's globalCode).
	GlobalCode CodeKind = iota
	// FunctionBody is a KSML code block: the body of a function, so it may
	// return at top level. An expression may follow it.
	FunctionBody
	// Expression is a KSML expression; it may span lines without brackets.
	Expression
)

// SyntaxError is a compile error in a piece of source. Line and Col are
// 1-based and relative to the source that was checked.
type SyntaxError struct {
	Line int
	Col  int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return itoa(e.Line) + ":" + itoa(e.Col) + ": " + e.Msg
}

// CheckSyntax compiles src as kind with CPython's own compiler without
// running it, and returns the first error or nil. The interpreter is started
// on first use. If the interpreter cannot start, the error is reported at
// 1:1 with the reason.
func CheckSyntax(src string, kind CodeKind) *SyntaxError {
	if err := startRuntime(); err != nil {
		return &SyntaxError{Line: 1, Col: 1, Msg: err.Error()}
	}
	res, err := helper("check_syntax", int64(kind), src)
	if err != nil {
		return &SyntaxError{Line: 1, Col: 1, Msg: err.Error()}
	}
	t, ok := res.(types.Tuple)
	if !ok || len(t) != 3 {
		return nil
	}
	line, _ := t[0].(int64)
	col, _ := t[1].(int64)
	msg, _ := t[2].(string)
	return &SyntaxError{Line: int(line), Col: int(col), Msg: msg}
}
