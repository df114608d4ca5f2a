package testrunner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

// Upstream's sample-filter-test-module-import.yaml imports is_blue from a
// module in its moduleDirectory. The corpus holds the suite and definition
// but not the module, so the module is written here; the suite and the
// definition are upstream's, unchanged.
func TestUpstreamModuleImportSuitePasses(t *testing.T) {
	src := filepath.Join(corpusSuites, "sample-filter-test-module-import.yaml")
	if _, err := os.Stat(src); err != nil {
		sharedtest.Missing(t, src)
	}
	dir := t.TempDir()
	for _, f := range []string{"sample-filter-test-module-import.yaml", "pipelines/test-filter-module-import.yaml", "schemas/SensorData.avsc"} {
		b, err := os.ReadFile(filepath.Join(corpusSuites, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	module := "def is_blue(value):\n    return value is not None and value.get('color') == 'blue'\n"
	if err := os.WriteFile(filepath.Join(dir, "modules", "test_filter_module.py"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	_, sum, out := runSuite(t, filepath.Join(dir, "sample-filter-test-module-import.yaml"))
	if sum != (Summary{Passed: 1}) {
		t.Errorf("summary %+v\n%s", sum, out)
	}
}
