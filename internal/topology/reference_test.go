package topology

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

const corpus = "../../../shared/ksml-corpus"

func loadDef(t testing.TB, path, ns string) *definition.Definition {
	t.Helper()
	def, err := definition.Load(path, definition.Options{Namespace: ns,
		SchemaDirs: []string{filepath.Join(corpus, "ksml/src/test/resources/schemas")}})
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return def
}

// The topology descriptions of upstream's reference demos, node for node.
func TestReferenceTopologies(t *testing.T) {
	dir := filepath.Join(corpus, "ksml/src/test/resources")
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	for i := 1; i <= 5; i++ {
		name := filepath.Join(dir, "pipelines", strings.Replace("N-demo.yaml", "N", string(rune('0'+i)), 1))
		want, err := os.ReadFile(filepath.Join(dir, "reference", strings.Replace("N-reference.txt", "N", string(rune('0'+i)), 1)))
		if err != nil {
			t.Fatal(err)
		}
		def := loadDef(t, name, "test")
		res, err := Build([]*definition.Definition{def}, Options{ApplicationID: "app", Functions: NoFunctions{}, Serdes: DefaultSerdes()})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := res.Topology.Describe(); strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// Every upstream pipeline definition either builds or fails with a
// positioned error (what is not implemented says "not supported yet").
func TestCorpusDefinitionsBuildOrFailClearly(t *testing.T) {
	dir := filepath.Join(corpus, "ksml/src/test/resources/pipelines")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		sharedtest.Missing(t, dir)
	}
	built := 0
	for _, f := range files {
		def, err := definition.Load(f, definition.Options{Namespace: "test", SchemaDirs: []string{filepath.Join(corpus, "ksml/src/test/resources/schemas")}})
		if err != nil {
			continue // the definition package reports these
		}
		_, err = Build([]*definition.Definition{def}, Options{ApplicationID: "app", Functions: NoFunctions{}, Serdes: permissiveSerdes{}})
		if err == nil {
			built++
			continue
		}
		be, ok := err.(*BuildError)
		if !ok || !be.Pos.IsValid() {
			t.Errorf("%s: error without position: %v", filepath.Base(f), err)
		}
		t.Logf("%s: %v", filepath.Base(f), err)
	}
	if built < 30 {
		t.Errorf("only %d definitions built", built)
	}
}
