package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/testrunner"
)

func init() {
	var logLevel string
	cmd := &cobra.Command{
		Use:   "test SUITE.yaml|DIR ...",
		Short: "Run KSML test-runner suites on an in-memory driver",
		Long: "test runs upstream ksml-test-runner suites (ksml-test-spec.json): for each test it builds the\n" +
			"definition's topology with fresh stores, produces the test's messages and runs its Python assertions.\n" +
			"Directories contribute their *.yaml and *.yml files that are suites (with a tests: or definition: key;\n" +
			"not subdirectories). It prints one line per test\n" +
			"and `N passed, M failed, K errors`, and exits 1 when any test fails or errors.",
		Args: func(cmd *cobra.Command, args []string) error {
			return needFiles("test suites or directories", "examples/")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := testrunner.CollectFiles(args)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no test files (*.yaml, *.yml) found in: %v", args)
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("invalid --log-level %q (want debug, info, warn or error)", logLevel)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			out := cmd.OutOrStdout()
			results := testrunner.Run(files, testrunner.Options{Stdout: out, Logger: logger})
			if sum := testrunner.Report(out, results); !sum.OK() {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "level of Python log output shown on stderr: debug, info, warn or error")
	rootCmd.AddCommand(cmd)
}
