package runner_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// bigDefinition turns a record whose value is "big" into a 5 MB value.
const bigDefinition = `streams:
  input:
    topic: sizes-in
    keyType: string
    valueType: string
  output:
    topic: sizes-out
    keyType: string
    valueType: string
pipelines:
  grow:
    from: input
    via:
      - type: mapValues
        mapper:
          code: |
            return "x" * 5000000 if value == "big" else value.upper()
    to: output
`

func sizeRecords(values ...string) []*kgo.Record {
	var out []*kgo.Record
	for i, v := range values {
		out = append(out, &kgo.Record{Topic: "sizes-in", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t" + v)}}})
	}
	return out
}

// TestTooLargeOutputRecordGoesToTheDeadLetterTopic produces a 5 MB output
// record that the broker rejects (MESSAGE_TOO_LARGE: max.request.size lets
// it out, uncompressed, the topic's max.message.bytes does not): with a dead-letter topic
// and continueOnFail it lands there, cut to fit and saying so, and the
// records around it are processed.
func TestTooLargeOutputRecordGoesToTheDeadLetterTopic(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "grow.yaml", bigDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    sizes: grow.yaml
  errorHandling:
    produce:
      handler: continueOnFail
      deadLetterTopic: sizes-dlt
`, work, work), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "sizes-dlt-app",
		"commit.interval.ms": "100", "max.request.size": "10485760", "compression.type": "none"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	cl := newClient(t, b.Bootstrap)
	produce(t, cl, sizeRecords("a", "big", "b")...)

	out := readAll(t, b.Bootstrap, "sizes-out", 2, 500*time.Millisecond)
	var got []string
	for _, r := range out {
		v := string(r.Value)
		if len(v) > 20 {
			v = fmt.Sprintf("(%d bytes)", len(v))
		}
		got = append(got, string(r.Key)+"="+v)
	}
	if strings.Join(got, " ") != "k0=A k2=B" {
		t.Fatalf("output %v, want k0=A k2=B", got)
	}
	dlt := readAll(t, b.Bootstrap, "sizes-dlt", 1, 500*time.Millisecond)
	if len(dlt) != 1 {
		t.Fatalf("dead-letter topic has %d records, want 1", len(dlt))
	}
	d := dlt[0]
	if string(d.Key) != "k1" || len(d.Value) < 1000000 || len(d.Value) >= 1048588 || strings.Trim(string(d.Value), "x") != "" {
		t.Errorf("dead letter %s with a %d byte value, want k1 with the value cut below 1048588 bytes", d.Key, len(d.Value))
	}
	for k, v := range map[string]string{kafkaio.HeaderHandler: "produce", kafkaio.HeaderTopic: "sizes-out", "trace": "tbig",
		kafkaio.HeaderTruncated: fmt.Sprintf("value 5000000 -> %d bytes", len(d.Value))} {
		if got, ok := header(d, k); !ok || got != v {
			t.Errorf("header %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if msg, _ := header(d, kafkaio.HeaderMessage); !strings.Contains(msg, "MESSAGE_TOO_LARGE") || !strings.Contains(msg, "max.message.bytes") {
		t.Errorf("message header %q", msg)
	}
	if n := rr.r.Counters().Get("failed.produce", "sizes-out"); n != 1 {
		t.Errorf("failed.produce counter = %d, want 1", n)
	}
	if err := rr.stop(t); err != nil {
		t.Fatalf("runner stopped with %v", err)
	}
}

// TestTooLargeOutputRecordStopsNamingTheSetting: with the default
// stopOnFail, a record above max.request.size stops the runner with an
// error that names the settings to change.
func TestTooLargeOutputRecordStopsNamingTheSetting(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "grow.yaml", bigDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    sizes: grow.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "sizes-stop-app", "commit.interval.ms": "100"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	produce(t, newClient(t, b.Bootstrap), sizeRecords("a", "big")...)
	var err error
	select {
	case err = <-rr.done:
		close(rr.done)
	case <-time.After(20 * time.Second):
		t.Fatal("runner did not stop on the record that is too large")
	}
	for _, want := range []string{"produce error", "sizes-out", "record of 5000011 bytes", "MESSAGE_TOO_LARGE", "kafka.max.request.size (now 1048576 bytes)", "ksml.errorHandling.produce"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
