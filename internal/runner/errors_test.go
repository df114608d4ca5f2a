package runner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

const doubleDefinition = `streams:
  input:
    topic: orders-in
    keyType: string
    valueType: json
  output:
    topic: orders-out
    keyType: string
    valueType: json
pipelines:
  double:
    from: input
    via:
      - type: mapValues
        mapper:
          code: |
            return {"id": value["id"], "total": value["qty"] * 2}
    to: output
`

// syncBuffer is a log sink tests can read while the runner writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeDefinition(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func orderRecords(ids ...string) []*kgo.Record {
	var out []*kgo.Record
	for _, id := range ids {
		v := fmt.Sprintf(`{"id":%q,"qty":%s}`, id, strings.TrimPrefix(id, "o"))
		if id == "bad" {
			v = `{"id":"bad"}`
		}
		out = append(out, &kgo.Record{Topic: "orders-in", Partition: 0, Key: []byte(id), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-" + id)}}})
	}
	return out
}

// TestProcessErrorContinueOnFailDeadLetters shows a failing record being
// logged, counted, written to the dead-letter topic with the error headers
// and skipped, while the records around it are processed.
func TestProcessErrorContinueOnFailDeadLetters(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    orders: double.yaml
  errorHandling:
    process:
      log: true
      logPayload: true
      loggerName: OrderErrors
      handler: continueOnFail
      deadLetterTopic: orders-dlt
`, work, work), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "errs-continue", "commit.interval.ms": "100"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, orderRecords("o1", "o2", "bad", "o3")...)

	out := readAll(t, b.Bootstrap, "orders-out", 3, 700*time.Millisecond)
	var got []string
	for _, r := range out {
		got = append(got, string(r.Key)+"="+string(r.Value))
	}
	want := []string{`o1={"id":"o1","total":2}`, `o2={"id":"o2","total":4}`, `o3={"id":"o3","total":6}`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("output:\n got %v\nwant %v", got, want)
	}

	dlt := readAll(t, b.Bootstrap, "orders-dlt", 1, 500*time.Millisecond)
	if len(dlt) != 1 {
		t.Fatalf("dead-letter topic has %d records, want 1", len(dlt))
	}
	d := dlt[0]
	if string(d.Key) != "bad" || string(d.Value) != `{"id":"bad"}` {
		t.Errorf("dead letter = %s=%s, want the original bytes bad={\"id\":\"bad\"}", d.Key, d.Value)
	}
	wantHeaders := map[string]string{
		kafkaio.HeaderHandler: "process", kafkaio.HeaderTopic: "orders-in",
		kafkaio.HeaderPartition: "0", kafkaio.HeaderOffset: "2", "trace": "t-bad",
	}
	for k, v := range wantHeaders {
		if got, ok := header(d, k); !ok || got != v {
			t.Errorf("header %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	msg, _ := header(d, kafkaio.HeaderMessage)
	if !strings.Contains(msg, "KeyError") || !strings.Contains(msg, "qty") {
		t.Errorf("error message header %q does not name the KeyError on qty", msg)
	}
	if node, _ := header(d, kafkaio.HeaderNode); node != "orders_pipelines_double_via_step1_transformValue" {
		t.Errorf("node header = %q", node)
	}

	if n := rr.r.Counters().Get("failed.process", "orders-in"); n != 1 {
		t.Errorf("failed.process counter = %d, want 1", n)
	}
	if n := rr.r.Counters().Get("consumed", "orders-in"); n != 4 {
		t.Errorf("consumed counter = %d, want 4", n)
	}
	if err := rr.stop(t); err != nil {
		t.Fatalf("runner stopped with %v", err)
	}
	// One JSON log line for the failure, from the configured logger, with payload.
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `"record failed"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["logger"] != "OrderErrors" || m["key"] != "bad" || m["value"] != `{"id":"bad"}` || m["offset"] != float64(2) ||
			m["action"] != "continueOnFail" || m["task"] != "0_0" || m["node"] != "orders_pipelines_double_via_step1_transformValue" {
			t.Errorf("failure log line = %s", line)
		}
		found = true
	}
	if !found {
		t.Errorf("no failure log line in:\n%s", logs.String())
	}
}

// TestProcessErrorStopOnFail shows the default handler stopping the runner
// with an error that names the record and the function, without committing
// the failing record.
func TestProcessErrorStopOnFail(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "errs-stop"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, orderRecords("o1", "bad", "o3")...)

	var err error
	select {
	case err = <-rr.done:
		close(rr.done)
	case <-time.After(20 * time.Second):
		t.Fatal("runner did not stop on the failing record")
	}
	var rerr *kafkaio.RecordError
	if !errors.As(err, &rerr) {
		t.Fatalf("Run returned %v, want a *kafkaio.RecordError", err)
	}
	if rerr.Kind != kafkaio.ProcessError || rerr.Topic != "orders-in" || rerr.Offset != 1 {
		t.Errorf("record error = %+v", rerr)
	}
	for _, want := range []string{"process error", "orders-in", "offset 1", "KeyError", "double.yaml",
		"a restart stops at this record again",
		"set ksml.errorHandling.process.handler: continueOnFail in " + cfg,
		"or run with --on-error continue (KSML_ON_ERROR=continue)",
		"`kcat -b " + b.Bootstrap + " -C -t orders-in -p 0 -o 1 -c 1`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if st := rr.r.State(); st != runner.Failed {
		t.Errorf("state = %s, want FAILED", st)
	}
	out := readAll(t, b.Bootstrap, "orders-out", 1, 500*time.Millisecond)
	if len(out) != 1 || string(out[0].Key) != "o1" {
		t.Errorf("output before the failure = %d records, want only o1", len(out))
	}
	// The committed offset stops before the failing record.
	committed := committedOffset(t, cl, "errs-stop", "orders-in", 0)
	if committed != 1 {
		t.Errorf("committed offset = %d, want 1 (the failing record is processed again on restart)", committed)
	}
}

func committedOffset(t *testing.T, cl *kgo.Client, group, topic string, partition int32) int64 {
	t.Helper()
	offs, err := admin(cl).FetchOffsets(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, partition)
	if !ok {
		return -1
	}
	return o.At
}
