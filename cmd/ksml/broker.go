package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
	webconsole "github.com/ksml-dev/ksml/internal/console"
	"github.com/ksml-dev/ksml/internal/residency"
	"github.com/ksml-dev/ksml/internal/runner/observability"
)

// brokerCmd runs only the embedded broker, so several `ksml run` instances
// or other Kafka clients can share one.
var brokerCmd = &cobra.Command{
	Use:   "broker",
	Short: "Run only the embedded Kafka broker",
	Long: `Runs the embedded Kafka broker until interrupted (SIGINT or SIGTERM).

Any Kafka client can connect to it (ksml run with kafka.bootstrap.servers set
to its address, kcat, Java clients). With --data-dir, topics, records and
committed offsets survive a restart: ksml broker --data-dir DIR serves what a
stopped ksml run left in <storage directory>/broker, for inspection. Topics are
created on first use with --partitions partitions (default one); compaction and
retention run every 30 seconds.

The default address is loopback only. Listening on 0.0.0.0 exposes an
unauthenticated broker to the network; use --advertise to tell remote clients
which address to connect to.

--console ADDR serves the web console's topic list and topic browser at
http://ADDR/console/ (off by default). It shows every record to anyone who
can reach ADDR: keep it on 127.0.0.1 unless something in front authenticates.`,
	Args: cobra.NoArgs,
	RunE: runBroker,
}

var brokerFlags struct {
	listen     string
	advertise  string
	dataDir    string
	partitions int
	logLevel   string
	console    string
}

func init() {
	f := brokerCmd.Flags()
	f.StringVar(&brokerFlags.listen, "listen", broker.DefaultListen, "address to listen on, host:port")
	f.StringVar(&brokerFlags.advertise, "advertise", "", "host:port clients are told to connect to (default: the listen address, loopback for a wildcard host)")
	f.StringVar(&brokerFlags.dataDir, "data-dir", "", "directory that persists topics, records and offsets (default: in memory)")
	f.IntVar(&brokerFlags.partitions, "partitions", 1, "partitions of automatically created topics")
	f.StringVar(&brokerFlags.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&brokerFlags.console, "console", "", "serve the web console's topic browser on this address, host:port (default: off)")
	rootCmd.AddCommand(brokerCmd)
}

func runBroker(cmd *cobra.Command, _ []string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(brokerFlags.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", brokerFlags.logLevel)
	}
	if brokerFlags.partitions < 1 {
		return fmt.Errorf("--partitions %d: want at least 1", brokerFlags.partitions)
	}
	logger := newBrokerLogger(cmd.ErrOrStderr(), level)

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := broker.Start(context.Background(), broker.Options{
		Listen:     brokerFlags.listen,
		Advertise:  brokerFlags.advertise,
		DataDir:    brokerFlags.dataDir,
		Partitions: brokerFlags.partitions,
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	attrs := []any{"listen", b.Addr(), "bootstrap.servers", b.BootstrapServers()}
	if brokerFlags.dataDir != "" {
		attrs = append(attrs, "dataDir", brokerFlags.dataDir)
	} else {
		attrs = append(attrs, "dataDir", "(in memory)")
	}
	logger.Info("embedded Kafka broker started", attrs...)
	if brokerFlags.console != "" {
		stopConsole, err := serveBrokerConsole(brokerFlags.console, b.BootstrapServers(), logger)
		if err != nil {
			_ = b.Close()
			return err
		}
		defer stopConsole()
	}
	residency.ReleaseLogged(logger)

	<-ctx.Done()
	logger.Info("stopping embedded Kafka broker")
	if err := b.Close(); err != nil {
		return err
	}
	logger.Info("embedded Kafka broker stopped")
	return nil
}

// serveBrokerConsole serves the console's topic parts for the broker at
// addr; the returned function stops it.
func serveBrokerConsole(addr, bootstrap string, logger *slog.Logger) (func(), error) {
	c := webconsole.New(webconsole.Options{Kafka: []kgo.Opt{kgo.SeedBrokers(bootstrap)}, Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("GET /console/", c)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
	srv, err := observability.Serve(addr, mux, logger)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("--console: %w", err)
	}
	logger.Info("web console started", "url", "http://"+srv.Addr()+"/console/")
	if webconsole.Exposed(srv.Addr()) {
		logger.Warn("the web console shows every topic's records to anyone who can reach " + srv.Addr() + ", without authentication")
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		c.Close()
	}, nil
}

// newBrokerLogger logs text to w (stderr), or JSON lines with
// KSML_LOG_FORMAT=json.
func newBrokerLogger(w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if os.Getenv("KSML_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
