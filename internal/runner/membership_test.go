package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"ksml/internal/runner"
)

// TestInstanceIDGivesStaticMembership: Options.InstanceID (ksml run
// --instance-id, KSML_INSTANCE_ID) joins the group as a static member; a
// different kafka.group.instance.id is an error.
func TestInstanceIDGivesStaticMembership(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "static-app"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, InstanceID: "ksml-0", Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	adm := kadm.NewClient(newClient(t, b.Bootstrap))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	groups, err := adm.DescribeGroups(ctx, "static-app")
	if err != nil {
		t.Fatal(err)
	}
	g := groups["static-app"]
	if len(g.Members) != 1 || g.Members[0].InstanceID == nil || *g.Members[0].InstanceID != "ksml-0" {
		t.Fatalf("group members %+v, want one with instance id ksml-0", g.Members)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}

	cfg = runnerConfig(t, t.TempDir(), fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "static-app", "group.instance.id": "other"})
	r, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, InstanceID: "ksml-0", Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Run(context.Background())
	if want := `the instance id "ksml-0" (--instance-id or KSML_INSTANCE_ID) differs from kafka.group.instance.id "other"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run = %v, want an error containing %s", err, want)
	}
}
