package python

import "testing"

func TestCheckSyntax(t *testing.T) {
	cases := []struct {
		name string
		src  string
		kind CodeKind
		want *SyntaxError
	}{
		{"global ok", "import json\nx = 1\n", GlobalCode, nil},
		{"global return", "return 1\n", GlobalCode, &SyntaxError{1, 1, "'return' outside function"}},
		{"body return", "x = value\nreturn x\n", FunctionBody, nil},
		{"body bad", "x = 1\nif x\n  y = 2\n", FunctionBody, &SyntaxError{2, 5, "expected ':'"}},
		{"body break", "x = 1\nbreak\n", FunctionBody, &SyntaxError{2, 1, "'break' outside loop"}},
		{"body multiline string", "s = '''a\nb'''\nreturn s\n", FunctionBody, nil},
		{"expr ok", "value.get(\"eventType\").startswith(\"USER_\")", Expression, nil},
		{"expr multiline", "key +\n  value", Expression, nil},
		{"expr tuple", "key, value", Expression, nil},
		{"expr bad", "value.get(", Expression, &SyntaxError{1, 10, "'(' was never closed"}},
		{"expr statement", "x = 1", Expression, &SyntaxError{1, 3, "invalid syntax"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CheckSyntax(c.src, c.kind)
			if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
				t.Fatalf("CheckSyntax(%q) = %+v, want %+v", c.src, got, c.want)
			}
		})
	}
}
