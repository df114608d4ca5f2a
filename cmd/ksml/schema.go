package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner/config"
)

func init() {
	var runner bool
	cmd := &cobra.Command{
		Use:   "schema [--runner]",
		Short: "Print the JSON schema of definition files (or of runner configurations)",
		Long: "schema prints the JSON schema of KSML definitions, generated from the same tables the\n" +
			"parser checks, for editor support (e.g. # yaml-language-server: $schema=...). With\n" +
			"--runner it prints the schema of runner configurations (ksml-runner.yaml) instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			gen := definition.JSONSchema
			if runner {
				gen = config.JSONSchema
			}
			out, err := gen()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	cmd.Flags().BoolVar(&runner, "runner", false, "print the schema of runner configurations (ksml-runner.yaml)")
	rootCmd.AddCommand(cmd)
}
