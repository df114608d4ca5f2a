package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"ksml/internal/definition"
	"ksml/internal/topology"
)

func init() {
	var format, appID string
	var schemaDirs []string
	cmd := &cobra.Command{
		Use:   "topology DEFINITION.yaml ...",
		Short: "Show the Kafka Streams topology built from definitions",
		Long: "topology builds the processor graph of one or more definitions, as `ksml run` would, and prints\n" +
			"its sub-topologies, nodes, stores and topics. Python functions are not run.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var defs []*definition.Definition
			for _, path := range args {
				ns := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
				def, err := definition.Load(path, definition.Options{SchemaDirs: schemaDirs, Namespace: ns})
				if err != nil {
					return err
				}
				defs = append(defs, def)
			}
			res, err := topology.Build(defs, topology.Options{
				ApplicationID: appID, Functions: topology.NoFunctions{}, Serdes: topology.NoSerdes{},
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
			default:
				return fmt.Errorf("unknown format %q (want text, mermaid or dot)", format)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, mermaid or dot")
	cmd.Flags().StringVar(&appID, "application-id", "ksml", "application id used to name internal topics")
	cmd.Flags().StringArrayVar(&schemaDirs, "schema-dir", nil, "directory to load schemas from (repeatable)")
	rootCmd.AddCommand(cmd)
}
