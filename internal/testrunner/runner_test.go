package testrunner

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

const seedSuites = "../../../shared/acceptance/seed"

func fixedNow() time.Time { return time.UnixMilli(1_700_000_000_000) }

func runSuite(t *testing.T, path string) ([]Result, Summary, string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		sharedtest.Missing(t, path)
	}
	results := RunFile(path, Options{Stdout: io.Discard, Now: fixedNow})
	var buf bytes.Buffer
	sum := Report(&buf, results)
	return results, sum, buf.String()
}

func TestSeedAcceptanceSuitesPass(t *testing.T) {
	for _, name := range []string{"event-sourcing", "cqrs", "api-gateway", "cdc", "error-handling", "service-discovery"} {
		_, sum, out := runSuite(t, filepath.Join(seedSuites, name+"-test.yaml"))
		if !sum.OK() || sum.Passed == 0 {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

func TestUpstreamPositiveSuitesPass(t *testing.T) {
	for _, name := range []string{
		"processor-filtering-transforming-complete-test.yaml", "sample-filter-test-python-produce.yaml",
		"defaults-test.yaml", "sample-filter-test.yaml", "sample-state-store-test.yaml", "sample-timestamp-test.yaml",
		"two-assert-blocks.yaml", "sample-filter-test-confluent-avro.yaml", "sample-filter-test-apicurio-avro.yaml",
		"sample-filter-test-avro-python-produce.yaml", "sample-filter-test-registry-only-types.yaml",
		"valid-test-definition.yaml", "valid-test-with-stores.yaml",
	} {
		_, sum, out := runSuite(t, filepath.Join(corpusSuites, name))
		if !sum.OK() || sum.Passed == 0 {
			t.Errorf("%s:\n%s", name, out)
		}
	}
}

func TestPartialFailSuiteReportsOneFailure(t *testing.T) {
	results, sum, out := runSuite(t, filepath.Join(corpusSuites, "partial-fail-test.yaml"))
	if sum != (Summary{Passed: 4, Failed: 1}) {
		t.Fatalf("summary %+v\n%s", sum, out)
	}
	want := "Filtering & transforming pipeline (with intentional failure) › Out-of-range temperature is filtered out: FAIL: " +
		"AssertionError: Intentional failure: expected records on filtered_data, got 0\n"
	if !strings.Contains(out, want) || !strings.HasSuffix(out, "4 passed, 1 failed, 0 errors\n") {
		t.Errorf("report:\n%s", out)
	}
	if results[1].Status != Fail {
		t.Errorf("second test: %v", results[1].Status)
	}
}

func TestNegativeSuitesReportOneError(t *testing.T) {
	cases := map[string]string{
		"missing-tests.yaml":                 "missing-tests › <parse>: ERROR: Invalid test definition: ",
		"generator-with-python-error.yaml":   "Generator with a Python error › Generator references an undefined variable: ERROR: ",
		"generator-bad-field-type-test.yaml": "generator-bad-field-type-test › <parse>: ERROR: Invalid test definition: ",
		"bare-vendor-avro.yaml":              "needs a schema name (confluent_avro:SchemaName)",
		"undefined-stream-reference.yaml":    "references stream 'nonexistent' that is not declared in 'streams:'",
	}
	for file, want := range cases {
		_, sum, out := runSuite(t, filepath.Join(corpusSuites, file))
		if sum != (Summary{Errors: 1}) || !strings.Contains(out, want) {
			t.Errorf("%s: summary %+v\n%s", file, sum, out)
		}
	}
	_, _, out := runSuite(t, filepath.Join(corpusSuites, "generator-with-python-error.yaml"))
	// Upstream's pythonErrorShowsCorrectCause: the message carries its
	// "Error while executing function" phrase and the Python cause.
	if !strings.Contains(out, "Error while executing function ") || !strings.Contains(out, "ZeroDivisionError: division by zero") {
		t.Errorf("python error not reported:\n%s", out)
	}
}

// A suite written here: every test is hermetic (stores and outputs start
// empty), assertion errors that are not AssertionError are ERRORs, and an
// unknown store is an ERROR naming it.
func TestTestsAreHermeticAndClassified(t *testing.T) {
	dir := t.TempDir()
	def := `
streams:
  in: {topic: in, keyType: string, valueType: json}
stores:
  counts: {type: keyValue, keyType: string, valueType: long}
functions:
  count:
    type: forEach
    stores: [counts]
    code: |
      counts.put(key, (counts.get(key) or 0) + 1)
pipelines:
  p:
    from: in
    via:
      - type: peek
        forEach: count
    to: {topic: out, keyType: string, valueType: json}
`
	suite := `
name: hermetic
definition: def.yaml
streams:
  in: {topic: in, valueType: json}
  out: {topic: out, valueType: json}
tests:
  first:
    produce:
      - to: in
        messages:
          - {key: a, value: {n: 1}, timestamp: 10}
          - {key: a, value: {n: 2}, timestamp: 20}
    assert:
      - on: out
        stores: [counts]
        code: |
          assert [r["timestamp"] for r in records] == [10, 20], records
          assert counts.get("a") == 2
  second:
    produce:
      - to: in
        messages:
          - {key: a, value: {n: 3}}
    assert:
      - on: out
        stores: [counts]
        code: |
          assert len(records) == 1 and records[0]["timestamp"] == 1700000000000, records
          assert counts.get("a") == 1, counts.get("a")
  crashes:
    produce:
      - to: in
        messages: [{key: b, value: {n: 1}}]
    assert:
      - on: out
        code: |
          records[5]
  unknown_store:
    produce:
      - to: in
        messages: [{key: b, value: {n: 1}}]
    assert:
      - stores: [nope]
        code: assert True
`
	if err := os.WriteFile(filepath.Join(dir, "def.yaml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	results, sum, out := runSuite(t, path)
	if sum != (Summary{Passed: 2, Errors: 2}) {
		t.Fatalf("summary %+v\n%s", sum, out)
	}
	if !strings.Contains(results[2].Message, "IndexError") {
		t.Errorf("crash: %q", results[2].Message)
	}
	if results[3].Message != "state store 'nope' not found in topology" {
		t.Errorf("unknown store: %q", results[3].Message)
	}
}

func TestCollectFilesTakesSuitesAmongDirectChildrenSorted(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.yaml", "a.yml", "c.txt", "sub/d.yaml"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("definition: x.yaml\ntests: {}\n"), 0o644)
	}
	// A definition and a runner configuration beside the suites are not suites.
	os.WriteFile(filepath.Join(dir, "a-definition.yaml"), []byte("streams: {}\npipelines: {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ksml-runner.yaml"), []byte("ksml: {}\nkafka: {}\n"), 0o644)
	files, err := CollectFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "a.yml" || filepath.Base(files[1]) != "b.yaml" {
		t.Errorf("files: %v", files)
	}
	if _, err := CollectFiles([]string{filepath.Join(dir, "missing")}); err == nil || !strings.HasPrefix(err.Error(), "path not found: ") {
		t.Errorf("missing path: %v", err)
	}
}

func writeSuite(t *testing.T, def, suite string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "def.yaml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProducedMessagesTakeTheStreamTypes(t *testing.T) {
	path := writeSuite(t, `
streams:
  in: {topic: in, keyType: string, valueType: long}
pipelines:
  p:
    from: in
    via:
      - type: map
        mapper:
          expression: (key + "!", value * 2)
          resultType: (string, long)
    to: {topic: out, keyType: string, valueType: long}
`, `
definition: def.yaml
streams:
  in: {topic: in, keyType: string, valueType: long}
  out: {topic: out, keyType: string, valueType: long}
tests:
  numbers:
    produce:
      - to: in
        messages:
          - {key: 7, value: 21}
          - {key: "x", value: "4"}
    assert:
      - on: out
        code: |
          assert [(r["key"], r["value"]) for r in records] == [("7!", 42), ("x!", 8)], records
`)
	_, sum, out := runSuite(t, path)
	if sum != (Summary{Passed: 1}) {
		t.Errorf("summary %+v\n%s", sum, out)
	}
}

// A bare assert that fails shows its line, its expression and the values.
func TestFailingBareAssertShowsLineAndValues(t *testing.T) {
	path := writeSuite(t, `streams:
  in: {topic: in, keyType: string, valueType: json}
  out: {topic: out, keyType: string, valueType: json}
pipelines:
  p: {from: in, to: out}
`, `name: bare asserts
definition: def.yaml
streams:
  in: {topic: in, keyType: string, valueType: json}
  out: {topic: out, keyType: string, valueType: json}
tests:
  t:
    produce:
      - to: in
        messages:
          - {key: k, value: {n: 1}}
    assert:
      - on: out
        code: |
          value = records[0]["value"]
          assert value["n"] in (1, 2)
          assert value["n"] == 2
`)
	results := Run([]string{path}, Options{})
	if len(results) != 1 || results[0].Status != Fail {
		t.Fatalf("results %+v", results)
	}
	want := "AssertionError: value[\"n\"] == 2: left 1, right 2\nat " + path + ":17: assert value[\"n\"] == 2"
	if results[0].Message != want {
		t.Errorf("message\n%s\nwant\n%s", results[0].Message, want)
	}
}

func TestExplainAsserts(t *testing.T) {
	cases := map[string]string{
		`assert a == b`:                   `assert (_ksml_l := (a)) == (_ksml_r := (b)), "a == b" + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`,
		`  assert len(r) != 2`:            `  assert (_ksml_l := (len(r))) != (_ksml_r := (2)), "len(r) != 2" + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`,
		`assert "x" not in s`:             `assert (_ksml_l := ("x")) not in (_ksml_r := (s)), "\"x\" not in s" + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`,
		`assert v is not None`:            `assert (_ksml_l := (v)) is not (_ksml_r := (None)), "v is not None" + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`,
		`assert ok`:                       `assert (_ksml_v := (ok)), "ok" + ": value " + repr(_ksml_v)`,
		`assert a == b, "message"`:        `assert a == b, "message"`,
		`assert a < b < c`:                `assert a < b < c`,
		`assert a == 1 and b == 2`:        `assert a == 1 and b == 2`,
		`assert not a`:                    `assert not a`,
		`assert f(a,`:                     `assert f(a,`,
		`assert x == 1  # one`:            `assert x == 1  # one`,
		`assert [y for y in z] == [1, 2]`: `assert (_ksml_l := ([y for y in z])) == (_ksml_r := ([1, 2])), "[y for y in z] == [1, 2]" + ": left " + repr(_ksml_l) + ", right " + repr(_ksml_r)`,
		`x = a == b`:                      `x = a == b`,
	}
	for in, want := range cases {
		if got := explainAsserts(in); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}
