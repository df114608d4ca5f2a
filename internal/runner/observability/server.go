package observability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/runner/config"
)

// Server is a running HTTP server (the metrics endpoint or the application
// server).
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Serve listens on addr and serves h in the background. Listening happens
// before Serve returns, so a port in use or a bad host is reported here,
// with the address in the error. Port 0 picks a free port; Addr tells which.
func Serve(addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			logger.Error("HTTP server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting connections and waits for running requests
// until ctx ends, then closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return errors.Join(err, s.err)
}

// MetricsEndpoint is the resolved metrics configuration of a run.
type MetricsEndpoint struct {
	// Enabled tells whether to serve metrics.
	Enabled bool
	// Addr is host:port to bind (ksml.prometheus.host and port).
	Addr string
	// Tags are constant labels for every series (Options.Tags).
	Tags map[string]string
}

// ResolveMetrics combines the runner configuration's ksml.prometheus with
// the definitions' configuration.metrics blocks (the seed dialect; nil
// entries are skipped). The endpoint is enabled when prometheus.enabled is
// true or any definition enables metrics; it always binds the configured
// host and port. Tags of all definitions are merged.
//
// A reporter other than prometheus, or the same tag given two different
// values, is an error naming file:line:col.
func ResolveMetrics(prom config.Prometheus, defs []*definition.MetricsConfig) (MetricsEndpoint, error) {
	ep := MetricsEndpoint{Enabled: prom.Enabled, Addr: prom.Addr(), Tags: map[string]string{}}
	tagPos := map[string]definition.Pos{}
	var errs []error
	for _, m := range defs {
		if m == nil {
			continue
		}
		if r := strings.ToLower(m.Reporter); r != "" && r != "prometheus" {
			errs = append(errs, fmt.Errorf("%s: configuration.metrics.reporter %q is not supported; use prometheus", m.Pos, m.Reporter))
			continue
		}
		if !m.Enabled {
			continue
		}
		ep.Enabled = true
		keys := make([]string, 0, len(m.Tags))
		for k := range m.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := m.Tags[k]
			if old, ok := ep.Tags[k]; ok && old != v {
				errs = append(errs, fmt.Errorf("%s: configuration.metrics.tags.%s is %q here but %q at %s", m.Pos, k, v, old, tagPos[k]))
				continue
			}
			ep.Tags[k] = v
			tagPos[k] = m.Pos
		}
	}
	return ep, errors.Join(errs...)
}

// Servers are the observability servers of one `ksml run`.
type Servers struct {
	// Registry receives the runtime's metrics; nil when metrics are off
	// (a nil Registry accepts every call and records nothing).
	Registry *Registry
	// App is the health and state handler; nil when the application
	// server is off. The runner calls App.SetStates and App.SetStores once
	// it has them.
	App *AppServer

	metrics, app *Server
}

// StartOptions configures Start.
type StartOptions struct {
	// Metrics is the resolved metrics configuration (ResolveMetrics).
	Metrics MetricsEndpoint
	// AppServer is ksml.applicationServer.
	AppServer config.ApplicationServer
	// AppServerAddr, if set, is the host:port the application server
	// binds instead of AppServer's.
	AppServerAddr string
	// AppID is the application.id (ksml_app's app_id).
	AppID string
	// Version and BuildTime label ksml_app (Options.AppVersion and
	// BuildTime); empty values come from the binary's build information.
	Version, BuildTime string
	// Logger receives server errors; nil discards them.
	Logger *slog.Logger
}

// Start starts the servers the configuration enables: the metrics
// endpoint (with Go runtime and process metrics) and the application
// server. Either failing to bind is an error, and nothing is left running.
func Start(opts StartOptions) (*Servers, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Servers{}
	if opts.Metrics.Enabled {
		s.Registry = New(Options{Tags: opts.Metrics.Tags, AppID: opts.AppID,
			AppVersion: opts.Version, BuildTime: opts.BuildTime, RuntimeMetrics: true})
		srv, err := Serve(opts.Metrics.Addr, s.Registry.Handler(), logger)
		if err != nil {
			return nil, fmt.Errorf("prometheus endpoint: %w", err)
		}
		s.metrics = srv
		logger.Info("Prometheus metrics endpoint started", "addr", srv.Addr())
	}
	if opts.AppServer.Enabled {
		s.App = NewAppServer(logger)
		addr := opts.AppServer.Addr()
		if opts.AppServerAddr != "" {
			addr = opts.AppServerAddr
		}
		srv, err := Serve(addr, s.App, logger)
		if err != nil {
			_ = s.Shutdown(context.Background())
			return nil, fmt.Errorf("application server: %w", err)
		}
		s.app = srv
		logger.Info("Application server started", "addr", srv.Addr())
	}
	return s, nil
}

// MetricsAddr returns the metrics endpoint's address, "" when off.
func (s *Servers) MetricsAddr() string {
	if s.metrics == nil {
		return ""
	}
	return s.metrics.Addr()
}

// AppAddr returns the application server's address, "" when off.
func (s *Servers) AppAddr() string {
	if s.app == nil {
		return ""
	}
	return s.app.Addr()
}

// Shutdown stops both servers, waiting for running requests until ctx
// ends.
func (s *Servers) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range []*Server{s.app, s.metrics} {
		if srv != nil {
			errs = append(errs, srv.Shutdown(ctx))
		}
	}
	return errors.Join(errs...)
}
