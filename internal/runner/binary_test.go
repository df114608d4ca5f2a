package runner_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/testgate"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain lets more broker tests run at once and removes the binary the
// tests built.
func TestMain(m *testing.M) {
	kafkatest.RaiseParallelism()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binaryVersion is the version the test binary is stamped with.
const binaryVersion = "0.0.0-test"

// ksmlBinary builds cmd/ksml once per test process.
func ksmlBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the ksml binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ksml-run-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ksml")
		out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+binaryVersion, "-o", binPath, "../../cmd/ksml").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running ksml binary whose JSON log lines are scanned.
type process struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []map[string]any
	raw   strings.Builder
	done  chan struct{}
}

func startBinary(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(ksmlBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KSML_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			p.mu.Lock()
			p.raw.WriteString(sc.Text() + "\n")
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines = append(p.lines, m)
			}
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitLog waits for a log line with msg (a prefix when msg ends in "*")
// and returns it.
func (p *process) waitLog(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, l := range p.lines {
			if text, _ := l["msg"].(string); text == msg || strings.HasSuffix(msg, "*") && strings.HasPrefix(text, strings.TrimSuffix(msg, "*")) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.done:
			t.Fatalf("ksml exited before logging %q:\n%s", msg, p.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %q log line within %v:\n%s", msg, timeout, p.log())
	return nil
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// TestBinaryRunsSeedOnEmbeddedBroker runs the built binary on a bare seed
// definition: it starts the embedded broker, logs its address, processes
// records fed to it over Kafka and stops cleanly on SIGTERM.
func TestBinaryRunsSeedOnEmbeddedBroker(t *testing.T) {
	testgate.Long(t, "builds the binary")
	kafkatest.Parallel(t)
	shared := needShared(t)
	def := filepath.Join(shared, "acceptance/seed/definitions/cqrs.yaml")
	work := t.TempDir()
	p := startBinary(t, work, "run", "--embedded-broker", "127.0.0.1:0", def)
	line := p.waitLog(t, "using the embedded Kafka broker on *", 10*time.Second)
	bootstrap, _ := line["bootstrap.servers"].(string)
	if bootstrap == "" {
		t.Fatalf("no bootstrap.servers in %v", line)
	}
	p.waitLog(t, "runner started", 15*time.Second)
	cl := newClient(t, bootstrap)
	produce(t, cl,
		&kgo.Record{Topic: "write-events", Key: []byte("user-1"), Value: []byte(`{"eventType":"USER_CREATED","entityId":"user-1","data":{"username":"ada","email":"ada@example.com"}}`)},
		&kgo.Record{Topic: "write-events", Key: []byte("user-2"), Value: []byte(`{"eventType":"USER_SUSPENDED","entityId":"user-2","data":{}}`)},
	)
	out := readAll(t, bootstrap, "read-model", 2, 700*time.Millisecond)
	if len(out) != 2 {
		t.Fatalf("read-model has %d records, want 2", len(out))
	}
	var got []string
	for _, r := range out {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("value %s: %v", r.Value, err)
		}
		if ts, ok := v["timestamp"].(float64); !ok || ts < float64(time.Now().Add(-time.Minute).UnixMilli()) {
			t.Errorf("timestamp field %v is not a recent epoch ms", v["timestamp"])
		}
		delete(v, "timestamp")
		b, _ := json.Marshal(v)
		got = append(got, string(r.Key)+"="+string(b))
	}
	want := `user-1={"email":"ada@example.com","id":"user-1","type":"USER_CREATED","username":"ada"} user-2={"id":"user-2","type":"USER_SUSPENDED"}`
	if strings.Join(got, " ") != want {
		t.Errorf("read-model:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	cl.Close()
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("ksml did not stop within 10s of SIGTERM:\n%s", p.log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, p.log())
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start))
	if _, err := os.Stat(filepath.Join(work, "broker")); err != nil {
		t.Errorf("embedded broker data directory: %v", err)
	}
}

// TestBinaryKillRestartAtLeastOnce kills the binary with SIGKILL while
// records stream through it, restarts it, and checks that every input
// record reaches the output (duplicates are allowed: at-least-once).
func TestBinaryKillRestartAtLeastOnce(t *testing.T) {
	testgate.Long(t, "builds the binary, kill/restart fault run")
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "restart", "commit.interval.ms": "100",
			// A killed member stays in the group until its session times out.
			"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"})
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "orders-in", 2)

	const total = 6000
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 15*time.Second)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; i < total; i += 100 {
			var batch []*kgo.Record
			for j := i; j < i+100; j++ {
				batch = append(batch, &kgo.Record{Topic: "orders-in", Partition: int32(j % 2),
					Key: []byte(fmt.Sprintf("o%d", j)), Value: []byte(fmt.Sprintf(`{"id":"o%d","qty":%d}`, j, j))})
			}
			if err := cl.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				t.Errorf("producing: %v", err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// Kill once some output exists and input is still arriving.
	waitFor(t, "first output", 15*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= 500 })
	p.cmd.Process.Kill()
	<-p.done
	killedAt := endOffset(t, cl, "orders-out")
	t.Logf("committed before restart: p0=%d p1=%d", committedOffset(t, cl, "restart", "orders-in", 0), committedOffset(t, cl, "restart", "orders-in", 1))

	p2 := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p2.waitLog(t, "runner started", 40*time.Second)
	<-produced
	waitFor(t, "all output", 30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= total })
	out := readAll(t, b.Bootstrap, "orders-out", total, 700*time.Millisecond)
	seen := make(map[string]bool, total)
	for _, r := range out {
		var v struct {
			ID    string `json:"id"`
			Total int    `json:"total"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("output %s: %v", r.Value, err)
		}
		if string(r.Key) != v.ID {
			t.Fatalf("output key %s has value %s", r.Key, r.Value)
		}
		seen[v.ID] = true
	}
	var missing []string
	for i := 0; i < total; i++ {
		if id := fmt.Sprintf("o%d", i); !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d input records are missing from the output after kill -9 and restart (first: %v)", len(missing), missing[:min(5, len(missing))])
	}
	t.Logf("killed after %d output records; %d output records for %d inputs (%d duplicates replayed)", killedAt, len(out), total, len(out)-total)
}

func endOffset(t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	ends, err := admin(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// TestBinaryKillRestartEmbeddedBroker kills the binary, and with it the
// embedded broker it runs, while records stream through it; the restarted
// binary reopens the broker's data directory and every input record
// reaches the output.
func TestBinaryKillRestartEmbeddedBroker(t *testing.T) {
	testgate.Long(t, "builds the binary, kill/restart fault run")
	kafkatest.Parallel(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"application.id": "embedded-restart", "commit.interval.ms": "100",
			"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"})
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml", "--embedded-broker", addr)
	p.waitLog(t, "runner started", 15*time.Second)
	cl := newClient(t, addr, kgo.RecordDeliveryTimeout(60*time.Second))

	const total = 4000
	produced := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += 100 {
			var batch []*kgo.Record
			for j := i; j < i+100; j++ {
				batch = append(batch, &kgo.Record{Topic: "orders-in", Partition: 0,
					Key: []byte(fmt.Sprintf("o%d", j)), Value: []byte(fmt.Sprintf(`{"id":"o%d","qty":%d}`, j, j))})
			}
			if err := cl.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				produced <- err
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
		produced <- nil
	}()
	waitFor(t, "first output", 15*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= 500 })
	p.cmd.Process.Kill()
	<-p.done

	p2 := startBinary(t, work, "run", "-c", "ksml-runner.yaml", "--embedded-broker", addr)
	p2.waitLog(t, "runner started", 40*time.Second)
	if err := <-produced; err != nil {
		t.Fatalf("producing across the restart: %v", err)
	}
	waitFor(t, "all output", 30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= total })
	out := readAll(t, addr, "orders-out", total, 700*time.Millisecond)
	seen := map[string]bool{}
	for _, r := range out {
		seen[string(r.Key)] = true
	}
	for i := 0; i < total; i++ {
		if !seen[fmt.Sprintf("o%d", i)] {
			t.Fatalf("o%d is missing from the output after kill -9 and restart (%d output records)", i, len(out))
		}
	}
	t.Logf("%d output records for %d inputs", len(out), total)
}

// TestBinaryAppInfo scrapes the built binary's ksml_app: the version set
// with -ldflags -X main.version and the build time Go stamped into the
// binary (vcs.time; the binary's modification time without VCS stamping).
func TestBinaryAppInfo(t *testing.T) {
	testgate.Long(t, "builds the binary")
	kafkatest.Parallel(t)
	bin := ksmlBinary(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	port := freePort(t)
	runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n"+
		"  prometheus:\n    enabled: true\n    host: 127.0.0.1\n    port: %d\n", work, work, port),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "appinfo"})
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var built string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.time=") {
			built = strings.TrimPrefix(f[1], "vcs.time=")
		}
	}
	if built == "" {
		fi, err := os.Stat(bin)
		if err != nil {
			t.Fatal(err)
		}
		built = fi.ModTime().UTC().Format(time.RFC3339)
	}
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 15*time.Second)
	_, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	want := `ksml_app{app_id="appinfo",build_time="` + built + `",name="ksml",version="` + binaryVersion + `"} 1`
	if !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "ksml_app"))
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}
