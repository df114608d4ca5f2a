// Command ksml runs KSML definitions: Kafka Streams pipelines described in
// YAML with functions in Python.
//
// Each subcommand lives in its own file and registers itself on rootCmd from
// an init function, so the commands stay independent of each other.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/python"
)

// version may be set at build time with -ldflags "-X main.version=...";
// version.go resolves it against the build information Go embeds.
var version string

var rootCmd = &cobra.Command{
	Use:           "ksml",
	Short:         "Run KSML stream-processing definitions on Kafka",
	Long:          "ksml runs KSML definitions (YAML pipelines with Python functions) with Kafka Streams semantics.",
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// exitError carries a process exit code without printing anything more;
// commands that already reported their findings return it.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	defer func() {
		// What Python's print() still holds reaches stdout before a crash.
		if r := recover(); r != nil {
			python.FlushOutput()
			panic(r)
		}
	}()
	err := rootCmd.Execute()
	python.FlushOutput() // os.Exit skips deferred calls
	if err != nil {
		if ee, ok := err.(exitError); ok {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "ksml:", err)
		os.Exit(1)
	}
}
