package config

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseExampleRunnerConfig parses upstream's main example runner
// configuration (20 definitions, notations, registries).
func BenchmarkParseExampleRunnerConfig(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(corpusDir, "examples", "ksml-runner.yaml"))
	if err != nil {
		b.Skip("upstream corpus not available")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("ksml-runner.yaml", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
