// Package observability is what an operator sees of a running ksml: the
// Prometheus metrics endpoint, the health probes (/live, /ready, /startup)
// and interactive queries of local state stores (/state/...).
//
// Metrics follow upstream KSML's exported names, which come from Dropwizard
// metrics seen through the Prometheus JMX exporter: a counter is one
// `<name>_count` series, a meter adds mean and 1/5/15-minute rates, a timer
// adds min/max/mean/stddev and percentiles in milliseconds. Users'
// dashboards built on upstream's names keep working. The runtime reports
// into a Registry through small handles (Timer from ExecutionTimer,
// PipelineCounters, Latency from NodeLatency, SetConsumerLag,
// SetTopicCounts, SetDroppedRecords) whose hot-path cost is an atomic add or an uncontended
// lock; rates, percentiles and labels are computed at scrape time. The
// Registry is also the python.MetricsSink behind Python's `metrics`. A nil
// *Registry is "metrics off": every call is accepted and records nothing.
//
// The health and state endpoints (AppServer) follow upstream's ksml-query
// resources: the same paths, the same status codes for the same runner
// states, and the same JSON shape ([{"key":...,"value":...}], windows with
// a "window" object). The package learns runner states and local stores
// through interfaces (StateSource, StoreProvider, WindowStoreProvider) that
// the runner implements, directly or through the adapters StateNames and
// TaskStores, so it does not depend on the engine.
//
// Start brings up both servers from the runner configuration (see
// ResolveMetrics for the seed dialect's configuration.metrics). Servers
// bind the configured host; binding 0.0.0.0 exposes every local store's
// contents to the network, and docs/operations.md explains what to put in
// front.
package observability
