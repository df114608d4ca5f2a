package types

import "unicode/utf8"

// The validation fast path. ValidateJSON runs on every JSON record a source
// reads, so its cost is paid per record by every pipeline. The exact
// validator (jsonDecoder with skip) shares its code with DecodeJSON and pays
// for that with (any, error) returns and error formatting at every level;
// validJSON below builds nothing and reports only yes or "not sure". It never
// accepts what the exact validator rejects (FuzzValidateJSONFast checks
// this), so when it says no, ValidateJSON runs the exact validator, which
// gives the verdict and the error with its offset.

// validJSONMaxDepth bounds the fast path's recursion; deeper documents are
// left to the exact validator (which allows up to maxJSONDepth).
const validJSONMaxDepth = 512

// validJSON reports whether b holds exactly one well-formed JSON value, and
// that value's first byte. false means invalid or beyond the fast path (too
// deep); the caller then asks the exact validator.
func validJSON(b []byte) (byte, bool) {
	i := skipJSONSpace(b, 0)
	if i >= len(b) {
		return 0, false
	}
	first := b[i]
	i, ok := validJSONValue(b, i, 0)
	if !ok {
		return 0, false
	}
	return first, skipJSONSpace(b, i) == len(b)
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && jsonSpace[b[i]] {
		i++
	}
	return i
}

// jsonSpace marks JSON's four whitespace bytes.
var jsonSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// jsonPlain marks the bytes a JSON string holds as they are, needing no
// further check: printable ASCII other than the quote and the backslash.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// validJSONValue checks the value starting at b[i] and returns the index just
// past it.
func validJSONValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > validJSONMaxDepth {
		return i, false
	}
	switch c := b[i]; c {
	case '{':
		return validJSONObject(b, i+1, depth)
	case '[':
		return validJSONArray(b, i+1, depth)
	case '"':
		return validJSONString(b, i+1)
	case 't':
		return validJSONLiteral(b, i, "true")
	case 'f':
		return validJSONLiteral(b, i, "false")
	case 'n':
		return validJSONLiteral(b, i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return validJSONNumber(b, i)
		}
		return i, false
	}
}

func validJSONLiteral(b []byte, i int, word string) (int, bool) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return i, false
	}
	return i + len(word), true
}

// validJSONObject checks an object whose '{' is just before b[i].
func validJSONObject(b []byte, i, depth int) (int, bool) {
	i = skipJSONSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		var ok bool
		if i, ok = validJSONString(b, i+1); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = validJSONValue(b, skipJSONSpace(b, i+1), depth+1); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// validJSONArray checks an array whose '[' is just before b[i].
func validJSONArray(b []byte, i, depth int) (int, bool) {
	i = skipJSONSpace(b, i)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = validJSONValue(b, i, depth+1); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// validJSONString checks a string whose opening quote is just before b[i].
// Escapes are checked for form only: a lone surrogate in \u escapes is
// accepted, as the exact decoder accepts it (it becomes U+FFFD).
func validJSONString(b []byte, i int) (int, bool) {
	for {
		for i+4 <= len(b) && jsonPlain[b[i]] && jsonPlain[b[i+1]] && jsonPlain[b[i+2]] && jsonPlain[b[i+3]] {
			i += 4
		}
		for i < len(b) && jsonPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !jsonHex[b[i+2]] || !jsonHex[b[i+3]] || !jsonHex[b[i+4]] || !jsonHex[b[i+5]] {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default: // c >= utf8.RuneSelf
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, false // invalid UTF-8 (a genuine U+FFFD has size 3)
			}
			i += size
		}
	}
}

// jsonHex marks hexadecimal digits.
var jsonHex = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

// validJSONNumber checks a number starting at b[i] ('-' or a digit).
func validJSONNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++ // a leading zero stands alone; "01" fails at the next byte
	case b[i] >= '1' && b[i] <= '9':
		i = skipJSONDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		s := i + 1
		if i = skipJSONDigits(b, s); i == s {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		if i = skipJSONDigits(b, s); i == s {
			return i, false
		}
	}
	return i, true
}

func skipJSONDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
