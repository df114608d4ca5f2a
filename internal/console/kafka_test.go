package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

// upperSerde decodes a value as the topology's serde would, so the test
// can tell decoded values from raw ones.
type upperSerde struct{}

func (upperSerde) Serialize(string, *[]streams.Header, any) ([]byte, error) { return nil, nil }
func (upperSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	return strings.ToUpper(string(b)), nil
}

func TestTopicsAndRecordsAPI(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	seeds := kgo.SeedBrokers(cluster.ListenAddrs()...)
	cl, err := kgo.NewClient(seeds, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ts := func(ms int64) time.Time { return time.UnixMilli(ms) }
	recs := []*kgo.Record{
		{Topic: "orders", Partition: 0, Key: []byte("k1"), Value: []byte(`{"a":1}`), Timestamp: ts(1000)},
		{Topic: "orders", Partition: 1, Key: []byte("k2"), Value: []byte("plain text"), Timestamp: ts(3000),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-1")}}},
		{Topic: "orders", Partition: 0, Key: nil, Value: []byte{0xff, 0x00}, Timestamp: ts(2000)},
		{Topic: "dlq", Partition: 0, Key: []byte("k9"), Value: []byte(`{"amount":-1}`), Timestamp: ts(4000),
			Headers: []kgo.RecordHeader{{Key: "ksml.error.handler", Value: []byte("process")},
				{Key: "ksml.error.message", Value: []byte("amount must be positive")},
				{Key: "ksml.error.node", Value: []byte("ns_pipelines_p_filter")}}},
	}
	for _, r := range recs {
		r := r
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{Kafka: []kgo.Opt{seeds}, DeadLetterTopics: []string{"dlq"},
		Serdes: func(topic string) (streams.Serde, streams.Serde, bool) {
			if topic == "dlq" {
				return nil, upperSerde{}, true
			}
			return nil, nil, false
		}})
	defer c.Close()
	wantJSON(t, c, "/console/api/topics", `[{"name":"dlq","partitions":1,"records":1,"kind":"deadLetter"},{"name":"orders","partitions":2,"records":3,"kind":"topic"}]`)
	wantJSON(t, c, "/console/api/topics/orders/records", `{"topic":"orders","records":[`+
		`{"partition":1,"offset":0,"timestamp":3000,"key":"k2","keyFormat":"string","value":"plain text","valueFormat":"string","headers":[{"key":"trace","value":"t-1"}]},`+
		`{"partition":0,"offset":1,"timestamp":2000,"key":null,"keyFormat":"null","value":"/wA=","valueFormat":"base64","headers":[]},`+
		`{"partition":0,"offset":0,"timestamp":1000,"key":"k1","keyFormat":"string","value":{"a":1},"valueFormat":"json","headers":[]}]}`)
	wantJSON(t, c, "/console/api/topics/orders/records?limit=1", `{"topic":"orders","records":[`+
		`{"partition":1,"offset":0,"timestamp":3000,"key":"k2","keyFormat":"string","value":"plain text","valueFormat":"string","headers":[{"key":"trace","value":"t-1"}]}]}`)
	wantJSON(t, c, "/console/api/topics/dlq/records", `{"topic":"dlq","records":[`+
		`{"partition":0,"offset":0,"timestamp":4000,"key":"k9","keyFormat":"string","value":"{\"AMOUNT\":-1}","valueFormat":"decoded","headers":[`+
		`{"key":"ksml.error.handler","value":"process"},{"key":"ksml.error.message","value":"amount must be positive"},{"key":"ksml.error.node","value":"ns_pipelines_p_filter"}],`+
		`"error":{"handler":"process","message":"amount must be positive","node":"ns_pipelines_p_filter"}}]}`)
	if code, body := get(t, c, "/console/api/topics/orders/records?limit=0"); code != http.StatusBadRequest || body != "limit: want a number from 1 to 500\n" {
		t.Errorf("limit=0: %d %q", code, body)
	}
	if code, _ := get(t, c, "/console/api/topics/nope/records"); code != http.StatusNotFound {
		t.Errorf("unknown topic: %d, want 404", code)
	}
}
