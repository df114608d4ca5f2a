package definition_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

const sharedDir = "../../../shared"

// corpusRoots are the directories of the upstream repository whose YAML
// files CORPUS.md classifies.
var corpusRoots = []string{
	"ksml/src/test/resources",
	"ksml-test-runner/src/test/resources",
	"ksml-integration-tests/src/test/resources",
	"ksml-runner/src/test/resources",
	"examples",
	"docs",
}

// definitionSections are the top-level keys that make a YAML file a KSML
// definition.
var definitionSections = []string{"pipelines", "producers", "functions", "streams", "tables", "globalTables", "stores"}

// isDefinition classifies a YAML file as CORPUS.md does: a mapping with a
// definition section, that is neither a test-runner suite (definition: and
// tests:) nor a runner config (ksml:/kafka:).
func isDefinition(src []byte) bool {
	var root map[string]any
	if err := yaml.Unmarshal(src, &root); err != nil || root == nil {
		return false
	}
	if _, ok := root["tests"]; ok {
		return false
	}
	if _, ok := root["definition"]; ok {
		return false
	}
	if _, ok := root["ksml"]; ok {
		return false
	}
	if _, ok := root["kafka"]; ok {
		return false
	}
	for _, k := range definitionSections {
		if _, ok := root[k]; ok {
			return true
		}
	}
	return false
}

func corpusDefinitions(t *testing.T, corpus string) []string {
	var out []string
	for _, root := range corpusRoots {
		dir := filepath.Join(corpus, root)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if isDefinition(src) {
				rel, _ := filepath.Rel(corpus, path)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// corpusListed reads the definition paths CORPUS.md lists.
func corpusListed(t *testing.T) []string {
	src, err := os.ReadFile(filepath.Join(sharedDir, "CORPUS.md"))
	if err != nil {
		sharedtest.Missing(t, filepath.Join(sharedDir, "CORPUS.md"))
	}
	re := regexp.MustCompile("(?m)^- `([^`]+\\.ya?ml)` — ops:")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// knownBroken are corpus definitions that upstream itself cannot load.
var knownBroken = map[string]string{
	"docs/local-docker-compose-setup/examples/processor.yaml":                                               "references undefined function explode_order_items and stream items_output",
	"ksml/src/test/resources/docs-examples/introduction/example-pipeline-definition.yaml":                   "snippet: from my_input_stream and to my_output_stream are not defined",
	"ksml/src/test/resources/docs-examples/reference/table-store-processor.yaml":                            "function uses store \"user_profiles\", but the table's store is named user_profiles_store (Kafka Streams rejects the topology)",
	"ksml/src/test/resources/docs-examples/use-cases/fraud-detection/fraud-detection-machine-learning.yaml": "parameter type \"object\" is no KSML type (upstream: schema \"object\" can not be used for notation binary)",
}

func TestCorpusSelectionMatchesCorpusMD(t *testing.T) {
	corpus := filepath.Join(sharedDir, "ksml-corpus")
	if _, err := os.Stat(corpus); err != nil {
		sharedtest.Missing(t, corpus)
	}
	got := corpusDefinitions(t, corpus)
	var want []string
	missing := 0
	for _, w := range corpusListed(t) {
		if _, err := os.Stat(filepath.Join(corpus, w)); err != nil {
			missing++ // listed in CORPUS.md but not mirrored (docs/)
			continue
		}
		want = append(want, w)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		gs, ws := map[string]bool{}, map[string]bool{}
		for _, g := range got {
			gs[g] = true
		}
		for _, w := range want {
			ws[w] = true
		}
		for _, g := range got {
			if !ws[g] {
				t.Errorf("selected but not a definition in CORPUS.md: %s", g)
			}
		}
		for _, w := range want {
			if !gs[w] {
				t.Errorf("definition in CORPUS.md not selected: %s", w)
			}
		}
	}
	if len(got)+missing != 333 {
		t.Errorf("selected %d definitions (+%d not mirrored), CORPUS.md counts 333", len(got), missing)
	}
}

func TestCorpusValidates(t *testing.T) {
	corpus := filepath.Join(sharedDir, "ksml-corpus")
	if _, err := os.Stat(corpus); err != nil {
		sharedtest.Missing(t, corpus)
	}
	files := corpusDefinitions(t, corpus)
	checker := pythonChecker()
	passed, broken := 0, 0
	for _, rel := range files {
		path := filepath.Join(corpus, rel)
		dirs := []string{filepath.Dir(path), filepath.Join(corpus, "ksml/src/test/resources/schemas"), filepath.Join(corpus, "examples")}
		_, err := definition.Load(path, definition.Options{SchemaDirs: dirs, Code: checker})
		if reason, ok := knownBroken[rel]; ok {
			if err == nil {
				t.Errorf("%s: expected to be rejected (%s), but it validates", rel, reason)
			}
			broken++
			continue
		}
		if err != nil {
			t.Errorf("%s", err)
			continue
		}
		passed++
	}
	t.Logf("%d corpus definitions validate, %d known-broken rejected", passed, broken)
}

// TestSeedAcceptanceDefinitionsValidate loads every definition of the seed
// acceptance suites with their schema directory.
func TestSeedAcceptanceDefinitionsValidate(t *testing.T) {
	dir := filepath.Join(sharedDir, "acceptance/seed")
	files, _ := filepath.Glob(filepath.Join(dir, "definitions/*.yaml"))
	if len(files) == 0 {
		sharedtest.Missing(t, filepath.Join(dir, "definitions"))
	}
	checker := pythonChecker()
	for _, f := range files {
		def, err := definition.Load(f, definition.Options{SchemaDirs: []string{filepath.Join(dir, "schemas")}, Code: checker})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if def.Dialect != definition.DialectSeed || len(def.Pipelines) == 0 {
			t.Errorf("%s: dialect %v with %d pipelines", f, def.Dialect, len(def.Pipelines))
		}
	}
}
