package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"ksml/internal/testrunner"
)

func init() {
	cmd := &cobra.Command{
		Use:   "test SUITE.yaml|DIR ...",
		Short: "Run KSML test-runner suites on an in-memory driver",
		Long: "test runs upstream ksml-test-runner suites (ksml-test-spec.json): for each test it builds the\n" +
			"definition's topology with fresh stores, produces the test's messages and runs its Python assertions.\n" +
			"Directories contribute their *.yaml and *.yml files (not subdirectories). It prints one line per test\n" +
			"and `N passed, M failed, K errors`, and exits 1 when any test fails or errors.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := testrunner.CollectFiles(args)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no test files (*.yaml, *.yml) found in: %v", args)
			}
			out := cmd.OutOrStdout()
			results := testrunner.Run(files, testrunner.Options{Stdout: out})
			if sum := testrunner.Report(out, results); !sum.OK() {
				return exitError{code: 1}
			}
			return nil
		},
	}
	rootCmd.AddCommand(cmd)
}
