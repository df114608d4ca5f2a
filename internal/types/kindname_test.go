package types

import "testing"

func TestKindName(t *testing.T) {
	named := NewStruct(0)
	named.Schema = &StructSchema{Name: "Order"}
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "null"}, {true, "boolean"}, {int64(1), "long"}, {int32(1), "long"}, {1.5, "double"},
		{"s", "string"}, {[]byte("b"), "bytes"}, {[]any{}, "list"}, {Tuple{}, "tuple"},
		{NewStruct(0), "struct"}, {named, "struct Order"}, {map[string]any{}, "map"}, {&Windowed{}, "types.Windowed"},
	} {
		if got := KindName(c.v); got != c.want {
			t.Errorf("KindName(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
