package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	webconsole "github.com/ksml-dev/ksml/internal/console"
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/topology"
)

func init() {
	var format, appID string
	var schemaDirs []string
	cmd := &cobra.Command{
		Use:   "topology DEFINITION.yaml|DIR ...",
		Short: "Show the Kafka Streams topology built from definitions",
		Long: "topology builds the processor graph of one or more definitions, as `ksml run` would, and prints\n" +
			"its sub-topologies, nodes, stores and topics. Python functions are not run. Names of internal topics\n" +
			"use the application id `ksml run` derives from the first file, unless --application-id is given.",
		Args: func(cmd *cobra.Command, args []string) error {
			return needFiles("definition files or directories", "examples/order-enrichment.yaml")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := definitionFiles(args)
			if err != nil {
				return err
			}
			id := appID
			if id == "" {
				id = runner.DefaultApplicationID(files[0])
			}
			var defs []*definition.Definition
			for _, path := range files {
				dirs := append(append([]string(nil), schemaDirs...), filepath.Dir(path))
				def, err := definition.Load(path, definition.Options{SchemaDirs: dirs, Namespace: runner.DefaultApplicationID(path)})
				if err != nil {
					return err
				}
				defs = append(defs, def)
			}
			res, err := topology.Build(defs, topology.Options{
				ApplicationID: id, Functions: topology.NoFunctions{}, Serdes: topology.NoSerdes{},
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch format {
			case "text":
				fmt.Fprint(out, res.Topology.Describe())
			case "mermaid":
				fmt.Fprint(out, topology.Mermaid(res.Topology))
			case "dot":
				fmt.Fprint(out, topology.Dot(res.Topology))
			case "html":
				page, err := webconsole.StandalonePage(webconsole.GraphOf(res.Topology))
				if err != nil {
					return err
				}
				_, err = out.Write(page)
				return err
			default:
				return fmt.Errorf("unknown format %q (want text, mermaid, dot or html)", format)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, mermaid, dot or html (the web console's graph as one self-contained page)")
	cmd.Flags().StringVar(&appID, "application-id", "", "application id used to name internal topics (default: as ksml run, the first file's name)")
	cmd.Flags().StringArrayVar(&schemaDirs, "schema-dir", nil, "directory to load schemas from (repeatable)")
	rootCmd.AddCommand(cmd)
}
