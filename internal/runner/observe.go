package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/ksml-dev/ksml/internal/console"
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
	"github.com/ksml-dev/ksml/internal/topology"
)

// startObservability starts the metrics endpoint and the application server
// the configuration enables and connects them to the runner: per-topic
// record counts, Python's metrics object, the runner states for the health
// probes and the running tasks' stores for state queries. The returned
// function shuts them down.
func (r *Runner) startObservability(pipelines, producers bool, kc *kafkaclient.Config) (func(), error) {
	var defs []*definition.MetricsConfig
	for _, d := range r.defs {
		if d.Configuration != nil && d.Configuration.Metrics != nil {
			defs = append(defs, d.Configuration.Metrics)
		}
	}
	ep, err := observability.ResolveMetrics(r.cfg.KSML.Prometheus, defs)
	if err != nil {
		return nil, err
	}
	if r.opts.MetricsAddr != "" {
		ep.Addr = r.opts.MetricsAddr
	}
	srv, err := observability.Start(observability.StartOptions{Metrics: ep, AppServer: r.cfg.KSML.ApplicationServer,
		AppServerAddr: r.opts.AppServerAddr, AppID: r.appID,
		Version: r.opts.Version, BuildTime: r.opts.BuildTime, Logger: r.log})
	if err != nil {
		return nil, err
	}
	if srv.Registry != nil {
		srv.Registry.SetTopicCounts(func() []observability.TopicCount {
			snap := r.counters.Snapshot()
			out := make([]observability.TopicCount, len(snap))
			for i, c := range snap {
				out[i] = observability.TopicCount{What: c.What, Topic: c.Topic, N: c.N}
			}
			return out
		})
		popts := r.pyOpts
		popts.Metrics = srv.Registry
		if _, err := python.Init(popts); err != nil {
			srv.Shutdown(context.Background())
			return nil, fmt.Errorf("connecting Python metrics: %w", err)
		}
		srv.Registry.SetDroppedRecords(droppedRecords)
		r.timers.Store(srv.Registry)
	}
	closeConsole := func() {}
	if srv.App != nil {
		closeConsole = r.mountConsole(srv.App, kc, pipelines)
		if console.Exposed(srv.AppAddr()) {
			r.log.Warn(fmt.Sprintf("the application server on %s serves the state stores' entries and the web console (every topic's records) without authentication to anyone who can reach it; bind ksml.applicationServer.host to 127.0.0.1 unless something in front authenticates (docs/operations.md)", srv.AppAddr()))
		}
		names := observability.StateNames{}
		if pipelines {
			names.Streams = func() string { return streamHealthState(string(r.streamState.get()), len(python.StuckCalls())) }
		}
		if producers {
			names.Producer = func() string { return string(r.producerState.get()) }
		}
		srv.App.SetStates(names)
		srv.App.SetStores(observability.TaskStores{
			Has: func(name string) bool { return r.topo.Stores.KeyValue(name) != nil },
			HasWindow: func(name string) bool {
				_, ok := r.topo.Stores.Windowed(name).(*store.WindowBuilder)
				return ok
			},
			Visit: func(fn func([]observability.TaskStore)) {
				r.WithStores(func(stores []StoreEntry) {
					out := make([]observability.TaskStore, 0, len(stores))
					for _, s := range stores {
						if s.Typed != nil || s.Window != nil {
							out = append(out, observability.TaskStore{Name: s.Name, Partition: s.Partition, Store: s.Typed, Window: s.Window})
						}
					}
					fn(out)
				})
			},
		})
	}
	r.mu.Lock()
	r.servers = srv
	r.mu.Unlock()
	return func() {
		r.timers.Store(nil)
		defer closeConsole()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			r.log.Warn("stopping the observability servers", "error", err)
		}
	}, nil
}

// observer is what the engine reports records to: the counters, and the
// pipeline metrics when the metrics endpoint is on.
func (r *Runner) observer() kafkaio.Observer {
	r.mu.Lock()
	srv := r.servers
	r.mu.Unlock()
	if srv == nil || srv.Registry == nil {
		return r.counters
	}
	return newPipelineObserver(r.counters, srv.Registry, r.defs)
}

// MetricsAddr returns the address of the metrics endpoint, "" when it is
// off or not started yet.
func (r *Runner) MetricsAddr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.servers == nil {
		return ""
	}
	return r.servers.MetricsAddr()
}

// AppServerAddr returns the address of the application server, "" when it
// is off or not started yet.
func (r *Runner) AppServerAddr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.servers == nil {
		return ""
	}
	return r.servers.AppAddr()
}

// droppedRecords are the stateful processors' dropped-record counts
// (ksml_dropped_records_total).
var droppedRecords observability.DroppedRecords = topology.DroppedRecords.Each

// streamHealthState is the pipelines' state as the health probes see it: a
// Python call stuck past its timeout (in code Python cannot interrupt) holds
// its task, so the pipelines count as FAILED until it returns.
func streamHealthState(state string, stuck int) string {
	if stuck > 0 {
		return "FAILED"
	}
	return state
}
