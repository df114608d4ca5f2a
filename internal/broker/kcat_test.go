package broker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKcatProducesAndConsumes checks that a third-party client (kcat, on
// librdkafka) works against the embedded broker: it produces to a topic that
// does not exist yet, reads its own records back, and reads records written
// by franz-go.
func TestKcatProducesAndConsumes(t *testing.T) {
	t.Parallel() // its own broker (or broker process) on a free port
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (scripts/setup installs it)")
	}
	b := startBroker(t, Options{})
	run := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kcat, append([]string{"-b", b.BootstrapServers()}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	run("k1:v1\nk2:v2\nk3:v3\n", "-P", "-t", "from-kcat", "-K:")
	got := run("", "-C", "-t", "from-kcat", "-o", "beginning", "-e", "-q", "-f", "%k=%s@%p\n")
	if want := "k1=v1@0\nk2=v2@0\nk3=v3@0\n"; got != want {
		t.Fatalf("kcat consume of its own records: got %q, want %q", got, want)
	}
	equal(t, "franz-go reading kcat's records", consumeAll(t, b, "from-kcat"), []string{"k1=v1", "k2=v2", "k3=v3"})

	cl := newClient(t, b, kgo.AllowAutoTopicCreation())
	produceEach(t, cl, rec("from-franz", "a", "1"), rec("from-franz", "b", "2"))
	got = run("", "-C", "-t", "from-franz", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n")
	if want := "a=1\nb=2\n"; got != want {
		t.Fatalf("kcat reading franz-go's records: got %q, want %q", got, want)
	}

	// Metadata listing shows the single broker at the advertised address.
	md := run("", "-L", "-t", "from-kcat")
	if !strings.Contains(md, "1 brokers:") || !strings.Contains(md, "at "+b.BootstrapServers()) {
		t.Fatalf("kcat -L output does not show one broker at %s:\n%s", b.BootstrapServers(), md)
	}
}
