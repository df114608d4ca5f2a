package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that a failed
// parse always explains itself with at least one positioned message.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("ksml:\n  definitions:\n    a: {streams: {s: {topic: t}}}\n  errorHandling: {produce: {handler: retryOnFail}}\nkafka: {application.id: '${X:y}'}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("ksml: &k\n  <<: *k\n"))
	if src, err := os.ReadFile(filepath.Join(corpusDir, "examples", "ksml-runner.yaml")); err == nil {
		f.Add(src)
	}
	env := func(k string) (string, bool) { return "v", k == "SET" }
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("f.yaml", src, Options{LookupEnv: env})
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			return
		}
		if cfg == nil || cfg.Kafka.ApplicationID() == "" {
			t.Fatalf("accepted a configuration without application.id: %+v", cfg)
		}
	})
}

func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"${A}", "$${A}", "${A:-x}", "x${", "${A:${B}}", "${é}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = expandEnv(s, func(k string) (string, bool) { return k, len(k)%2 == 0 })
	})
}
