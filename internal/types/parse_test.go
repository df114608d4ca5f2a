package types

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

func TestParseUserType(t *testing.T) {
	cases := []struct {
		in       string
		notation string
		want     string // canonical spelling
		check    func(t *testing.T, ut UserType)
	}{
		{"string", "default", "string", nil},
		{"str", "default", "string", nil},
		{"integer", "default", "int", nil},
		{"int", "default", "int", nil},
		{"long", "default", "long", nil},
		{"short", "default", "short", nil},
		{"byte", "default", "byte", nil},
		{"float", "default", "float", nil},
		{"double", "default", "double", nil},
		{"boolean", "default", "boolean", nil},
		{"bytes", "default", "bytes", nil},
		{"null", "default", "null", nil},
		{"none", "default", "null", nil},
		{"any", "default", "?", nil},
		{"?", "default", "?", nil},
		{"", "default", "?", nil},
		{"struct", "default", "struct", nil},
		{"map", "default", "map(?)", nil},
		{"json", "json", "json", func(t *testing.T, ut UserType) {
			n, ok := ut.Type.(NotationType)
			if !ok || n.Notation != "json" || n.Default.String() != "union(struct, [?])" {
				t.Fatalf("json = %#v", ut.Type)
			}
		}},
		{"avro", "avro", "avro", nil},
		{"binary", "binary", "binary", nil},
		{"xml", "xml", "xml", nil},
		{"confluent_avro", "confluent_avro", "confluent_avro", nil},
		{"avro:SensorData", "avro", "avro:SensorData", func(t *testing.T, ut UserType) {
			want := StructType{Notation: "avro", SchemaName: "SensorData"}
			if ut.Type != DataType(want) {
				t.Fatalf("type = %#v, want %#v", ut.Type, want)
			}
		}},
		{"avro:io.axual.SensorData", "avro", "avro:io.axual.SensorData", nil},
		{"protobuf:sensor_data", "protobuf", "protobuf:sensor_data", nil},
		{"csv:SensorData", "csv", "csv:SensorData", nil},
		{"jsonschema:SensorData", "jsonschema", "jsonschema:SensorData", nil},
		{"xml:SensorData", "xml", "xml:SensorData", nil},
		{"json:struct", "json", "json:struct", nil},
		{"binary:string", "binary", "binary:string", nil},
		{"[string]", "default", "[string]", func(t *testing.T, ut UserType) {
			if l, ok := ut.Type.(ListType); !ok || l.Elem != DataType(String) {
				t.Fatalf("type = %#v", ut.Type)
			}
		}},
		{"list(int)", "default", "[int]", nil},
		{"list( int )", "default", "[int]", nil},
		{"[(string,string)]", "default", "[(string, string)]", nil},
		{"list(tuple(string, json))", "default", "[(string, json)]", nil},
		{"list(tuple(string,avro:SensorData))", "default", "[(string, avro:SensorData)]", nil},
		{"map(string)", "default", "map(string)", nil},
		{"map(int)", "default", "map(int)", nil},
		{"(string, json)", "default", "(string, json)", func(t *testing.T, ut UserType) {
			tu := ut.Type.(TupleType)
			if len(tu.Elems) != 2 || tu.Elems[0] != DataType(String) || tu.Elems[1].(NotationType).Notation != "json" {
				t.Fatalf("type = %#v", ut.Type)
			}
		}},
		{"  ( string ,json )  ", "default", "(string, json)", nil},
		{"tuple(double, double, string)", "default", "(double, double, string)", nil},
		{"(string,avro:SensorData)", "default", "(string, avro:SensorData)", nil},
		{"union(null, json)", "default", "union(null, json)", nil},
		{"(string, union(null, json))", "default", "(string, union(null, json))", nil},
		{"enum(PENDING, PROCESSING, SHIPPED)", "default", "enum(PENDING, PROCESSING, SHIPPED)", func(t *testing.T, ut UserType) {
			e := ut.Type.(EnumType)
			if strings.Join(e.Symbols, "|") != "PENDING|PROCESSING|SHIPPED" {
				t.Fatalf("symbols = %q", e.Symbols)
			}
		}},
		{`enum("RED", "GREEN", 'with space')`, "default", `enum(RED, GREEN, "with space")`, func(t *testing.T, ut UserType) {
			e := ut.Type.(EnumType)
			if strings.Join(e.Symbols, "|") != "RED|GREEN|with space" {
				t.Fatalf("symbols = %q (quoted symbols must keep every character)", e.Symbols)
			}
		}},
		{"windowed(string)", "default", "windowed(string)", nil},
		{"json:windowed(string)", "json", "json:windowed(string)", func(t *testing.T, ut UserType) {
			if w := ut.Type.(WindowedType); w.Key != DataType(String) {
				t.Fatalf("key = %#v", w.Key)
			}
		}},
		{"avro:windowed(string)", "avro", "avro:windowed(string)", nil},
		{"avro:windowed(SensorKey)", "avro", "avro:windowed(avro:SensorKey)", func(t *testing.T, ut UserType) {
			want := StructType{Notation: "avro", SchemaName: "SensorKey"}
			if w := ut.Type.(WindowedType); w.Key != DataType(want) {
				t.Fatalf("key = %#v", w.Key)
			}
		}},
		{"avro:[SensorData]", "avro", "avro:[avro:SensorData]", nil},
		{"json:[string]", "json", "json:[string]", nil},
		{"[[int]]", "default", "[[int]]", nil},
		{"union(string, [int], map(long), (int, bytes))", "default", "union(string, [int], map(long), (int, bytes))", nil},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			ut, err := ParseUserType(c.in)
			if err != nil {
				t.Fatalf("ParseUserType(%q): %v", c.in, err)
			}
			if ut.Notation != c.notation {
				t.Errorf("notation = %q, want %q", ut.Notation, c.notation)
			}
			if got := ut.String(); got != c.want {
				t.Errorf("String() = %q, want %q", got, c.want)
			}
			again, err := ParseUserType(ut.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", ut.String(), err)
			}
			if again.String() != ut.String() || again.Notation != ut.Notation || !TypesEqual(again.Type, ut.Type) {
				t.Errorf("round trip %q -> %q (%s)", ut.String(), again.String(), again.Notation)
			}
			if c.check != nil {
				c.check(t, ut)
			}
		})
	}
}

func TestParseUserTypeErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		msg    string
	}{
		{"[string", 7, `missing ']' to close list type`},
		{"(string, json", 13, "missing ')' to close tuple type"},
		{"list(int", 8, `missing ')' to close list type`},
		{"SensorData", 0, `unknown type "SensorData"`},
		{"foo:Bar", 0, `unknown notation "foo"`},
		{"json:SensorData", 5, `schema "SensorData" can not be used with notation json`},
		{"json:string", 5, "notation json does not allow for data type string"},
		{"avro:int", 5, "notation avro does not allow for data type int"},
		{"string extra", 7, `unexpected "extra" after type`},
		{"frobnicate(int)", 0, `unknown type "frobnicate"`},
		{"()", 1, "empty tuple type"},
		{"enum()", 5, "enum type needs at least one symbol"},
		{`enum("A, B)`, 5, "unterminated quoted enum symbol"},
		{"enum(A, A)", 8, `duplicate enum symbol "A"`},
		{"(string,)", 8, `unexpected ')' where a type is expected`},
		{"[string]]", 8, `unexpected "]" after type`},
		{"avro:a:b", 6, "only one notation prefix"},
		{"csv", 0, "notation csv requires a schema: use csv:SchemaName"},
		{"(string, csv:)", 9, "notation csv requires a schema"},
		{"windowed(json:Foo)", 14, `schema "Foo" can not be used with notation json`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := ParseUserType(c.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseUserType(%q) error = %v, want *ParseError", c.in, err)
			}
			if pe.Offset != c.offset || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("got offset %d %q, want offset %d containing %q", pe.Offset, pe.Msg, c.offset, c.msg)
			}
		})
	}
}

func TestParserCustomNotation(t *testing.T) {
	p := Parser{Notation: func(name string) (NotationInfo, bool) {
		if name == "my_avro" {
			return NotationInfo{Default: StructType{}, Schema: SchemaOptional}, true
		}
		return BuiltinNotation(name)
	}}
	ut, err := p.Parse("my_avro:SensorData")
	if err != nil || ut.String() != "my_avro:SensorData" || ut.Notation != "my_avro" {
		t.Fatalf("Parse = %v, %v", ut, err)
	}
	ut, err = p.Parse("(string, my_avro)")
	if err != nil || ut.String() != "(string, my_avro)" {
		t.Fatalf("Parse = %v, %v", ut, err)
	}
	if _, err := ParseUserType("my_avro:SensorData"); err == nil {
		t.Fatal("built-in parser accepted an unconfigured notation")
	}
}

// TestParseCorpusTypes parses every type string the upstream corpus uses in
// keyType, valueType, resultType, into and parameter types.
func TestParseCorpusTypes(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "ksml-corpus")
	if _, err := os.Stat(root); err != nil {
		sharedtest.Missing(t, root)
	}
	seen := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil {
			return nil // not every corpus file is valid YAML on its own
		}
		collectTypeStrings(&doc, "", path, seen)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 40 {
		t.Fatalf("found only %d distinct type strings in the corpus", len(seen))
	}
	for s, where := range seen {
		if reason, ok := corpusInvalidTypes[s]; ok {
			if _, err := ParseUserType(s); err == nil {
				t.Errorf("%s: %q parsed, but %s", where, s, reason)
			}
			continue
		}
		if _, err := ParseUserType(s); err != nil {
			t.Errorf("%s: %q: %v", where, s, err)
		}
	}
	t.Logf("parsed %d distinct corpus type strings", len(seen))
}

// corpusInvalidTypes are corpus type strings upstream rejects too; the files
// using them have no upstream test.
var corpusInvalidTypes = map[string]string{
	"object": "upstream rejects it (binary notation takes no schema named object)",
}

func collectTypeStrings(n *yaml.Node, parentKey, path string, seen map[string]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectTypeStrings(c, parentKey, path, seen)
		}
	case yaml.MappingNode:
		isParam := parentKey == "parameters"
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				switch k.Value {
				case "keyType", "valueType", "resultType", "into":
					seen[v.Value] = path
				case "type":
					if isParam {
						seen[v.Value] = path
					}
				}
			}
			collectTypeStrings(v, k.Value, path, seen)
		}
	}
}
