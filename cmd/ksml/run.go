package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"ksml/internal/runner"
)

func init() {
	var configFile, embedded, level, instanceID string
	cmd := &cobra.Command{
		Use:   "run [-c ksml-runner.yaml] [definition.yaml ...]",
		Short: "Run KSML definitions on Kafka (or on the embedded broker)",
		Long: "run loads the runner configuration (-c) and/or definition files, builds one topology from all of\n" +
			"them and runs their pipelines and producers until SIGINT or SIGTERM. Without kafka.bootstrap.servers\n" +
			"it starts the embedded Kafka broker (--embedded-broker, default 127.0.0.1:9092) with its data under\n" +
			"the storage directory. Without -c, the application.id is derived from the first file name.\n" +
			"Missing source, output and internal topics are created (internal and output topics with the source\n" +
			"topics' partition count); kafka.allow.auto.create.topics: false turns that off.\n" +
			"Logs are text on stderr; KSML_LOG_FORMAT=json switches to JSON, KSML_LOG_LEVEL or --log-level sets the level.\n" +
			"--instance-id (or KSML_INSTANCE_ID) names this instance for static group membership: a restarted instance\n" +
			"with the same name takes its partitions back at once, without a rebalance; give each instance its own,\n" +
			"stable name (a StatefulSet pod name, a host name).",
		RunE: func(cmd *cobra.Command, args []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), level)
			if err != nil {
				return err
			}
			slog.SetDefault(logger)
			if instanceID == "" {
				instanceID = os.Getenv("KSML_INSTANCE_ID")
			}
			r, err := runner.New(runner.Options{
				ConfigFile:     configFile,
				InstanceID:     instanceID,
				Definitions:    args,
				EmbeddedBroker: embedded,
				Logger:         logger,
				Stdout:         cmd.OutOrStdout(),
				Version:        version,
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return r.Run(ctx)
		},
	}
	cmd.Flags().StringVarP(&configFile, "config", "c", "", "runner configuration file (ksml-runner.yaml)")
	cmd.Flags().StringVar(&embedded, "embedded-broker", "", "listen address of the embedded broker (default 127.0.0.1:9092)")
	cmd.Flags().StringVar(&instanceID, "instance-id", "", "stable name of this instance: static group membership (group.instance.id); default KSML_INSTANCE_ID")
	cmd.Flags().StringVar(&level, "log-level", "", "log level: debug, info, warn, error (default info, or KSML_LOG_LEVEL)")
	rootCmd.AddCommand(cmd)
}

// newLogger builds the process logger: text, or JSON with
// KSML_LOG_FORMAT=json.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	if level == "" {
		level = os.Getenv("KSML_LOG_LEVEL")
	}
	var lv slog.Level
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch f := strings.ToLower(os.Getenv("KSML_LOG_FORMAT")); f {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("KSML_LOG_FORMAT=%q: use text or json", f)
	}
}
