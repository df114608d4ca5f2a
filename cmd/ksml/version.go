package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/python"
	buildversion "github.com/ksml-dev/ksml/internal/version"
)

// The version command and --version report the build: the -ldflags
// settings of a release build, else what Go stamped into the binary (see
// internal/version). The resolved version also replaces main.version, so
// `ksml run` labels its metrics (ksml_app) with the same text.
func init() {
	info := buildversion.Get(version)
	info.Python = python.Version()
	version = info.Version
	rootCmd.Version = info.Short()
	rootCmd.SetVersionTemplate("ksml {{.Version}}\n")
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build time and the Go and Python versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), info.Long())
			return err
		},
	})
}
