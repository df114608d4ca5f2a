package runner_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/testgate"
)

// TestInvalidUTF8ThroughPythonFilter sends a string value with an invalid
// byte through a Python filter and a Python mapper: Python sees it as Java's
// StringDeserializer decodes it (U+FFFD), so the filter keeps it and the
// mapper's result is written as upstream writes it (U+FFFD in UTF-8). The
// filter forwards the record it was given, bytes unchanged.
func TestInvalidUTF8ThroughPythonFilter(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "filter.yaml", `streams:
  input:
    topic: text-in
    keyType: string
    valueType: string
  output:
    topic: text-out
    keyType: string
    valueType: string
pipelines:
  keep:
    from: input
    via:
      - type: filter
        if:
          expression: value == "ok\ufffdbad" or value == "plain"
    to: output
  upper:
    from: input
    via:
      - type: mapValues
        mapper:
          expression: value.upper()
    to:
      topic: text-upper
      keyType: string
      valueType: string
`)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    text: filter.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "utf8"})
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "text-in", 1)
	startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work})
	produce(t, cl,
		&kgo.Record{Topic: "text-in", Key: []byte("a"), Value: []byte("ok\xffbad")},
		&kgo.Record{Topic: "text-in", Key: []byte("b"), Value: []byte("dropped")},
		&kgo.Record{Topic: "text-in", Key: []byte("c"), Value: []byte("plain")})
	out := readAll(t, b.Bootstrap, "text-out", 2, 700*time.Millisecond)
	var got []string
	for _, r := range out {
		got = append(got, fmt.Sprintf("%s=%q", r.Key, r.Value))
	}
	want := []string{`a="ok\xffbad"`, `c="plain"`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("text-out = %v, want %v", got, want)
	}
	got = nil
	for _, r := range readAll(t, b.Bootstrap, "text-upper", 3, 700*time.Millisecond) {
		got = append(got, fmt.Sprintf("%s=%q", r.Key, r.Value))
	}
	want = []string{"a=\"OK\uFFFDBAD\"", `b="DROPPED"`, `c="PLAIN"`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("text-upper = %v, want %v", got, want)
	}
}

// TestBinarySIGTERMWithStuckFunction runs a function that loops in C,
// holding the interpreter, past its functionTimeout: the watchdog reports it
// stuck, and SIGTERM still stops the process with exit code 0 within the
// shutdown timeout (its record stays uncommitted, for the next run).
func TestBinarySIGTERMWithStuckFunction(t *testing.T) {
	testgate.Long(t, "builds the binary and waits out a stuck function")
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "stuck.yaml", `streams:
  input:
    topic: stuck-in
    keyType: string
    valueType: string
pipelines:
  spin:
    from: input
    via:
      - type: mapValues
        mapper:
          expression: sum(range(10**13))
    to:
      topic: stuck-out
      keyType: string
      valueType: long
`)
	runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    stuck: stuck.yaml\n"+
		"  pythonContext:\n    functionTimeout: 1s\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "stuck"})
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "stuck-in", 1)
	p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
	p.waitLog(t, "runner started", 20*time.Second)
	produce(t, cl, &kgo.Record{Topic: "stuck-in", Key: []byte("k"), Value: []byte("v")})
	line := p.waitLog(t, "a Python function did not stop at its timeout: it runs code Python cannot interrupt "+
		"(a C loop) and holds its task; SIGTERM still stops the process", 8*time.Second) // 1 s limit + 1 s grace; the default 10 s would miss it
	if fn, _ := line["function"].(string); !strings.HasPrefix(fn, "stuck.") {
		t.Errorf("the stuck log line names function %q, want one of namespace stuck", fn)
	}
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("ksml did not stop within 15s of SIGTERM:\n%s", p.log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, p.log())
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start))
}
