package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestInstanceIDDerivedFromTheStateDirectory: without a configured
// group.instance.id the instance is a static member named after the process
// id in its state directory, the same again after a restart from it; a
// clean stop leaves the group (a static member otherwise stays until its
// session times out). An explicitly empty kafka.group.instance.id keeps
// the membership dynamic, and so does a second instance on a state
// directory another one holds.
func TestInstanceIDDerivedFromTheStateDirectory(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	adm := kadm.NewClient(newClient(t, b.Bootstrap))
	members := func() []kadm.DescribedGroupMember {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		groups, err := adm.DescribeGroups(ctx, "derived-app")
		if err != nil {
			t.Fatal(err)
		}
		return groups["derived-app"].Members
	}
	instanceIDs := func() []string {
		var ids []string
		for _, m := range members() {
			if m.InstanceID == nil {
				ids = append(ids, "")
			} else {
				ids = append(ids, *m.InstanceID)
			}
		}
		return ids
	}
	ksml := fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work)
	kafka := map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "derived-app"}
	cfg := runnerConfig(t, t.TempDir(), ksml, kafka)
	start := func(cfg string) *running {
		return startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	}

	rr := start(cfg)
	pid, err := os.ReadFile(filepath.Join(work, "derived-app", "ksml-process-id"))
	if err != nil {
		t.Fatal(err)
	}
	want := "ksml-" + strings.TrimSpace(string(pid))
	if got := instanceIDs(); len(got) != 1 || got[0] != want {
		t.Fatalf("group members' instance ids %q, want [%s]", got, want)
	}
	// A second instance on the same state directory stays dynamic.
	second := start(cfg)
	waitFor(t, "both instances in the group", 20*time.Second, func() bool { return len(members()) == 2 })
	if got := instanceIDs(); !slices.Contains(got, want) || !slices.Contains(got, "") {
		t.Fatalf("instance ids with a shared state directory %q, want %s and a dynamic member", got, want)
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := members(); len(got) != 0 {
		t.Fatalf("members after a clean stop %+v, want none: the derived static member leaves", got)
	}

	rr = start(cfg)
	if got := instanceIDs(); len(got) != 1 || got[0] != want {
		t.Fatalf("instance ids after a restart %q, want [%s] again", got, want)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}

	kafka["group.instance.id"] = ""
	rr = start(runnerConfig(t, t.TempDir(), ksml, kafka))
	if got := instanceIDs(); len(got) != 1 || got[0] != "" {
		t.Fatalf("instance ids with kafka.group.instance.id empty %q, want one dynamic member", got)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := members(); len(got) != 0 {
		t.Fatalf("members after a clean stop %+v, want none: the dynamic member leaves", got)
	}
}
