package testrunner

import (
	"strconv"
	"strings"
)

// explainAsserts rewrites the one-line `assert` statements without a
// message in assertion code so that a failure carries the expression and
// its values, as pytest does: `assert a == b` fails with
// `a == b: left 1, right 2`. The operands are evaluated once, as in the
// original statement, and every line keeps its number, so tracebacks and
// positions are unchanged. Statements it cannot take apart safely
// (continued lines, a message already given, chained comparisons,
// comparisons under and/or/not) keep their form; the error then still
// names the line.
func explainAsserts(code string) string {
	lines := strings.Split(code, "\n")
	for i, l := range lines {
		if r, ok := explainAssert(l); ok {
			lines[i] = r
		}
	}
	return strings.Join(lines, "\n")
}

func explainAssert(line string) (string, bool) {
	trimmed := strings.TrimLeft(line, " \t")
	indent := line[:len(line)-len(trimmed)]
	rest, ok := strings.CutPrefix(trimmed, "assert ")
	if !ok {
		return "", false
	}
	expr, ok := topLevel(rest)
	if !ok || expr.src == "" || expr.comma || expr.hasWord("lambda", "if", "and", "or", "not") || strings.Contains(expr.src, ":=") {
		return "", false
	}
	quoted := strconv.Quote(expr.src)
	switch len(expr.ops) {
	case 0:
		return indent + "assert (_ksml_v := (" + expr.src + ")), " + quoted + ` + ": value " + repr(_ksml_v)`, true
	case 1:
		op := expr.ops[0]
		left, right := strings.TrimSpace(expr.src[:op.at]), strings.TrimSpace(expr.src[op.at+len(op.text):])
		if left == "" || right == "" {
			return "", false
		}
		return indent + "assert (_ksml_l := (" + left + ")) " + strings.TrimSpace(op.text) + " (_ksml_r := (" + right + ")), " +
			quoted + ` + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`, true
	}
	return "", false
}

type comparison struct {
	at   int
	text string
}

// scanned is an expression's top level: outside brackets and strings.
type scanned struct {
	src   string
	comma bool
	ops   []comparison
	words []string
}

func (s scanned) hasWord(words ...string) bool {
	for _, w := range s.words {
		for _, x := range words {
			if w == x {
				return true
			}
		}
	}
	return false
}

// topLevel scans one line of Python: the comparison operators, commas and
// words outside brackets and string literals. It fails on lines that do not
// end the statement (open brackets or strings, a continuation, a comment,
// triple quotes, a block colon).
func topLevel(src string) (scanned, bool) {
	src = strings.TrimRight(src, " \t\r")
	if strings.Contains(src, `"""`) || strings.Contains(src, "'''") || strings.HasSuffix(src, "\\") || strings.Contains(src, ";") {
		return scanned{}, false
	}
	s := scanned{src: src}
	depth := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return scanned{}, false
			}
			i = j
		case c == '#':
			return scanned{}, false
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
			if depth < 0 {
				return scanned{}, false
			}
		case depth > 0:
		case c == ',':
			s.comma = true
		case c == ':':
			return scanned{}, false
		case strings.HasPrefix(src[i:], "=="), strings.HasPrefix(src[i:], "!="), strings.HasPrefix(src[i:], "<="), strings.HasPrefix(src[i:], ">="):
			if strings.HasPrefix(src[i:], "<<=") || strings.HasPrefix(src[i:], ">>=") {
				return scanned{}, false
			}
			s.ops = append(s.ops, comparison{i, src[i : i+2]})
			i++
		case c == '<' || c == '>':
			if i+1 < len(src) && (src[i+1] == c) || i > 0 && (src[i-1] == c || src[i-1] == '-') {
				i++ // shift operator or ->
				continue
			}
			s.ops = append(s.ops, comparison{i, src[i : i+1]})
		case isIdentStart(c) && (i == 0 || !isIdent(src[i-1])):
			j := i
			for j < len(src) && isIdent(src[j]) {
				j++
			}
			w := src[i:j]
			if (w == "f" || w == "r" || w == "b" || w == "rb" || w == "br" || w == "fr" || w == "rf" || w == "u") && j < len(src) && (src[j] == '"' || src[j] == '\'') {
				i = j - 1 // a string prefix: the literal follows
				continue
			}
			switch w {
			case "in":
				s.ops = append(s.ops, comparison{i, "in"})
			case "is":
				op := comparison{i, "is"}
				if rest := src[j:]; strings.HasPrefix(rest, " not ") {
					op.text = "is not"
					j += len(" not")
				}
				s.ops = append(s.ops, op)
			case "not":
				if strings.HasPrefix(src[j:], " in ") {
					s.ops = append(s.ops, comparison{i, "not in"})
					j += len(" in")
				} else {
					s.words = append(s.words, w)
				}
			default:
				s.words = append(s.words, w)
			}
			i = j - 1
		}
	}
	if depth != 0 {
		return scanned{}, false
	}
	return s, true
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }
