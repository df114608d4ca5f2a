package observability_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/runner/config"
	"github.com/ksml-dev/ksml/internal/runner/observability"
)

// How `ksml run` wires the servers: start them from the configuration,
// hand the registry to the Python bridge and the engine, and register the
// runner states and stores once they exist.
func Example() {
	servers, err := observability.Start(observability.StartOptions{
		Metrics:   observability.MetricsEndpoint{Enabled: true, Addr: "127.0.0.1:0", Tags: map[string]string{"team": "platform"}},
		AppServer: config.ApplicationServer{Enabled: true, Host: "127.0.0.1", Port: 0},
		AppID:     "orders",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer servers.Shutdown(context.Background())

	// python.Init(python.Options{Metrics: servers.Registry, ...})
	var _ python.MetricsSink = servers.Registry

	pipelines := observability.NewLifecycle()
	servers.App.SetStates(observability.Runners{Streams: pipelines})
	pipelines.Transition(observability.Starting)
	pipelines.Transition(observability.Started)

	servers.Registry.Pipeline("orders", "enrich").Consumed(1)

	resp, _ := http.Get("http://" + servers.AppAddr() + "/ready")
	resp.Body.Close()
	fmt.Println("/ready:", resp.StatusCode)

	resp, _ = http.Get("http://" + servers.MetricsAddr() + "/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "ksml_pipeline_records_consumed_total") {
			fmt.Println(l)
		}
	}
	// Output:
	// /ready: 204
	// ksml_pipeline_records_consumed_total{namespace="orders",pipeline="enrich",team="platform"} 1
}
