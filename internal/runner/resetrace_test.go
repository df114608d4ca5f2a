package runner_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
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
`, work, work), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "ticks"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	waitFor(t, "copied ticks", 10*time.Second, func() bool { return rr.r.Counters().Get("produced", "ticks-seen") >= 3 })
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}

// A producer of the runner creates the topic of a globalTable (and of a
// logged store's source) at start-up while the pipelines load the global
// table: the fresh topic may not be in the metadata of the end-offset
// listing yet; loading waits for it instead of failing with "changelog
// prices[0] not found".
const producerFeedsGlobalTable = `streams:
  orders:
    topic: orders
    keyType: string
    valueType: string
  priced:
    topic: priced-orders
    keyType: string
    valueType: string
globalTables:
  prices:
    topic: prices
    keyType: string
    valueType: string
functions:
  price:
    type: generator
    globalCode: |
      n = 0
    code: |
      global n
      n += 1
      return ("p" + str(n % 2), str(n))
    resultType: (string, string)
  order:
    type: generator
    globalCode: |
      m = 0
    code: |
      global m
      m += 1
      return ("o" + str(m), "p" + str(m % 2))
    resultType: (string, string)
producers:
  prices:
    generator: price
    interval: 20ms
    count: 2
    to: prices
  orders:
    generator: order
    interval: 50ms
    to: orders
pipelines:
  price_orders:
    from: orders
    via:
      - type: join
        globalTable: prices
        mapper:
          expression: value
          resultType: string
        valueJoiner:
          expression: value1 + "=" + value2
          resultType: string
    to: priced
`

func TestProducerCreatesGlobalTableTopic(t *testing.T) {
	kafkatest.Parallel(t)
	for i := 0; i < 5; i++ {
		b := startBroker(t)
		work := t.TempDir()
		writeDefinition(t, work, "prices.yaml", producerFeedsGlobalTable)
		cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    prices: prices.yaml
`, work, work), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "prices"})
		rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
		waitFor(t, "priced orders", 10*time.Second, func() bool { return rr.r.Counters().Get("produced", "priced-orders") >= 3 })
		if err := rr.stop(t); err != nil {
			t.Fatal(err)
		}
	}
}
