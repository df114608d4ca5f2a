package kafkaio_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// BenchmarkEngineCopy measures the engine's own cost per record on kfake:
// b.N records are waiting in "in" when the engine starts; the clock stops
// when all copies are in "out". Client and broker share the machine, so
// compare numbers of one run, not across machines.
func BenchmarkEngineCopy(b *testing.B) {
	br, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.BootstrapServers()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(context.Background(), 1, -1, nil, "in"); err != nil {
		b.Fatal(err)
	}
	value := []byte(`{"id":"o-1","customer":"c-7","amount":19.5,"items":["book","pen"]}`)
	for i := 0; i < b.N; i++ {
		cl.Produce(context.Background(), &kgo.Record{Topic: "in", Key: []byte(fmt.Sprintf("k%d", i%1000)), Value: value}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	topo := streams.NewTopology("bench")
	s := stringSerde{}
	if err := topo.AddSource("in", []string{"in"}, streams.SourceOptions{KeySerde: s, ValueSerde: s}); err != nil {
		b.Fatal(err)
	}
	if err := topo.AddSink("out", "out", streams.SinkOptions{KeySerde: s, ValueSerde: s}, "in"); err != nil {
		b.Fatal(err)
	}
	kc, err := kafkaclient.FromProperties(map[string]string{"bootstrap.servers": br.BootstrapServers(), "application.id": "bench"}, kafkaclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := kafkaio.New(kafkaio.Options{Topology: topo, Client: kc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	for {
		ends, err := adm.ListEndOffsets(context.Background(), "out")
		if err == nil {
			if o, ok := ends.Lookup("out", 0); ok && o.Offset >= int64(b.N) {
				break
			}
		}
		select {
		case err := <-done:
			b.Fatalf("engine stopped: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
