package observability

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/runner/config"
)

func TestStartBothServers(t *testing.T) {
	s, err := Start(StartOptions{
		Metrics:   MetricsEndpoint{Enabled: true, Addr: "127.0.0.1:0", Tags: map[string]string{"team": "platform"}},
		AppServer: config.ApplicationServer{Enabled: true, Host: "127.0.0.1", Port: 0},
		AppID:     "orders-app",
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Shutdown(context.Background())
	s.App.SetStates(Runners{Streams: NewLifecycle()})
	s.Registry.Pipeline("ns", "p").Produced(3)

	if code, _, _ := httpGet(t, "http://"+s.AppAddr()+"/startup"); code != 500 {
		t.Errorf("startup while CREATED: %d", code)
	}
	code, body, _ := httpGet(t, "http://"+s.MetricsAddr()+"/metrics")
	if code != 200 || !strings.Contains(body, "\nksml_pipeline_records_produced_total{namespace=\"ns\",pipeline=\"p\",team=\"platform\"} 3\n") ||
		!strings.Contains(body, "\ngo_goroutines{team=\"platform\"} ") ||
		!strings.Contains(body, `ksml_app{app_id="orders-app",`) {
		t.Errorf("metrics: %d\n%.3000s", code, body)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", s.AppAddr()); err == nil {
		t.Error("application server still accepts connections after Shutdown")
	}
}

func TestStartDisabled(t *testing.T) {
	s, err := Start(StartOptions{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.Registry != nil || s.App != nil || s.MetricsAddr() != "" || s.AppAddr() != "" {
		t.Errorf("disabled servers started: %+v", s)
	}
	// The nil registry is usable.
	s.Registry.Pipeline("ns", "p").Consumed(1)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestStartReportsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = Start(StartOptions{
		Metrics:   MetricsEndpoint{Enabled: true, Addr: "127.0.0.1:0"},
		AppServer: config.ApplicationServer{Enabled: true, Host: "127.0.0.1", Port: port},
	})
	want := "application server: listening on 127.0.0.1:" + strconv.Itoa(port) + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
}
