package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Commands without their files say what to give instead of cobra's
// "requires at least 1 arg(s)".
func TestMissingArgumentsSayWhatToGive(t *testing.T) {
	for cmd, want := range map[string]string{
		"validate": "ksml validate needs definition files or directories, e.g. ksml validate examples/",
		"topology": "ksml topology needs definition files or directories, e.g. ksml topology examples/order-enrichment.yaml",
		"test":     "ksml test needs test suites or directories, e.g. ksml test examples/",
		"run":      "nothing to run: give definition files (ksml run examples/cqrs.yaml examples/cqrs-producer.yaml) or a runner configuration (ksml run -c ksml-runner.yaml)",
	} {
		if _, err := runCLI(t, cmd); err == nil || err.Error() != want {
			t.Errorf("ksml %s: %v\nwant %s", cmd, err, want)
		}
	}
}

// validate takes a directory like test does: its definitions, without the
// suites and the runner configuration beside them.
func TestValidateTakesADirectory(t *testing.T) {
	out, err := runCLI(t, "validate", "../../examples")
	want := "ok: ../../examples/cqrs-producer.yaml\nok: ../../examples/cqrs.yaml\nok: ../../examples/order-enrichment-producer.yaml\n" +
		"ok: ../../examples/order-enrichment.yaml\nok: ../../examples/sensor-alerts.yaml\n"
	if err != nil || out != want {
		t.Errorf("err %v\n%s", err, out)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "suite-test.yaml"), []byte("definition: d.yaml\ntests: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "validate", empty); err == nil || err.Error() != empty+": no definition files (*.yaml, *.yml) in this directory" {
		t.Errorf("directory without definitions: %v", err)
	}
}

// `ksml topology` names internal topics with the application id `ksml run`
// uses for the same files (the first file's name), and takes a directory.
func TestTopologyUsesTheApplicationIDOfRun(t *testing.T) {
	out, err := runCLI(t, "topology", "../../examples/order-enrichment.yaml")
	want := "(topic: order-enrichment-order-enrichment_pipelines_enrich_orders_via_step2_leftJoin-repartition)"
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("err %v, no %s in\n%s", err, want, out)
	}
	out, err = runCLI(t, "topology", "--application-id", "other", "../../examples/order-enrichment.yaml")
	if err != nil || !strings.Contains(out, "(topic: other-order-enrichment_pipelines") {
		t.Errorf("--application-id: err %v\n%s", err, out)
	}
	out, err = runCLI(t, "topology", "../../examples")
	if err != nil || !strings.Contains(out, "Source: write-events (topics: [write-events])") || !strings.Contains(out, "Source: orders (topics: [orders])") {
		t.Errorf("directory: err %v\n%s", err, out)
	}
}

// Settings come from the flag, else from the KSML_* variable, and errors
// name the one that was used.
func TestRunSettingsFromFlagsAndEnvironment(t *testing.T) {
	def := "../../examples/cqrs.yaml"
	t.Setenv("KSML_ON_ERROR", "sometimes")
	if _, err := runCLI(t, "run", def); err == nil || err.Error() != `KSML_ON_ERROR "sometimes": want stop or continue` {
		t.Errorf("from the environment: %v", err)
	}
	if _, err := runCLI(t, "run", "--on-error", "never", def); err == nil || err.Error() != `--on-error "never": want stop or continue` {
		t.Errorf("the flag over the environment: %v", err)
	}
	t.Setenv("KSML_ON_ERROR", "")
	t.Setenv("KSML_APPLICATION_ID", "bad id")
	if _, err := runCLI(t, "run", def); err == nil || !strings.HasPrefix(err.Error(), `KSML_APPLICATION_ID: "bad id" is not a valid application id`) {
		t.Errorf("application id: %v", err)
	}
}
