package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ksml-dev/ksml/internal/sharedtest"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs(args)
	defer func() { rootCmd.SetOut(nil); rootCmd.SetArgs(nil); resetFlags(rootCmd) }()
	err := rootCmd.Execute()
	return out.String(), err
}

// resetFlags puts every flag of the command tree back to its default:
// cobra keeps flag values between Execute calls of one process.
func resetFlags(c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if f.Changed {
			_ = f.Value.Set(f.DefValue)
			f.Changed = false
		}
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

func TestTestCommandExitCodes(t *testing.T) {
	dir := "../../../shared/ksml-corpus/ksml-test-runner/src/test/resources"
	if _, err := os.Stat(dir); err != nil {
		sharedtest.Missing(t, dir)
	}
	out, err := runCLI(t, "test", dir+"/sample-filter-test-python-produce.yaml")
	if err != nil || !strings.HasSuffix(out, "1 passed, 0 failed, 0 errors\n") {
		t.Errorf("passing suite: err %v\n%s", err, out)
	}
	out, err = runCLI(t, "test", dir+"/partial-fail-test.yaml")
	if ee, ok := err.(exitError); !ok || ee.code != 1 || !strings.HasSuffix(out, "4 passed, 1 failed, 0 errors\n") {
		t.Errorf("failing suite: err %v\n%s", err, out)
	}
	if _, err = runCLI(t, "test", dir+"/no-such-suite.yaml"); err == nil || !strings.HasPrefix(err.Error(), "path not found: ") {
		t.Errorf("missing suite: %v", err)
	}
}

func TestTopologyCommandFormats(t *testing.T) {
	def := "../../../shared/ksml-corpus/ksml/src/test/resources/pipelines/1-demo.yaml"
	if _, err := os.Stat(def); err != nil {
		sharedtest.Missing(t, def)
	}
	out, err := runCLI(t, "topology", def)
	want := "Topologies:\n   Sub-topology: 0\n    Source: ksml_sensordata_avro (topics: [ksml_sensordata_avro])\n" +
		"      --> 1-demo_pipelines_main_forEach\n    Processor: 1-demo_pipelines_main_forEach (stores: [])\n" +
		"      --> none\n      <-- ksml_sensordata_avro\n\n"
	if err != nil || out != want {
		t.Errorf("text: err %v\n%q\nwant\n%q", err, out, want)
	}
	out, err = runCLI(t, "topology", "--format", "dot", def)
	if err != nil || !strings.Contains(out, `"ksml_sensordata_avro" -> "1-demo_pipelines_main_forEach";`) {
		t.Errorf("dot: err %v\n%s", err, out)
	}
	if _, err = runCLI(t, "topology", "--format", "png", def); err == nil || err.Error() != `unknown format "png" (want text, mermaid, dot or html)` {
		t.Errorf("bad format: %v", err)
	}
}

// `ksml test examples/` runs the examples' suites and leaves out the
// definitions and the runner configuration beside them.
func TestTestCommandRunsOnlySuitesOfADirectory(t *testing.T) {
	out, err := runCLI(t, "test", "../../examples")
	want := "CQRS read models › A creation carries username and email, an update its changed fields, other events only id and type: PASS\n" +
		"Order enrichment › Each order carries its customer; an unknown customer leaves it null: PASS\n" +
		"2 passed, 0 failed, 0 errors\n"
	if err != nil || out != want {
		t.Errorf("err %v\n%s", err, out)
	}
}
