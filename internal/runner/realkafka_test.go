package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// doubleApp writes the doubling pipeline (orders-in -> orders-out) and a
// runner configuration with its own storage directory, so that instances of
// one application never share state, and returns the directory.
func doubleApp(t *testing.T, bootstrap, appID string, kafka map[string]string) string {
	t.Helper()
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	props := map[string]string{"bootstrap.servers": bootstrap, "application.id": appID, "commit.interval.ms": "100"}
	for k, v := range kafka {
		props[k] = v
	}
	runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work), props)
	return work
}

// orderRecords returns the input records from..to-1 spread over partitions.
func orderBatch(from, to, partitions int) []*kgo.Record {
	var out []*kgo.Record
	for j := from; j < to; j++ {
		out = append(out, &kgo.Record{Topic: "orders-in", Partition: int32(j % partitions),
			Key: []byte(fmt.Sprintf("o%d", j)), Value: []byte(fmt.Sprintf(`{"id":"o%d","qty":%d}`, j, j))})
	}
	return out
}

// produceSlowly produces total orders in batches of 100 every pause, and
// reports the first error on the returned channel when done.
func produceSlowly(cl *kgo.Client, total, partitions int, pause time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += 100 {
			if err := cl.ProduceSync(context.Background(), orderBatch(i, min(i+100, total), partitions)...).FirstErr(); err != nil {
				done <- err
				return
			}
			time.Sleep(pause)
		}
		done <- nil
	}()
	return done
}

// assertAllDoubled reads orders-out until every order 0..total-1 is there
// and checks each value; duplicates are allowed (at-least-once).
func assertAllDoubled(t *testing.T, bootstrap string, total int) int {
	t.Helper()
	out := readAll(t, bootstrap, "orders-out", total, 700*time.Millisecond)
	seen := make(map[string]bool, total)
	for _, r := range out {
		var v struct {
			ID    string `json:"id"`
			Total int    `json:"total"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil || string(r.Key) != v.ID {
			t.Fatalf("output %s=%s: %v", r.Key, r.Value, err)
		}
		var n int
		fmt.Sscanf(v.ID, "o%d", &n)
		if v.Total != 2*n {
			t.Fatalf("output %s has total %d, want %d", r.Value, v.Total, 2*n)
		}
		seen[v.ID] = true
	}
	for i := 0; i < total; i++ {
		if !seen[fmt.Sprintf("o%d", i)] {
			t.Fatalf("o%d is missing from %d output records", i, len(out))
		}
	}
	return len(out)
}

// assignments counts the "partitions assigned" log lines of p.
func (p *process) assignments() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if l["msg"] == "partitions assigned" {
			n++
		}
	}
	return n
}

// TestKcatThroughThePipeline feeds the doubling pipeline with kcat and reads
// its output with kcat, on the embedded broker or the real cluster.
func TestKcatThroughThePipeline(t *testing.T) {
	kafkatest.Parallel(t)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kcat is not installed (scripts/setup installs it)")
		}
		t.Skip("kcat is not installed")
	}
	c := startBroker(t)
	createTopic(t, newClient(t, c.Bootstrap), "orders-in", 1)
	work := doubleApp(t, c.Bootstrap, kafkatest.Name("kcat"), nil)
	startRunner(t, runner.Options{ConfigFile: filepath.Join(work, "ksml-runner.yaml"), WorkDir: work,
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	in := exec.Command(kcat, "-b", c.Bootstrap, "-P", "-t", "orders-in", "-K", ":")
	in.Stdin = strings.NewReader("o1:{\"id\":\"o1\",\"qty\":4}\no2:{\"id\":\"o2\",\"qty\":21}\n")
	if out, err := in.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	var got string
	waitFor(t, "kcat to read two records", 30*time.Second, func() bool {
		out, err := exec.Command(kcat, "-b", c.Bootstrap, "-C", "-t", "orders-out", "-e", "-q", "-f", "%k=%s\n").Output()
		got = string(out)
		return err == nil && strings.Count(got, "\n") >= 2
	})
	if want := "o1={\"id\":\"o1\",\"total\":8}\no2={\"id\":\"o2\",\"total\":42}\n"; got != want {
		t.Fatalf("kcat read\n%s\nwant\n%s", got, want)
	}
}

// TestGroupMemberKilled runs two and then three instances of one application
// in one consumer group on a real cluster, kills one with SIGKILL while
// records stream, and checks that the others take its partitions (after
// the 6s session timeout) and that every record reaches the output.
func TestGroupMemberKilled(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			c := kafkatest.RequireReal(t)
			const total, partitions = 3000, 6
			cl := newClient(t, c.Bootstrap, kgo.RecordDeliveryTimeout(60*time.Second))
			createTopic(t, cl, "orders-in", partitions)
			appID := kafkatest.Name("group")
			var ps []*process
			for i := 0; i < n; i++ {
				work := doubleApp(t, c.Bootstrap, appID, map[string]string{"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"})
				p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
				p.waitLog(t, "runner started", 60*time.Second)
				ps = append(ps, p)
			}
			produced := produceSlowly(cl, total, partitions, 100*time.Millisecond)
			waitFor(t, "first output", 30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= 300 })
			before := make([]int, n)
			for i, p := range ps {
				before[i] = p.assignments()
			}
			victim := ps[n-1]
			victim.cmd.Process.Kill()
			<-victim.done
			killed := time.Now()
			waitFor(t, "the survivors to take over", 60*time.Second, func() bool {
				for i, p := range ps[:n-1] {
					if p.assignments() > before[i] {
						return true
					}
				}
				return false
			})
			takeover := time.Since(killed)
			if err := <-produced; err != nil {
				t.Fatal(err)
			}
			out := assertAllDoubled(t, c.Bootstrap, total)
			t.Logf("%d instances, one killed: partitions taken over after %v (session.timeout.ms 6000); %d output records for %d inputs",
				n, takeover.Round(100*time.Millisecond), out, total)
			if takeover > 30*time.Second {
				t.Errorf("takeover took %v with a 6s session timeout", takeover)
			}
		})
	}
}

// TestStaticMembershipRestart kills an instance that has a
// group.instance.id and a 60s session timeout and starts it again: it gets
// its partitions back at once, without the session timeout, and nothing is
// lost.
func TestStaticMembershipRestart(t *testing.T) {
	c := kafkatest.RequireReal(t)
	const total, partitions = 2000, 4
	cl := newClient(t, c.Bootstrap, kgo.RecordDeliveryTimeout(60*time.Second))
	createTopic(t, cl, "orders-in", partitions)
	work := doubleApp(t, c.Bootstrap, kafkatest.Name("static"), map[string]string{
		"group.instance.id": "ksml-static-1", "session.timeout.ms": "60000", "heartbeat.interval.ms": "1000"})
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 60*time.Second)
	produced := produceSlowly(cl, total, partitions, 100*time.Millisecond)
	waitFor(t, "first output", 30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= 300 })
	p.cmd.Process.Kill()
	<-p.done
	killed := time.Now()
	p = startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 60*time.Second)
	back := time.Since(killed)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	out := assertAllDoubled(t, c.Bootstrap, total)
	t.Logf("static member restarted: partitions back %v after the kill (session.timeout.ms 60000); %d output records for %d inputs",
		back.Round(100*time.Millisecond), out, total)
	if back > 30*time.Second {
		t.Errorf("the restarted static member waited %v for its partitions", back)
	}
}

// TestBrokerRestartUnderRunningInstance kills the (single) broker with
// SIGKILL while an instance processes a stream, starts it again, and checks
// that the instance reconnects by itself and nothing is lost.
func TestBrokerRestartUnderRunningInstance(t *testing.T) {
	c := kafkatest.RequireReal(t)
	if c.Brokers() != 1 {
		t.Skip("restarts broker 1 of a single-broker cluster")
	}
	const total, partitions = 3000, 2
	cl := newClient(t, c.Bootstrap, kgo.RecordDeliveryTimeout(120*time.Second))
	createTopic(t, cl, "orders-in", partitions)
	work := doubleApp(t, c.Bootstrap, kafkatest.Name("brokerrestart"), nil)
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 60*time.Second)
	produced := produceSlowly(cl, total, partitions, 100*time.Millisecond)
	waitFor(t, "first output", 30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= 500 })
	c.KillBroker(t, 1)
	down := time.Now()
	time.Sleep(2 * time.Second) // the outage itself, not a synchronisation
	c.ResumeBroker(t, 1)
	t.Logf("broker down for %v", time.Since(down).Round(100*time.Millisecond))
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for endOffset(t, cl, "orders-out") < total {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records processed 90s after the broker came back; ksml's log:\n%s",
				endOffset(t, cl, "orders-out"), total, tail(p.log(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := assertAllDoubled(t, c.Bootstrap, total)
	select {
	case <-p.done:
		t.Fatalf("ksml exited during the broker restart:\n%s", tail(p.log(), 30))
	default:
	}
	t.Logf("%d output records for %d inputs across the broker restart", out, total)
}

// TestSecureListenersFromRunnerConfig runs the pipeline over the real
// cluster's SASL_PLAINTEXT (SCRAM-SHA-256 and -512) and SSL listeners,
// configured only through the runner configuration, and a wrong password
// fails the start with an authentication error.
func TestSecureListenersFromRunnerConfig(t *testing.T) {
	c := kafkatest.RequireReal(t)
	sasl, tls := os.Getenv(kafkatest.EnvSASLBootstrap), os.Getenv(kafkatest.EnvTLSBootstrap)
	if sasl == "" || tls == "" {
		if os.Getenv("KSML_TEST_REAL_KAFKA") == "1" {
			t.Fatal("the CI cluster is started with --sasl")
		}
		t.Skip("the cluster was started without --sasl")
	}
	user, password := os.Getenv(kafkatest.EnvSCRAMUser), os.Getenv(kafkatest.EnvSCRAMPassword)
	jaas := func(pw string) string {
		return fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, user, pw)
	}
	cases := []struct {
		name  string
		props map[string]string
	}{
		{"SCRAM-SHA-256", map[string]string{"bootstrap.servers": sasl, "security.protocol": "SASL_PLAINTEXT",
			"sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": jaas(password)}},
		{"SCRAM-SHA-512", map[string]string{"bootstrap.servers": sasl, "security.protocol": "SASL_PLAINTEXT",
			"sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas(password)}},
		{"TLS", map[string]string{"bootstrap.servers": tls, "security.protocol": "SSL",
			"ssl.truststore.type": "PEM", "ssl.truststore.location": os.Getenv(kafkatest.EnvTLSCA)}},
	}
	cl := newClient(t, c.Bootstrap)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := doubleApp(t, c.Bootstrap, kafkatest.Name("secure"), tc.props)
			startRunner(t, runner.Options{ConfigFile: filepath.Join(work, "ksml-runner.yaml"), WorkDir: work,
				Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
			// Every application reads orders-in from its start: the
			// output holds all orders produced so far.
			produce(t, cl, orderBatch(i*10, i*10+10, 1)...)
			assertAllDoubled(t, c.Bootstrap, 10*(i+1))
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		work := doubleApp(t, c.Bootstrap, kafkatest.Name("secure"), map[string]string{"bootstrap.servers": sasl,
			"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas("wrong")})
		r, err := runner.New(runner.Options{ConfigFile: filepath.Join(work, "ksml-runner.yaml"), WorkDir: work,
			Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err = r.Run(ctx)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authentication") {
			t.Fatalf("Run with a wrong password returned %v, want an authentication error", err)
		}
	})
}

// TestTopicCreationOnRealKafka checks the topics the runner creates for a
// stateful pipeline: repartition and changelog topics with the source's
// partition count and the configured replication factor, and the changelog
// compacted.
func TestTopicCreationOnRealKafka(t *testing.T) {
	c := kafkatest.RequireReal(t)
	cl := newClient(t, c.Bootstrap)
	createTopic(t, cl, "clicks", 3)
	work := t.TempDir()
	writeDefinition(t, work, "pages.yaml", pageCountDefinition)
	appID := kafkatest.Name("pages")
	rf := c.Brokers()
	if rf > 3 {
		rf = 3
	}
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    pages: pages.yaml\n", work, work),
		map[string]string{"bootstrap.servers": c.Bootstrap, "application.id": appID, "replication.factor": fmt.Sprint(rf)})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	var internal []string
	for _, it := range rr.r.Topology().InternalTopics() {
		internal = append(internal, it.Name)
	}
	names := append([]string{"clicks-per-page"}, internal...)
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	configs, err := adm.DescribeTopicConfigs(context.Background(), names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		td, ok := topics[name]
		if !ok || td.Err != nil {
			t.Fatalf("topic %s was not created: %v", name, td.Err)
		}
		if len(td.Partitions) != 3 {
			t.Errorf("%s has %d partitions, want 3 (the source's)", name, len(td.Partitions))
		}
		if name != "clicks-per-page" {
			if got := td.Partitions.NumReplicas(); got != rf {
				t.Errorf("%s has replication factor %d, want %d", name, got, rf)
			}
		}
		rc, err := configs.On(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		policy := ""
		for _, cv := range rc.Configs {
			if cv.Key == "cleanup.policy" && cv.Value != nil {
				policy = *cv.Value
			}
		}
		want := "delete"
		if strings.HasSuffix(name, "-changelog") {
			want = "compact"
		}
		if policy != want {
			t.Errorf("%s has cleanup.policy %q, want %q", name, policy, want)
		}
	}
	t.Logf("created %v", names)
}
