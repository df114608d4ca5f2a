package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/definition"
)

func init() {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON schema of definition files",
		Long: "schema prints the JSON schema of KSML definitions, generated from the same tables the\n" +
			"parser checks, for editor support (e.g. # yaml-language-server: $schema=...).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := definition.JSONSchema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	rootCmd.AddCommand(cmd)
}
