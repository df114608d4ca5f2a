package kafkaclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// samples gives every property that takes effect a valid value that
// differs from the default, and the base properties it needs.
var samples = map[string]struct {
	value string
	eos   bool // needs processing.guarantee exactly_once_v2
}{
	"client.id":                             {value: "c1"},
	"group.instance.id":                     {value: "i1"},
	"metadata.max.age.ms":                   {value: "1234"},
	"socket.connection.setup.timeout.ms":    {value: "1234"},
	"connections.max.idle.ms":               {value: "1234"},
	"retry.backoff.ms":                      {value: "1234"},
	"request.timeout.ms":                    {value: "1234"},
	"allow.auto.create.topics":              {value: "true"},
	"enable.metrics.push":                   {value: "false"},
	"enable.idempotence":                    {value: "false"},
	"acks":                                  {value: "1"},
	"max.in.flight.requests.per.connection": {value: "3"}, // with enable.idempotence=false, see below
	"linger.ms":                             {value: "77"},
	"max.request.size":                      {value: "2097152"},
	"buffer.memory":                         {value: "123456"},
	"compression.type":                      {value: "lz4"},
	"delivery.timeout.ms":                   {value: "45000"},
	"retries":                               {value: "3"},
	"transaction.timeout.ms":                {value: "20000", eos: true},
	"session.timeout.ms":                    {value: "12000"},
	"heartbeat.interval.ms":                 {value: "1500"},
	"max.poll.interval.ms":                  {value: "90000"},
	"fetch.min.bytes":                       {value: "10"},
	"fetch.max.bytes":                       {value: "12345"},
	"fetch.max.wait.ms":                     {value: "250"},
	"max.partition.fetch.bytes":             {value: "54321"},
	"max.poll.records":                      {value: "17"},
	"auto.offset.reset":                     {value: "latest"},
	"isolation.level":                       {value: "read_committed"},
	"processing.guarantee":                  {value: "exactly_once_v2"},
	"commit.interval.ms":                    {value: "777"},
	"task.timeout.ms":                       {value: "60000"},
	"max.task.idle.ms":                      {value: "500"},
	"num.stream.threads":                    {value: "2"},
	"buffered.records.per.partition":        {value: "77"},
	"replication.factor":                    {value: "3"},
	"client.rack":                           {value: "rack-a"},
	"security.protocol":                     {value: "SSL"},
	"axual.group.id.pattern":                {value: "{group.id}-x"},
	"axual.transactional.id.pattern":        {value: "{transactional.id}-x"},
}

// fingerprint renders everything a Config makes a client or the engine do.
func fingerprint(t *testing.T, c *Config) string {
	t.Helper()
	cl := client(t, c.ClientOpts())
	var b strings.Builder
	for _, o := range []struct {
		name string
		opt  any
	}{
		{"ClientID", kgo.ClientID}, {"InstanceID", kgo.InstanceID}, {"MetadataMaxAge", kgo.MetadataMaxAge},
		{"DialTimeout", kgo.DialTimeout}, {"ConnIdleTimeout", kgo.ConnIdleTimeout}, {"ProduceRequestTimeout", kgo.ProduceRequestTimeout},
		{"AllowAutoTopicCreation", kgo.AllowAutoTopicCreation}, {"DisableClientMetrics", kgo.DisableClientMetrics}, {"DisableIdempotentWrite", kgo.DisableIdempotentWrite},
		{"RequiredAcks", kgo.RequiredAcks}, {"MaxProduceRequestsInflightPerBroker", kgo.MaxProduceRequestsInflightPerBroker},
		{"ProducerLinger", kgo.ProducerLinger}, {"ProducerBatchMaxBytes", kgo.ProducerBatchMaxBytes},
		{"MaxBufferedBytes", kgo.MaxBufferedBytes}, {"ProducerBatchCompression", kgo.ProducerBatchCompression},
		{"RecordDeliveryTimeout", kgo.RecordDeliveryTimeout}, {"RecordRetries", kgo.RecordRetries},
		{"TransactionTimeout", kgo.TransactionTimeout}, {"SessionTimeout", kgo.SessionTimeout},
		{"HeartbeatInterval", kgo.HeartbeatInterval}, {"RebalanceTimeout", kgo.RebalanceTimeout},
		{"FetchMinBytes", kgo.FetchMinBytes}, {"FetchMaxBytes", kgo.FetchMaxBytes}, {"FetchMaxWait", kgo.FetchMaxWait},
		{"FetchMaxPartitionBytes", kgo.FetchMaxPartitionBytes}, {"ConsumeResetOffset", kgo.ConsumeResetOffset},
		{"FetchIsolationLevel", kgo.FetchIsolationLevel}, {"Rack", kgo.Rack}, {"ConsumerGroup", kgo.ConsumerGroup},
		{"DialTLSConfig", kgo.DialTLSConfig},
	} {
		fmt.Fprintf(&b, "%s=%v\n", o.name, cl.OptValue(o.opt))
	}
	// RetryBackoffFn is a function: render what it returns.
	if fn, ok := cl.OptValue(kgo.RetryBackoffFn).(func(int) time.Duration); ok && fn != nil {
		fmt.Fprintf(&b, "RetryBackoff=%v\n", fn(1))
	}
	fmt.Fprintf(&b, "engine: guarantee=%s commit=%v poll=%d reset=%s rf=%d task=%v idle=%d buffered=%d rc=%v maxRecord=%d txn=%v txnid=%s group=%s threads=%d\n",
		c.ProcessingGuarantee, c.CommitInterval, c.MaxPollRecords, c.AutoOffsetReset, c.ReplicationFactor, c.TaskTimeout,
		c.MaxTaskIdleMs, c.BufferedRecordsPerPartition, c.ReadCommitted,
		c.MaxRecordBytes, c.TransactionTimeout, c.Resolver.TransactionalID("x"), c.GroupID, c.NumStreamThreads)
	return b.String()
}

// TestEveryPropertyTakesEffectOrIsReported walks the full list of
// properties ksml knows: each one that takes effect changes what the
// clients or the engine do and is listed in Config.Applied; each one
// without effect is listed in Config.Ignored with a reason; nothing else
// is accepted silently.
func TestEveryPropertyTakesEffectOrIsReported(t *testing.T) {
	applied := AppliedProperties()
	// application.id and bootstrap.servers are in every base; the ssl.*
	// and sasl.* settings are walked by the TLS and SASL tests against a
	// broker (security_test.go).
	var walked []string
	for _, k := range applied {
		if k != "application.id" && k != "bootstrap.servers" && !strings.HasPrefix(k, "ssl.") && !strings.HasPrefix(k, "sasl.") {
			walked = append(walked, k)
		}
	}
	if got := sortedKeys(samples); !reflect.DeepEqual(got, walked) {
		t.Fatalf("the samples cover %v,\nthe package applies %v", got, walked)
	}
	pki := newPKI(t)
	for _, key := range walked {
		s := samples[key]
		base := map[string]string{"application.id": "app", "bootstrap.servers": "b:1"}
		if s.eos {
			base["processing.guarantee"] = "exactly_once_v2"
		}
		with := map[string]string{key: s.value}
		switch key {
		case "max.in.flight.requests.per.connection":
			base["enable.idempotence"] = "false"
		case "security.protocol":
			with["ssl.truststore.location"] = pki.caFile
			base["ssl.truststore.location"] = pki.caFile
		}
		for k, v := range base {
			if _, set := with[k]; !set {
				with[k] = v
			}
		}
		c0, err := FromProperties(base, Options{})
		if err != nil {
			t.Fatalf("%s: base: %v", key, err)
		}
		c1, err := FromProperties(with, Options{})
		if err != nil {
			t.Errorf("%s=%s: %v", key, s.value, err)
			continue
		}
		if fingerprint(t, c0) == fingerprint(t, c1) {
			t.Errorf("%s=%s changes nothing", key, s.value)
		}
		if !contains(c1.Applied, key) {
			t.Errorf("%s=%s is not listed as applied: %v (ignored %v)", key, s.value, c1.Applied, c1.Ignored)
		}
	}
	// Every property without effect has a reason and is reported, also
	// with a client prefix.
	for key, reason := range noEffect {
		if reason == "" {
			t.Errorf("%s has no reason", key)
		}
		if contains(applied, key) {
			t.Errorf("%s is both applied and without effect", key)
		}
		for _, k := range []string{key, "producer." + key} {
			c, err := FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1", k: "1"}, Options{})
			if err != nil {
				t.Errorf("%s: %v", k, err)
				continue
			}
			if !reflect.DeepEqual(c.Ignored, []string{k}) || len(c.Applied) != 2 {
				t.Errorf("%s: applied %v, ignored %v", k, c.Applied, c.Ignored)
			}
		}
	}
}

func TestKafkaStreamsOwnedValuesAreReplaced(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "enable.auto.commit": "true",
		"group.id": "other", "transactional.id": "tx", "processing.guarantee": "exactly_once_v2", "isolation.level": "read_uncommitted",
		"enable.idempotence": "false"})
	if want := []string{"enable.auto.commit", "enable.idempotence", "group.id", "isolation.level", "transactional.id"}; !reflect.DeepEqual(c.Overridden, want) {
		t.Errorf("overridden = %v, want %v", c.Overridden, want)
	}
	cl := client(t, c.ClientOpts())
	expectOpt(t, cl, "ConsumerGroup", kgo.ConsumerGroup, "app")
	expectOpt(t, cl, "DisableIdempotentWrite", kgo.DisableIdempotentWrite, false)
	expectOpt(t, cl, "FetchIsolationLevel", kgo.FetchIsolationLevel, int8(1))
}

func TestExactlyOnceProducerDefaults(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "processing.guarantee": "exactly_once_v2"})
	if c.TransactionTimeout != 10*time.Second {
		t.Errorf("transaction timeout %v, want Kafka Streams' 10s", c.TransactionTimeout)
	}
	expectOpt(t, client(t, c.ClientOpts()), "TransactionTimeout", kgo.TransactionTimeout, 10*time.Second)
	expectOpt(t, client(t, c.ClientOpts()), "RecordDeliveryTimeout", kgo.RecordDeliveryTimeout, time.Duration(0))
	_, err := FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "processing.guarantee": "exactly_once_v2",
		"commit.interval.ms": "20000"}, Options{})
	want := "kafka.transaction.timeout.ms: 10000 is below commit.interval.ms 20000: every transaction would time out before it commits; raise transaction.timeout.ms or lower commit.interval.ms"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "processing.guarantee": "exactly_once_v2", "acks": "1"}, Options{})
	if want := "kafka.acks: 1 cannot be used with processing.guarantee exactly_once_v2, which needs acks=all"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	c = mapProps(t, map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "transaction.timeout.ms": "5000"})
	if c.TransactionTimeout != 0 || !reflect.DeepEqual(c.Ignored, []string{"transaction.timeout.ms"}) {
		t.Errorf("at_least_once: transaction timeout %v, ignored %v", c.TransactionTimeout, c.Ignored)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBatchSizeIsNotARecordLimit produces a 20 KB record with the Java
// default batch.size 16384: it is sent (in a batch of its own), and only a
// record above max.request.size is refused.
func TestBatchSizeIsNotARecordLimit(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "big"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	c := mapProps(t, map[string]string{"application.id": "app", "bootstrap.servers": cluster.ListenAddrs()[0],
		"batch.size": "16384", "max.request.size": "65536"})
	cl := client(t, c.ProducerOpts())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	value := bytes.Repeat([]byte("x"), 20*1024)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: value}, &kgo.Record{Topic: "big", Value: []byte("small")}).FirstErr(); err != nil {
		t.Fatalf("20 KB record with batch.size 16384: %v", err)
	}
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: bytes.Repeat([]byte("x"), 70*1024)}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("70 KB record with max.request.size 65536: %v, want MESSAGE_TOO_LARGE", err)
	}
	fs := client(t, []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()[0]), kgo.ConsumeTopics("big"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}).PollFetches(ctx)
	if recs := fs.Records(); len(recs) != 2 || !bytes.Equal(recs[0].Value, value) || string(recs[1].Value) != "small" {
		t.Fatalf("consumed %d records, errors %v", len(recs), fs.Errors())
	}
}
