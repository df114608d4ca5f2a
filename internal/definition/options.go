package definition

// CodeKind says how a piece of Python code is compiled.
type CodeKind int

const (
	// GlobalCode is module-level code (globalCode:).
	GlobalCode CodeKind = iota
	// FunctionBody is a function body (code:): it may `return` at top level.
	FunctionBody
	// Expression is a single expression (expression:).
	Expression
)

func (k CodeKind) String() string {
	switch k {
	case FunctionBody:
		return "code"
	case Expression:
		return "expression"
	}
	return "globalCode"
}

// CodeError is a Python syntax error; Line and Col are 1-based and relative
// to the checked source.
type CodeError struct {
	Line, Col int
	Msg       string
}

// CodeChecker compiles Python source without running it. It returns nil
// when src is valid.
type CodeChecker interface {
	CheckSyntax(src string, kind CodeKind) *CodeError
}

// CodeCheckerFunc adapts a function to CodeChecker.
type CodeCheckerFunc func(src string, kind CodeKind) *CodeError

// CheckSyntax calls f.
func (f CodeCheckerFunc) CheckSyntax(src string, kind CodeKind) *CodeError { return f(src, kind) }

// Options tune Load and Parse.
type Options struct {
	// SchemaDirs are searched in order for schema files named in types
	// (avro:Foo -> Foo.avsc). Empty: the definition's own directory.
	SchemaDirs []string
	// Namespace prefixes generated names; empty: derived from the file name.
	Namespace string
	// Code checks Python syntax; nil skips Python checks.
	Code CodeChecker
}
