// Package kafkatest gives integration tests a Kafka cluster: a fresh
// embedded broker (kfake with ksml's persistence) by default, or the real
// Apache Kafka cluster named by KSML_TEST_BOOTSTRAP (scripts/kafka start
// prints it and writes it to its env file).
//
// Tests written against Cluster run unchanged on both. On a real cluster
// every test must see a clean broker, as it would with a fresh embedded one:
// Cluster deletes all non-internal topics and all consumer groups before the
// test and again when it ends, so tests on a real cluster must not run in
// parallel (run them with `go test -p 1` and without t.Parallel). Name gives
// names that are unique per run for the things a test can choose
// (application ids, topics of its own definitions).
package kafkatest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
)

// Environment variables set by scripts/kafka for a real cluster.
const (
	EnvBootstrap     = "KSML_TEST_BOOTSTRAP"      // plaintext bootstrap servers; set: tests use the real cluster
	EnvBrokers       = "KSML_TEST_KAFKA_BROKERS"  // number of brokers in the real cluster
	EnvState         = "KSML_KAFKA_STATE"         // the state directory scripts/kafka runs the cluster from
	EnvSASLBootstrap = "KSML_TEST_SASL_BOOTSTRAP" // SASL_PLAINTEXT (SCRAM) listeners, with --sasl
	EnvSCRAMUser     = "KSML_TEST_SCRAM_USER"
	EnvSCRAMPassword = "KSML_TEST_SCRAM_PASSWORD"
	EnvTLSBootstrap  = "KSML_TEST_TLS_BOOTSTRAP" // SSL listeners, with --sasl
	EnvTLSCA         = "KSML_TEST_TLS_CA"        // PEM file of the CA that signed the brokers' certificate
)

// Real reports whether tests run against a real cluster.
func Real() bool { return os.Getenv(EnvBootstrap) != "" }

// Cluster is the Kafka cluster of one test.
type Cluster struct {
	// Bootstrap is the comma-separated list of bootstrap servers.
	Bootstrap string
	// Real is set for a real Apache Kafka cluster.
	Real bool
	// Embedded is the embedded broker when Real is not set.
	Embedded *broker.Broker
}

// Start returns the cluster for t. On a real cluster it waits until the
// cluster is clean (see the package comment); otherwise it starts an
// in-memory embedded broker on a free port, closed when t ends. It fails t
// when the cluster cannot be reached.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if boot := os.Getenv(EnvBootstrap); boot != "" {
		c := &Cluster{Bootstrap: boot, Real: true}
		c.clean(t)
		t.Cleanup(func() { c.clean(t) })
		return c
	}
	b, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &Cluster{Bootstrap: b.BootstrapServers(), Embedded: b}
}

// RequireReal skips t unless a real cluster is configured; under CI=true with
// KSML_TEST_REAL_KAFKA=1 (the real-Kafka CI step) a missing cluster fails.
func RequireReal(t testing.TB) *Cluster {
	t.Helper()
	if !Real() {
		if os.Getenv("CI") == "true" && os.Getenv("KSML_TEST_REAL_KAFKA") == "1" {
			t.Fatalf("%s is not set in the real-Kafka CI step", EnvBootstrap)
		}
		t.Skipf("needs a real Apache Kafka cluster: scripts/kafka start, then set %s", EnvBootstrap)
	}
	return Start(t)
}

// Brokers returns the number of brokers of the real cluster (1 when unknown).
func (c *Cluster) Brokers() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(EnvBrokers), &n); err != nil || n < 1 {
		return 1
	}
	return n
}

var seq atomic.Int64

// Name returns base with a suffix unique to this process and call, for
// application ids and topics a test chooses itself.
func Name(base string) string {
	return fmt.Sprintf("%s-%d-%d", base, os.Getpid(), seq.Add(1))
}

// Client returns a franz-go client on the cluster, closed when t ends.
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(c.Bootstrap, ",")...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// clean deletes every non-internal topic and every consumer group, and
// waits until the topics are gone from the metadata, so that topics of the
// same name can be created again.
func (c *Cluster) clean(t testing.TB) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.Bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("listing groups on %s: %v", c.Bootstrap, err)
	}
	if names := groups.Groups(); len(names) > 0 {
		// A group with live members cannot be deleted; those belong to a
		// test that failed to stop its clients, which it reports itself.
		_, _ = adm.DeleteGroups(ctx, names...)
	}
	for {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatalf("listing topics on %s: %v", c.Bootstrap, err)
		}
		names := topics.Names()
		if len(names) == 0 {
			return
		}
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			t.Fatalf("deleting topics %v: %v", names, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topics %v still exist after deleting them", names)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Script returns the path of scripts/kafka in this repository.
func Script(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "kafka")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// KillBroker stops broker id (1..N) of the real cluster with SIGKILL; its
// data stays. ResumeBroker starts it again and waits until it is ready.
func (c *Cluster) KillBroker(t testing.TB, id int32) { c.script(t, "kill", fmt.Sprint(id)) }

// ResumeBroker starts broker id again on its ports and data and waits until
// it serves requests.
func (c *Cluster) ResumeBroker(t testing.TB, id int32) { c.script(t, "resume", fmt.Sprint(id)) }

func (c *Cluster) script(t testing.TB, args ...string) {
	t.Helper()
	if !c.Real {
		t.Fatal("broker control needs a real cluster")
	}
	cmd := exec.Command(Script(t), args...)
	if st := os.Getenv(EnvState); st != "" {
		cmd.Env = append(os.Environ(), "KSML_KAFKA_STATE="+st)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/kafka %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Parallel marks t as parallel when tests run on fresh embedded brokers,
// and leaves it serial on a real cluster, where each test's cleanup deletes
// every topic and group and would pull them from under a parallel test.
func Parallel(t *testing.T) {
	if !Real() {
		t.Parallel()
	}
}

// ParallelPerCPU is how many parallel tests RaiseParallelism lets run per
// CPU: tests on brokers spend their time waiting (group joins, commit
// intervals, fetch waits), not computing.
const ParallelPerCPU = 4

// RaiseParallelism lets ParallelPerCPU × GOMAXPROCS parallel tests run at
// once instead of go test's default of GOMAXPROCS. Call it from TestMain
// before m.Run; it parses the test flags, and an explicit -test.parallel
// wins.
func RaiseParallelism() {
	if !flag.Parsed() {
		flag.Parse()
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if f := flag.Lookup("test.parallel"); f != nil && !explicit {
		_ = f.Value.Set(strconv.Itoa(ParallelPerCPU * runtime.GOMAXPROCS(0)))
	}
}
