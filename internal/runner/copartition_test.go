package runner_test

import (
	"fmt"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// rekeyedJoinDefinition re-keys orders by customer and joins them with the
// customers table.
const rekeyedJoinDefinition = `streams:
  orders:
    topic: orders
    keyType: string
    valueType: json
tables:
  customers:
    topic: customers
    keyType: string
    valueType: string
pipelines:
  enrich:
    from: orders
    via:
      - type: selectKey
        mapper:
          expression: value["customer"]
          resultType: string
      - type: join
        table: customers
        valueJoiner:
          expression: value1["id"] + "@" + value2
          resultType: string
    to:
      topic: enriched
      keyType: string
      valueType: string
`

// TestRekeyedJoinRepartitionsToTablePartitions runs a join of a re-keyed
// stream (4 partitions) with a table (2 partitions): as in Kafka Streams,
// the join's repartition topic gets the table's partition count, so every
// order meets its customer; with the stream's count, orders whose new key
// hashes to another partition than the customer's were never joined.
func TestRekeyedJoinRepartitionsToTablePartitions(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	createTopic(t, cl, "orders", 4)
	createTopic(t, cl, "customers", 2)
	work := t.TempDir()
	writeDefinition(t, work, "enrich.yaml", rekeyedJoinDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    enrich: enrich.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "enrich", "auto.offset.reset": "earliest"})
	var customers []*kgo.Record
	for i := 0; i < 6; i++ {
		customers = append(customers, &kgo.Record{Topic: "customers", Key: []byte(fmt.Sprintf("c%d", i)), Value: []byte(fmt.Sprintf("name%d", i))})
	}
	produce(t, cl, customers...)
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	topic := "enrich-enrich_pipelines_enrich_via_step2_join-repartition"
	details, err := kadm.NewClient(cl).ListTopics(t.Context(), topic)
	if err != nil || details[topic].Err != nil {
		t.Fatalf("describing %s: %v %v", topic, err, details[topic].Err)
	}
	if n := len(details[topic].Partitions); n != 2 {
		t.Errorf("%s has %d partitions, want the table's 2", topic, n)
	}
	// The table is loaded before the orders arrive.
	waitFor(t, "customers loaded", 10*time.Second, func() bool { return rr.r.Counters().Get("consumed", "customers") == 6 })
	var orders []*kgo.Record
	for i := 0; i < 12; i++ {
		orders = append(orders, &kgo.Record{Topic: "orders", Key: []byte(fmt.Sprintf("o%d", i)),
			Value: []byte(fmt.Sprintf(`{"id":"o%d","customer":"c%d"}`, i, i%6))})
	}
	produce(t, cl, orders...)
	recs := readAll(t, b.Bootstrap, "enriched", 12, 500*time.Millisecond)
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Key)+"="+string(r.Value))
	}
	sort.Strings(got)
	var want []string
	for i := 0; i < 12; i++ {
		want = append(want, fmt.Sprintf("c%d=o%d@name%d", i%6, i, i%6))
	}
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("enriched:\n got %v\nwant %v", got, want)
	}
}
