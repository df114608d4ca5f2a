package runner_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"ksml/internal/runner"
)

// A producer and a pipeline of one runner share a topic that neither
// finds at start-up: the producer creates it while the pipeline looks up
// the offsets its `latest` reset policy starts from. The fresh topic may
// not be in the metadata yet; start-up waits for it instead of failing.
const producerFeedsLatestPipeline = `streams:
  ticks:
    topic: ticks
    keyType: string
    valueType: json
    offsetResetPolicy: latest
  seen:
    topic: ticks-seen
    keyType: string
    valueType: json
functions:
  tick:
    type: generator
    globalCode: |
      n = 0
    code: |
      global n
      n += 1
      return ("t", {"n": n})
    resultType: (string, json)
producers:
  ticker:
    generator: tick
    interval: 50ms
    to: ticks
pipelines:
  copy:
    from: ticks
    to: seen
`

func TestProducerCreatesTopicOfLatestPipeline(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "ticks.yaml", producerFeedsLatestPipeline)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    ticks: ticks.yaml
`, work, work), map[string]string{"bootstrap.servers": b.BootstrapServers(), "application.id": "ticks"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	waitFor(t, "copied ticks", 10*time.Second, func() bool { return rr.r.Counters().Get("produced", "ticks-seen") >= 3 })
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}
