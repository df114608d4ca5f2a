package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
	"github.com/ksml-dev/ksml/internal/types"
)

// harness runs one definition on the test driver with real CPython.
type harness struct {
	t      testing.TB
	drv    *testdriver.Driver
	res    *Result
	stdout *bytes.Buffer
	serdes NotationSerdes
}

func pythonInterp(t testing.TB) *python.Interpreter {
	t.Helper()
	// Avro records reach Python with upstream's "@type" and "@schema"
	// through the describer the Avro notation registers.
	in, err := python.Init(python.Options{})
	if err != nil {
		t.Fatalf("starting python: %v", err)
	}
	return in
}

// testSerdes serves the test runner's notations (Avro in the Confluent wire
// format over an in-memory registry) with schemas from the corpus schema
// directory.
func testSerdes(t testing.TB) NotationSerdes {
	t.Helper()
	return testEnvironment(t, filepath.Join(corpus, "ksml/src/test/resources/schemas"))
}

// testEnvironment is the test runner's notation environment with schemas
// from dirs.
func testEnvironment(t testing.TB, dirs ...string) NotationSerdes {
	t.Helper()
	reg, err := environment.New(environment.Config{Notations: environment.TestRunnerNotations(schemaregistry.NewMemory()), SchemaDirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	return NotationSerdes{Registry: reg}
}

// buildDef builds a loaded definition; err is the build error.
func buildDef(t testing.TB, def *definition.Definition) (*harness, error) {
	t.Helper()
	return buildDefWith(t, def, testSerdes(t))
}

// buildDefWith builds a loaded definition with the given serdes.
func buildDefWith(t testing.TB, def *definition.Definition, serdes NotationSerdes) (*harness, error) {
	t.Helper()
	out := &bytes.Buffer{}
	res, err := Build([]*definition.Definition{def}, Options{
		ApplicationID: "app", Functions: NewPythonFunctions(pythonInterp(t)), Serdes: serdes,
		Stdout: out,
	})
	if err != nil {
		return nil, err
	}
	drv, err := testdriver.New(res.Topology, testdriver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return &harness{t: t, drv: drv, res: res, stdout: out, serdes: serdes}, nil
}

// corpusHarness loads an upstream pipeline definition.
func corpusHarness(t testing.TB, name string) *harness {
	t.Helper()
	path := filepath.Join(corpus, "ksml/src/test/resources/pipelines", name)
	if _, err := os.Stat(path); err != nil {
		sharedtest.Missing(t, path)
	}
	h, err := buildDef(t, loadDef(t, path, "test"))
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	return h
}

// yamlHarness parses a definition written in the test.
func yamlHarness(t testing.TB, src string) *harness {
	t.Helper()
	h, err := yamlBuild(t, src)
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	return h
}

func yamlBuild(t testing.TB, src string) (*harness, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "def.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	def, err := definition.Load(path, definition.Options{Namespace: "test"})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	return buildDef(t, def)
}

func (h *harness) serde(typ string, isKey bool) streams.Serde {
	t := h.t
	t.Helper()
	u, err := types.ParseUserType(typ)
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.serdes.Serde(u, isKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pipe writes a record whose key and value are given in the types kt and vt.
func (h *harness) pipe(topic, kt, vt string, key, value any, ts int64, headers ...streams.Header) error {
	key, value = types.Normalize(key), types.Normalize(value)
	kb, err := h.serde(kt, true).Serialize(topic, &headers, key)
	if err != nil {
		h.t.Fatal(err)
	}
	vb, err := h.serde(vt, false).Serialize(topic, &headers, value)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.drv.Pipe(topic, kb, vb, ts, headers)
}

func (h *harness) mustPipe(topic, kt, vt string, key, value any, ts int64, headers ...streams.Header) {
	h.t.Helper()
	if err := h.pipe(topic, kt, vt, key, value, ts, headers...); err != nil {
		h.t.Fatalf("pipe: %v", err)
	}
}

// out reads a topic as "key=value" lines (values formatted by Format).
func (h *harness) out(topic, kt, vt string) []string {
	h.t.Helper()
	var lines []string
	for _, r := range h.drv.ReadOutput(topic) {
		k, err := h.serde(kt, true).Deserialize(topic, r.Headers, r.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		v, err := h.serde(vt, false).Deserialize(topic, r.Headers, r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		lines = append(lines, Format(k)+"="+Format(v))
	}
	return lines
}

func expect(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}
