package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ksml-dev/ksml/internal/runner"
)

// runSettings are the flags of `ksml run` that have an environment
// variable; the flag wins over the variable, both over the configuration.
var runSettings = []struct{ flag, env, key, usage string }{
	{"bootstrap-servers", "KSML_BOOTSTRAP_SERVERS", "bootstrap.servers", "Kafka cluster to use, host:port[,host:port] (overrides kafka.bootstrap.servers)"},
	{"application-id", "KSML_APPLICATION_ID", "application.id", "application id: consumer group and internal topic prefix (overrides kafka.application.id)"},
	{"storage-dir", "KSML_STORAGE_DIR", "storageDirectory", "directory for state stores and the embedded broker's data, created when missing (overrides ksml.storageDirectory)"},
	{"on-error", "KSML_ON_ERROR", "errorHandling", "what a failing record does, for consume, process and produce errors: stop or continue (overrides ksml.errorHandling.*.handler)"},
	{"partitions", "KSML_PARTITIONS", "partitions", "partitions of the topics ksml creates without a source to follow, and the embedded broker's default (default: the cluster's num.partitions)"},
	{"instance-id", "KSML_INSTANCE_ID", "group.instance.id", "stable name of this instance: static group membership (overrides kafka.group.instance.id)"},
	{"embedded-broker", "KSML_EMBEDDED_BROKER", "embeddedBroker", "run on the embedded broker at this address (host:port, or a port on 127.0.0.1), even when a cluster is configured"},
}

func init() {
	var configFile, level string
	values := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "run [-c ksml-runner.yaml] [definition.yaml ...]",
		Short: "Run KSML definitions on Kafka (or on the embedded broker)",
		Long: "run loads the runner configuration (-c) and/or definition files, builds one topology from all of\n" +
			"them and runs their pipelines and producers until SIGINT or SIGTERM.\n\n" +
			"Kafka: with no cluster configured at all (no kafka.bootstrap.servers, --bootstrap-servers or\n" +
			"KSML_BOOTSTRAP_SERVERS) it starts the embedded Kafka broker on 127.0.0.1:9092 with its data under the\n" +
			"storage directory; --embedded-broker ADDR|PORT chooses its address and forces it. The first log lines\n" +
			"say which cluster is used.\n\n" +
			"Without -c, the application id is the first file's name and the storage directory the working\n" +
			"directory. Relative paths in a runner configuration are relative to the configuration file.\n" +
			"Missing topics are created (internal and output topics with the source topics' partition count);\n" +
			"kafka.allow.auto.create.topics: false turns that off.\n\n" +
			"Static group membership: a restarted instance takes its partitions back at once, without a rebalance.\n" +
			"By default group.instance.id is ksml-<process id>, the id kept in the state directory, so an instance\n" +
			"restarted from the same storage directory is the same member; it leaves the group when it stops cleanly.\n" +
			"--instance-id names the instance instead (a StatefulSet pod name, a host name; it then stays a member\n" +
			"when it stops, as Kafka's static members do); kafka.group.instance.id: \"\" makes it dynamic.\n\n" +
			"Every setting flag has an environment variable (shown in brackets); the flag wins, then the\n" +
			"variable, then the configuration.\n" +
			"Logs are text on stderr; KSML_LOG_FORMAT=json switches to JSON, KSML_LOG_LEVEL or --log-level sets the level.",
		Args: func(cmd *cobra.Command, args []string) error {
			if configFile == "" && len(args) == 0 {
				return fmt.Errorf("nothing to run: give definition files (ksml run examples/cqrs.yaml examples/cqrs-producer.yaml) or a runner configuration (ksml run -c ksml-runner.yaml)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), level)
			if err != nil {
				return err
			}
			slog.SetDefault(logger)
			sources := map[string]string{}
			get := func(flag string) string {
				for _, s := range runSettings {
					if s.flag != flag {
						continue
					}
					if cmd.Flags().Changed(flag) {
						sources[s.key] = "--" + flag
						return *values[flag]
					}
					if v := os.Getenv(s.env); v != "" {
						sources[s.key] = s.env
						return v
					}
				}
				return ""
			}
			partitions := 0
			if v := get("partitions"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return fmt.Errorf("%s %q: want a number of partitions, at least 1", sources["partitions"], v)
				}
				partitions = n
			}
			r, err := runner.New(runner.Options{
				ConfigFile:       configFile,
				Definitions:      args,
				EmbeddedBroker:   get("embedded-broker"),
				BootstrapServers: get("bootstrap-servers"),
				ApplicationID:    get("application-id"),
				StorageDir:       get("storage-dir"),
				InstanceID:       get("instance-id"),
				OnError:          get("on-error"),
				Partitions:       partitions,
				Sources:          sources,
				Logger:           logger,
				Console:          console(cmd.ErrOrStderr()),
				Stdout:           cmd.OutOrStdout(),
				Version:          version,
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
	for _, s := range runSettings {
		values[s.flag] = cmd.Flags().String(s.flag, "", s.usage+" ["+s.env+"]")
	}
	cmd.Flags().StringVar(&level, "log-level", "", "log level: debug, info, warn, error (default info) [KSML_LOG_LEVEL]")
	cmd.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	rootCmd.AddCommand(cmd)
}

// console is where multi-line text for people goes (the topology): stderr
// beside the text logs, nothing with JSON logs (the runner logs it then).
func console(stderr io.Writer) io.Writer {
	if strings.EqualFold(os.Getenv("KSML_LOG_FORMAT"), "json") {
		return nil
	}
	return stderr
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
