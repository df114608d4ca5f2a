package testrunner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/types"
)

const corpusSuites = "../../../shared/ksml-corpus/ksml-test-runner/src/test/resources"

func TestNegativeSuitesFailWithClearMessages(t *testing.T) {
	if _, err := os.Stat(corpusSuites); err != nil {
		sharedtest.Missing(t, corpusSuites)
	}
	// The phrases upstream's TestDefinitionParserTest looks for ("Invalid
	// test key", "Duplicate", "Missing required 'tests' map", ...) appear
	// as it spells them.
	cases := map[string]string{
		"missing-tests.yaml":                 "missing-tests.yaml:1:1: Missing required 'tests' map",
		"duplicate-test-key.yaml":            "Duplicate key 'same_key' (first defined at line",
		"invalid-stream-key.yaml":            "Invalid stream key 'with-dash': must match ^[a-zA-Z][a-zA-Z0-9_]*$",
		"invalid-test-key.yaml":              "Invalid test key 'test with spaces'",
		"undefined-stream-reference.yaml":    "produce block in test 'bad_reference' references stream 'nonexistent' that is not declared in 'streams:'",
		"assert-no-topic-no-stores.yaml":     "assert block in test 'empty_assert' must have at least 'on' or non-empty 'stores'",
		"empty-stores-block.yaml":            "assert block in test 'empty_stores_passes_validation' must have at least 'on' or non-empty 'stores'",
		"missing-produce.yaml":               "test 'no_produce' is missing required field 'produce'",
		"duplicate-stream-topic.yaml":        "streams 'source_one' and 'source_two' both reference topic 'ksml_sensordata_avro'",
		"generator-bad-field-type-test.yaml": "generator field 'name' must be a string, got: integer",
	}
	for file, want := range cases {
		_, err := ParseSuite(filepath.Join(corpusSuites, file))
		if err == nil {
			t.Errorf("%s: parsed without error", file)
			continue
		}
		if _, ok := err.(*DefinitionError); !ok {
			t.Errorf("%s: error type %T", file, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", file, err, want)
		}
	}
}

func TestParseSuiteKeepsOrderAndTypes(t *testing.T) {
	src := `name: demo
definition: def.yaml
streams:
  in: {topic: a}
  out: {topic: b, keyType: long, valueType: json}
tests:
  second:
    produce:
      - to: in
        messages:
          - {key: k, value: {z: 1, a: [true, 2.5, null]}, timestamp: 42}
    assert:
      - on: out
        code: |
          assert True
  first:
    description: Generated
    produce:
      - to: in
        generator:
          code: result = []
        count: 3
    assert:
      - stores: [s1]
        code: assert s1 is not None
`
	s, err := ParseSuiteBytes("demo.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "demo" || s.Definition != "def.yaml" || len(s.Streams) != 2 || s.Streams[0].KeyType != "string" || s.Streams[1].ValueType != "json" {
		t.Fatalf("suite header: %+v %+v", s, s.Streams)
	}
	if len(s.Tests) != 2 || s.Tests[0].Key != "second" || s.Tests[1].Label() != "Generated" || s.Tests[0].Label() != "second" {
		t.Fatalf("tests: %+v", s.Tests)
	}
	m := s.Tests[0].Produce[0].Messages[0]
	if m.Key != "k" || !m.HasTimestamp || m.Timestamp != 42 {
		t.Fatalf("message: %+v", m)
	}
	v := m.Value.(*types.Struct)
	if strings.Join(v.Keys(), ",") != "z,a" {
		t.Errorf("field order: %v", v.Keys())
	}
	if z, _ := v.Get("z"); z != int64(1) {
		t.Errorf("z = %#v", z)
	}
	a, _ := v.Get("a")
	if l := a.([]any); l[0] != true || l[1] != 2.5 || l[2] != nil {
		t.Errorf("a = %#v", a)
	}
	g := s.Tests[1].Produce[0]
	if g.Generator == nil || g.Count != 3 || g.Generator.Name != "test_generator" || g.Generator.Expression != "result" {
		t.Errorf("generator: %+v %+v", g, g.Generator)
	}
	if ab := s.Tests[0].Assert[0]; ab.Line != 15 || ab.Code != "assert True\n" {
		t.Errorf("assert line %d code %q", ab.Line, ab.Code)
	}
}

func TestAliasBombIsRejected(t *testing.T) {
	src := `definition: d.yaml
streams: {s: {topic: t}}
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
tests:
  t1:
    produce:
      - to: s
        messages:
          - {key: k, value: *e}
    assert:
      - on: s
        code: assert True
`
	_, err := ParseSuiteBytes("bomb.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "value is too large or too deeply nested") {
		t.Fatalf("got %v", err)
	}
}
