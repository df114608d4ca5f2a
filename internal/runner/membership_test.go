package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksml-dev/ksml/internal/runner"
)

// TestInstanceIDGivesStaticMembership: Options.InstanceID (ksml run
// --instance-id, KSML_INSTANCE_ID) joins the group as a static member, and
// overrides a kafka.group.instance.id of the configuration, as the other
// flags override the file.
func TestInstanceIDGivesStaticMembership(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	for _, kafka := range []map[string]string{
		{"bootstrap.servers": b.Bootstrap, "application.id": "static-app"},
		{"bootstrap.servers": b.Bootstrap, "application.id": "static-app", "group.instance.id": "other"},
	} {
		cfg := runnerConfig(t, t.TempDir(), fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work), kafka)
		rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, InstanceID: "ksml-0", Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
		adm := kadm.NewClient(newClient(t, b.Bootstrap))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		groups, err := adm.DescribeGroups(ctx, "static-app")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		g := groups["static-app"]
		if len(g.Members) != 1 || g.Members[0].InstanceID == nil || *g.Members[0].InstanceID != "ksml-0" {
			t.Fatalf("configured %v: group members %+v, want one with instance id ksml-0", kafka, g.Members)
		}
		if err := rr.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
