package runner_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// TestGlobalTableJoinOnKafka runs upstream's global-table join tutorial:
// the products already in the (two-partition) catalog are loaded before
// any order is joined, and products added while running are followed.
func TestGlobalTableJoinOnKafka(t *testing.T) {
	kafkatest.Parallel(t)
	shared := needShared(t)
	def := filepath.Join(shared, "ksml-corpus/ksml/src/test/resources/docs-examples/intermediate-tutorial/joins/processor-foreign-key-join.yaml")
	b := startBroker(t)
	cl := newClient(t, b.Bootstrap)
	createTopic(t, cl, "product_catalog", 2)
	createTopic(t, cl, "new_orders", 1)
	produce(t, cl,
		&kgo.Record{Topic: "product_catalog", Partition: 0, Key: []byte("P1"), Value: []byte(`{"name":"Laptop","price":1000}`)},
		&kgo.Record{Topic: "product_catalog", Partition: 1, Key: []byte("P2"), Value: []byte(`{"name":"Pen","price":2}`)},
		// Already waiting when the runner starts: the catalog must be loaded first.
		&kgo.Record{Topic: "new_orders", Partition: 0, Key: []byte("O1"), Value: []byte(`{"order_id":"O1","product_id":"P2","quantity":3}`)},
	)
	work := t.TempDir()
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    shop: %q\n", filepath.Dir(def), work, filepath.Base(def)),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "shop"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	produce(t, cl,
		&kgo.Record{Topic: "new_orders", Partition: 0, Key: []byte("O2"), Value: []byte(`{"order_id":"O2","product_id":"P1","quantity":1}`)},
		&kgo.Record{Topic: "new_orders", Partition: 0, Key: []byte("O3"), Value: []byte(`{"order_id":"O3","product_id":"P9","quantity":1}`)},
		&kgo.Record{Topic: "product_catalog", Partition: 1, Key: []byte("P3"), Value: []byte(`{"name":"Desk","price":300}`)},
	)
	// The global follower counts a record as it applies it, on the loop
	// that processes the orders: once P3 is counted, an order produced
	// after it is joined against it.
	waitFor(t, "the global follower to apply P3", 20*time.Second, func() bool {
		return consumedCount(rr.r.Counters(), "product_catalog") >= 3
	})
	produce(t, cl, &kgo.Record{Topic: "new_orders", Partition: 0, Key: []byte("O4"), Value: []byte(`{"order_id":"O4","product_id":"P3","quantity":2}`)})

	out := readAll(t, b.Bootstrap, "orders_with_product_details", 3, 700*time.Millisecond)
	var got []string
	for _, r := range out {
		var v struct {
			Product struct{ Name string } `json:"product_details"`
			Total   float64               `json:"total_price"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s:%s:%g", r.Key, v.Product.Name, v.Total))
	}
	sort.Strings(got)
	if s := strings.Join(got, " "); s != "O1:Pen:6 O2:Laptop:1000 O4:Desk:600" {
		t.Errorf("joined orders %s, want O1:Pen:6 O2:Laptop:1000 O4:Desk:600 (O3 has no product)", s)
	}
}
