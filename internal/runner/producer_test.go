package runner_test

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

const producerDefinition = `functions:
  generate_reading:
    type: generator
    globalCode: |
      n = 0
    code: |
      global n
      n += 1
      return ("sensor" + str(n % 2), {"seq": n, "celsius": n * 1.5})
    resultType: (string, json)
  generate_pairs:
    type: generator
    globalCode: |
      i = 0
    code: |
      global i
      i += 2
      return [("k" + str(i - 1), i - 1), ("k" + str(i), i)]
producers:
  readings:
    generator: generate_reading
    interval: 50ms
    count: 5
    to:
      topic: readings
      keyType: string
      valueType: json
  numbers:
    generator: generate_pairs
    interval: 10ms
    batchSize: 2
    condition:
      expression: value % 3 != 0
    until:
      expression: value >= 7
    to:
      topic: numbers
      keyType: string
      valueType: long
`

// TestProducers runs two generators without pipelines: one with count and
// interval producing exactly five JSON records, one with a batch size, a
// condition that skips multiples of three and an until that stops at 7. The
// runner stops by itself when both are done.
func TestProducers(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "gen.yaml", producerDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    gen: gen.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "producers"})
	start := time.Now()
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	select {
	case err := <-rr.done:
		close(rr.done)
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("producers did not finish")
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("five records 50ms apart took only %v", took)
	}
	readings := readAll(t, b.Bootstrap, "readings", 5, 500*time.Millisecond)
	var got []string
	for _, r := range readings {
		got = append(got, string(r.Key)+"="+string(r.Value))
	}
	want := []string{
		`sensor1={"seq":1,"celsius":1.5}`, `sensor0={"seq":2,"celsius":3.0}`, `sensor1={"seq":3,"celsius":4.5}`,
		`sensor0={"seq":4,"celsius":6.0}`, `sensor1={"seq":5,"celsius":7.5}`,
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("readings:\n got %v\nwant %v", got, want)
	}
	numbers := readAll(t, b.Bootstrap, "numbers", 5, 500*time.Millisecond)
	got = got[:0]
	for _, r := range numbers {
		if len(r.Value) != 8 {
			t.Fatalf("long value of %d bytes: %x", len(r.Value), r.Value)
		}
		got = append(got, fmt.Sprintf("%s=%d", r.Key, int64(binary.BigEndian.Uint64(r.Value))))
	}
	if s := strings.Join(got, " "); s != "k1=1 k2=2 k4=4 k5=5 k7=7" {
		t.Errorf("numbers = %s, want k1=1 k2=2 k4=4 k5=5 k7=7", s)
	}
	if n := rr.r.Counters().Get("produced", "readings"); n != 5 {
		t.Errorf("produced counter = %d, want 5", n)
	}
}

// TestProducerPartitioner multicasts every message to the partitions the
// target topic's partitioner returns; it sees the serialized key.
func TestProducerPartitioner(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "spread", 3)
	work := t.TempDir()
	writeDefinition(t, work, "spread.yaml", `streams:
  spread:
    topic: spread
    keyType: string
    valueType: string
    partitioner:
      type: streamPartitioner
      code: |
        # key arrives serialized; "k2" goes to partition 2 only
        return [2] if bytes(key) == b"k2" else [0, 1]
functions:
  gen:
    type: generator
    globalCode: |
      n = 0
    code: |
      global n
      n += 1
      return ("k" + str(n), "v" + str(n))
producers:
  p:
    generator: gen
    count: 2
    to: spread
`)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    spread: spread.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "spread"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	select {
	case err := <-rr.done:
		close(rr.done)
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("producer did not finish")
	}
	var got []string
	for _, r := range readAll(t, b.Bootstrap, "spread", 3, 500*time.Millisecond) {
		got = append(got, fmt.Sprintf("%s@%d", r.Key, r.Partition))
	}
	sort.Strings(got)
	if s := strings.Join(got, " "); s != "k1@0 k1@1 k2@2" {
		t.Errorf("records %s, want k1@0 k1@1 k2@2", s)
	}
}
