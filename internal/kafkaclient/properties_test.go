package kafkaclient

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func mapProps(t *testing.T, props map[string]string) *Config {
	t.Helper()
	c, err := FromProperties(props, Options{})
	if err != nil {
		t.Fatalf("FromProperties: %v", err)
	}
	return c
}

// client builds (without connecting) a client from opts, to read back
// what the options set.
func client(t *testing.T, opts []kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func expectOpt(t *testing.T, cl *kgo.Client, name string, opt any, want any) {
	t.Helper()
	if got := cl.OptValue(opt); !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", name, got, want)
	}
}

func TestDefaultsFollowKafkaStreams(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "orders-app", "bootstrap.servers": "k1:9092, k2:9092"})
	if !reflect.DeepEqual(c.Bootstrap, []string{"k1:9092", "k2:9092"}) || c.ApplicationID != "orders-app" || c.ClientID != "orders-app" || c.GroupInstanceID != "" {
		t.Errorf("identity = %+v", c)
	}
	if c.CommitInterval != 30*time.Second || c.ProcessingGuarantee != AtLeastOnce || c.MaxPollRecords != 1000 ||
		c.AutoOffsetReset != ResetEarliest || c.ReplicationFactor != -1 || len(c.Ignored) != 0 {
		t.Errorf("engine settings = %+v", c)
	}
	cl := client(t, c.ClientOpts())
	expectOpt(t, cl, "SeedBrokers", kgo.SeedBrokers, []string{"k1:9092", "k2:9092"})
	expectOpt(t, cl, "ClientID", kgo.ClientID, "orders-app")
	expectOpt(t, cl, "ConsumerGroup", kgo.ConsumerGroup, "orders-app")
	expectOpt(t, cl, "DisableAutoCommit", kgo.DisableAutoCommit, true)
	expectOpt(t, cl, "ConsumeResetOffset", kgo.ConsumeResetOffset, kgo.NewOffset().AtStart())
	expectOpt(t, cl, "RequiredAcks", kgo.RequiredAcks, kgo.AllISRAcks())
	expectOpt(t, cl, "DisableIdempotentWrite", kgo.DisableIdempotentWrite, false)
	expectOpt(t, cl, "FetchIsolationLevel", kgo.FetchIsolationLevel, int8(0))
	expectOpt(t, cl, "DialTLSConfig", kgo.DialTLSConfig, (*tls.Config)(nil))
}

func TestEveryMappedProperty(t *testing.T) {
	c := mapProps(t, map[string]string{
		"application.id":            "app",
		"bootstrap.servers":         "b:9092",
		"client.id":                 "my-client",
		"group.instance.id":         "instance-1",
		"acks":                      "1",
		"linger.ms":                 "5",
		"max.request.size":          "65536",
		"buffer.memory":             "1048576",
		"compression.type":          "zstd",
		"delivery.timeout.ms":       "60000",
		"retries":                   "7",
		"request.timeout.ms":        "15000",
		"max.poll.records":          "250",
		"fetch.min.bytes":           "10",
		"fetch.max.bytes":           "2097152",
		"fetch.max.wait.ms":         "200",
		"max.partition.fetch.bytes": "524288",
		"isolation.level":           "read_committed",
		"auto.offset.reset":         "latest",
		"session.timeout.ms":        "10000",
		"heartbeat.interval.ms":     "1000",
		"max.poll.interval.ms":      "120000",
		"commit.interval.ms":        "500",
		"metadata.max.age.ms":       "30000",
		"replication.factor":        "3",
		"security.protocol":         "plaintext",
	})
	if c.ClientID != "my-client" || c.GroupInstanceID != "instance-1" || c.MaxPollRecords != 250 ||
		c.CommitInterval != 500*time.Millisecond || c.AutoOffsetReset != ResetLatest || c.ReplicationFactor != 3 {
		t.Errorf("settings = %+v", c)
	}
	cl := client(t, c.ClientOpts())
	expectOpt(t, cl, "ClientID", kgo.ClientID, "my-client")
	expectOpt(t, cl, "InstanceID", kgo.InstanceID, "instance-1")
	expectOpt(t, cl, "RequiredAcks", kgo.RequiredAcks, kgo.LeaderAck())
	expectOpt(t, cl, "DisableIdempotentWrite", kgo.DisableIdempotentWrite, true)
	expectOpt(t, cl, "ProducerLinger", kgo.ProducerLinger, 5*time.Millisecond)
	expectOpt(t, cl, "ProducerBatchMaxBytes", kgo.ProducerBatchMaxBytes, int32(65536))
	if c.MaxRecordBytes != 65536 {
		t.Errorf("MaxRecordBytes = %d", c.MaxRecordBytes)
	}
	expectOpt(t, cl, "MaxBufferedBytes", kgo.MaxBufferedBytes, int64(1048576))
	expectOpt(t, cl, "ProducerBatchCompression", kgo.ProducerBatchCompression, []kgo.CompressionCodec{kgo.ZstdCompression()})
	expectOpt(t, cl, "RecordDeliveryTimeout", kgo.RecordDeliveryTimeout, time.Minute)
	expectOpt(t, cl, "RecordRetries", kgo.RecordRetries, int64(7))
	expectOpt(t, cl, "ProduceRequestTimeout", kgo.ProduceRequestTimeout, 15*time.Second)
	expectOpt(t, cl, "FetchMinBytes", kgo.FetchMinBytes, int32(10))
	expectOpt(t, cl, "FetchMaxBytes", kgo.FetchMaxBytes, int32(2097152))
	expectOpt(t, cl, "FetchMaxWait", kgo.FetchMaxWait, 200*time.Millisecond)
	expectOpt(t, cl, "FetchMaxPartitionBytes", kgo.FetchMaxPartitionBytes, int32(524288))
	expectOpt(t, cl, "FetchIsolationLevel", kgo.FetchIsolationLevel, int8(1))
	expectOpt(t, cl, "ConsumeResetOffset", kgo.ConsumeResetOffset, kgo.NewOffset().AtEnd())
	expectOpt(t, cl, "SessionTimeout", kgo.SessionTimeout, 10*time.Second)
	expectOpt(t, cl, "HeartbeatInterval", kgo.HeartbeatInterval, time.Second)
	expectOpt(t, cl, "RebalanceTimeout", kgo.RebalanceTimeout, 2*time.Minute)
	expectOpt(t, cl, "MetadataMaxAge", kgo.MetadataMaxAge, 30*time.Second)
}

func TestExactlyOnceV2(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "processing.guarantee": "exactly_once_v2", "isolation.level": "read_uncommitted"})
	if c.ProcessingGuarantee != ExactlyOnceV2 || c.CommitInterval != 100*time.Millisecond {
		t.Errorf("guarantee %s, commit interval %v", c.ProcessingGuarantee, c.CommitInterval)
	}
	expectOpt(t, client(t, c.ConsumerOpts()), "FetchIsolationLevel", kgo.FetchIsolationLevel, int8(1))
	c = mapProps(t, map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "processing.guarantee": "exactly_once_v2", "commit.interval.ms": "1000"})
	if c.CommitInterval != time.Second {
		t.Errorf("explicit commit interval: %v", c.CommitInterval)
	}
}

func TestEmbeddedBrokerBootstrap(t *testing.T) {
	c, err := FromProperties(map[string]string{"application.id": "a"}, Options{Bootstrap: "127.0.0.1:9092"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Bootstrap, []string{"127.0.0.1:9092"}) {
		t.Errorf("bootstrap = %v", c.Bootstrap)
	}
}

func TestPrefixedAndIgnoredProperties(t *testing.T) {
	c := mapProps(t, map[string]string{
		"application.id":                  "a",
		"bootstrap.servers":               "b:1",
		"producer.linger.ms":              "20",
		"main.consumer.fetch.max.wait.ms": "300",
		"state.dir":                       "/tmp/x",
		"schema.registry.url":             "http://sr",
		"ssl.truststore.location":         "/unused/without/ssl",
		"some.unknown.property":           "x",
	})
	cl := client(t, c.ClientOpts())
	expectOpt(t, cl, "ProducerLinger", kgo.ProducerLinger, 20*time.Millisecond)
	expectOpt(t, cl, "FetchMaxWait", kgo.FetchMaxWait, 300*time.Millisecond)
	if want := []string{"some.unknown.property", "ssl.truststore.location", "state.dir"}; !reflect.DeepEqual(c.Ignored, want) {
		t.Errorf("ignored = %v, want %v", c.Ignored, want)
	}
}

func TestPropertyErrors(t *testing.T) {
	_, err := FromProperties(map[string]string{
		"bootstrap.servers":    "",
		"acks":                 "most",
		"linger.ms":            "soon",
		"max.request.size":     "100",
		"compression.type":     "brotli",
		"auto.offset.reset":    "beginning",
		"isolation.level":      "dirty",
		"processing.guarantee": "exactly_once",
		"security.protocol":    "TLS",
		"replication.factor":   "0",
		"enable.idempotence":   "maybe",
		"fetch.max.bytes":      "99999999999",
	}, Options{})
	want := strings.Join([]string{
		`kafka.acks: "most" is not one of all, -1, 1, 0`,
		`kafka.application.id: is required`,
		`kafka.auto.offset.reset: "beginning" is not one of earliest, latest, none`,
		`kafka.bootstrap.servers: is required (no embedded broker address was given)`,
		`kafka.compression.type: "brotli" is not one of none, gzip, snappy, lz4, zstd`,
		`kafka.enable.idempotence: "maybe" is not true or false`,
		`kafka.fetch.max.bytes: 99999999999 is too large`,
		`kafka.isolation.level: "dirty" is not one of read_uncommitted, read_committed`,
		`kafka.linger.ms: "soon" is not an integer`,
		`kafka.max.request.size: 100 is below the minimum 512`,
		`kafka.processing.guarantee: exactly_once was removed in Kafka 4.0; use exactly_once_v2`,
		`kafka.replication.factor: must be -1 (broker default) or at least 1`,
		`kafka.security.protocol: "TLS" is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	if _, ok := err.(Errors); !ok {
		t.Errorf("error type %T, want Errors", err)
	}
}

func TestParseJAAS(t *testing.T) {
	e, err := parseJAAS(`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="p@ss \"quoted\" \\ end" extra=bare;`)
	if err != nil {
		t.Fatal(err)
	}
	if e.module != "org.apache.kafka.common.security.plain.PlainLoginModule" || e.flag != "required" {
		t.Errorf("entry = %+v", e)
	}
	if want := map[string]string{"username": "alice", "password": `p@ss "quoted" \ end`, "extra": "bare"}; !reflect.DeepEqual(e.options, want) {
		t.Errorf("options = %v", e.options)
	}
	bad := map[string]string{
		``:                              "missing login module class",
		`Mod`:                           "missing control flag after Mod (want required)",
		`Mod maybe a="b";`:              `control flag "maybe" is not one of required, requisite, sufficient, optional`,
		`Mod required a="b"`:            "missing ; at the end",
		`Mod required a;`:               "expected = after option a",
		`Mod required a="b;`:            "option a: unterminated quoted value",
		`Mod required a=;`:              "option a: missing value",
		`Mod required; Other required;`: "only one login module entry is supported; found more after ;",
	}
	for in, want := range bad {
		if _, err := parseJAAS(in); err == nil || err.Error() != want {
			t.Errorf("parseJAAS(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestSASLErrors(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "security.protocol": "SASL_SSL"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		props map[string]string
		want  string
	}{
		{base(nil), "kafka.sasl.mechanism: GSSAPI (Kerberos) is not supported; set sasl.mechanism to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{base(map[string]string{"sasl.mechanism": "OAUTHBEARER"}), "kafka.sasl.mechanism: OAUTHBEARER is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{base(map[string]string{"sasl.mechanism": "PLAIN"}), `kafka.sasl.jaas.config: is required for sasl.mechanism PLAIN, for example: org.apache.kafka.common.security.plain.PlainLoginModule required username="..." password="...";`},
		{base(map[string]string{"sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`}),
			"kafka.sasl.jaas.config: login module org.apache.kafka.common.security.plain.PlainLoginModule does not match sasl.mechanism SCRAM-SHA-512 (want org.apache.kafka.common.security.scram.ScramLoginModule)"},
		{base(map[string]string{"sasl.mechanism": "PLAIN", "sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u";`}),
			"kafka.sasl.jaas.config: needs username and password options"},
	}
	for _, c := range cases {
		_, err := FromProperties(c.props, Options{})
		if err == nil || err.Error() != c.want {
			t.Errorf("props %v:\n got  %v\n want %s", c.props, err, c.want)
		}
	}
}

func TestIgnoredPropertiesAreLoggedOnceWithTheirReason(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Logging is once per process, so each run of the test needs property
	// names of its own; unprefixed known names are logged once for good.
	name := fmt.Sprintf("only.logged.once.property.%d", time.Now().UnixNano())
	props := map[string]string{"application.id": "a", "bootstrap.servers": "b:1", name: "1", "topic.num.standby.replicas": "4"}
	for range 3 {
		if _, err := FromProperties(props, Options{Logger: logger}); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if got := strings.Count(out, "property="+name); got != 1 || !strings.Contains(out, `level=WARN msg="unknown Kafka property; it has no effect" property=`+name) {
		t.Errorf("unknown property logged %d times:\n%s", got, out)
	}
	// A known property is logged at info with its reason, at most once per
	// process (an earlier test run in this process may have logged it).
	if n := strings.Count(out, "property=topic.num.standby.replicas"); n > 1 ||
		n == 1 && !strings.Contains(out, `level=INFO msg="Kafka property has no effect" property=topic.num.standby.replicas reason="ksml has no standby tasks; state is restored from the changelogs"`) {
		t.Errorf("known property logged %d times:\n%s", n, out)
	}
}

func TestNumStreamThreads(t *testing.T) {
	for in, want := range map[string]int{"": 1, "1": 1, "2": 2, "64": 64} {
		props := map[string]string{"application.id": "a", "bootstrap.servers": "b:1"}
		if in != "" {
			props["num.stream.threads"] = in
		}
		c, err := FromProperties(props, Options{})
		if err != nil || c.NumStreamThreads != want {
			t.Errorf("num.stream.threads %q: %d, %v; want %d", in, c.NumStreamThreads, err, want)
		}
	}
	for in, want := range map[string]string{
		"0":  "kafka.num.stream.threads: 0 is below the minimum 1",
		"65": "kafka.num.stream.threads: 65 is above the maximum 64",
		"x":  `kafka.num.stream.threads: "x" is not an integer`,
	} {
		_, err := FromProperties(map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "num.stream.threads": in}, Options{})
		if err == nil || err.Error() != want {
			t.Errorf("num.stream.threads %q: %v, want %s", in, err, want)
		}
	}
}

// Upstream's Helm chart declares Kafka's env config provider; the runner
// configuration has resolved its ${env:NAME} references by the time the
// properties get here, so the declaration has taken effect. Anything the
// env references cannot honour is an error.
func TestConfigProviders(t *testing.T) {
	base := map[string]string{"application.id": "a", "bootstrap.servers": "k:9092"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c, err := FromProperties(with(map[string]string{
		"config.providers":            "env",
		"config.providers.env.class":  "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
	}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"config.providers", "config.providers.env.class"} {
		if !slices.Contains(c.Applied, k) {
			t.Errorf("%s not applied: applied %v, ignored %v", k, c.Applied, c.Ignored)
		}
	}
	if !reflect.DeepEqual(c.Ignored, []string{"config.providers.file.class"}) {
		t.Errorf("ignored = %v, want the undeclared provider's class", c.Ignored)
	}
	for _, tc := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"config.providers": "file", "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider"},
			`kafka.config.providers.file.class: "org.apache.kafka.common.config.provider.FileConfigProvider" is not supported: ksml resolves only Kafka's org.apache.kafka.common.config.provider.EnvVarConfigProvider, written ${file:NAME} in the runner configuration`},
		{map[string]string{"config.providers": "env"},
			"kafka.config.providers: provider env has no config.providers.env.class (ksml supports org.apache.kafka.common.config.provider.EnvVarConfigProvider)"},
		{map[string]string{"config.providers": "env", "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider", "config.providers.env.param.allowlist.pattern": "^KSML_.*"},
			"kafka.config.providers.env.param.allowlist.pattern: is not supported: ksml resolves ${env:NAME} from any environment variable, with no parameters"},
	} {
		_, err := FromProperties(with(tc.props), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("FromProperties(%v) error = %v\nwant %s", tc.props, err, tc.want)
		}
	}
}
