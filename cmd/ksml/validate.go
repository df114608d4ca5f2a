package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/topology"
)

func init() {
	var schemaDirs []string
	cmd := &cobra.Command{
		Use:   "validate [--schema-dir DIR]... FILE|DIR...",
		Short: "Check definitions without running them",
		Long: "validate parses every definition, resolves its references, checks types, schemas and\n" +
			"Python syntax, and prints each problem as file:line:col: message. A directory contributes its\n" +
			"definition files (*.yaml, *.yml; not test suites or runner configurations).\n" +
			"It exits 0 when every file is valid and 1 otherwise.",
		Args: func(cmd *cobra.Command, args []string) error {
			return needFiles("definition files or directories", "examples/")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := definitionFiles(args)
			if err != nil {
				return err
			}
			failed := false
			for _, file := range files {
				opts := definition.Options{SchemaDirs: schemaDirs, Code: topology.CodeChecker}
				_, err := definition.Load(file, opts)
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "ok: %s\n", file)
					continue
				}
				failed = true
				var ds definition.Diagnostics
				if errors.As(err, &ds) {
					for _, d := range ds {
						fmt.Fprintln(cmd.ErrOrStderr(), d.Error())
					}
				} else {
					var pe *fs.PathError
					if errors.As(err, &pe) {
						err = pe.Err // the path is already in front
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", file, err)
				}
			}
			if failed {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&schemaDirs, "schema-dir", nil, "directory to search for schema files (repeatable, searched in order; default: the definition's directory)")
	rootCmd.AddCommand(cmd)
}
