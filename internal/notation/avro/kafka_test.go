package avro

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/types"
)

// Records written by the serdes travel through a real broker (kfake) with
// franz-go: Confluent framing in the payload, the Apicurio id in a record
// header, and a corrupt record whose error carries its partition and offset.
func TestThroughKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{}))
	defer srv.Close()
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	ccfg, _ := schemaregistry.ConfluentConfig(map[string]any{"schema.registry.url": srv.URL})
	conf, _ := schemaregistry.NewConfluent(ccfg)
	confluent, _ := newNotation(t, Confluent, conf, dir, nil).SerdeFor("Event", "events", false)
	acfg, _ := schemaregistry.ApicurioConfig(map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3"})
	ap, _ := schemaregistry.NewApicurio(acfg)
	apicurio, _ := newNotation(t, Apicurio, ap, dir, map[string]any{"apicurio.registry.headers.enabled": true}).SerdeFor("Event", "events", false)

	value := st("id", "k", "count", int64(2), "kind", "A", "legacy", "x", "tags", []any{"a"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v1, err := confluent.Serialize("events", nil, value)
	if err != nil {
		t.Fatal(err)
	}
	var hs []notation.Header
	v2, err := apicurio.Serialize("events", &hs, value)
	if err != nil {
		t.Fatal(err)
	}
	var headers []kgo.RecordHeader
	for _, h := range hs {
		headers = append(headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	recs := []*kgo.Record{
		{Topic: "events", Value: v1},
		{Topic: "events", Value: v2, Headers: headers},
		{Topic: "events", Value: []byte{0, 0, 0, 0, 1, 0x02}},
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var got []*kgo.Record
	for len(got) < 3 {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fetches.Records()...)
	}
	want := st("id", "k", "count", int64(2), "kind", "A", "legacy", "x", "tags", []any{"a"})
	want.Schema = &types.StructSchema{Name: "evo.Event"}
	out, err := confluent.Deserialize("events", nil, got[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, out, want)
	var rh []notation.Header
	for _, h := range got[1].Headers {
		rh = append(rh, notation.Header{Key: h.Key, Value: h.Value})
	}
	out, err = apicurio.Deserialize("events", rh, got[1].Value)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, out, want)
	_, err = confluent.Deserialize("events", nil, got[2].Value)
	var se *SerdeError
	if !errors.As(err, &se) {
		t.Fatalf("corrupt record: err = %v", err)
	}
	se.SetPosition(got[2].Partition, got[2].Offset)
	if msg := se.Error(); !strings.HasPrefix(msg, "avro deserialize: topic events, partition 0, offset 2, field id: ") || !strings.Contains(msg, "unexpected end of Avro data") {
		t.Fatalf("corrupt record error = %s", msg)
	}
}
