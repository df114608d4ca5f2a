// Package kafkaclient turns the runner's `kafka` properties (Java Kafka
// client and Kafka Streams property names) into franz-go client options,
// and provides the co-partitioning group balancer the streams engine's
// consumer group uses.
//
// FromProperties maps what franz-go can honour (bootstrap servers, client
// and instance ids, TLS and SASL, producer and fetch tuning, group
// timeouts, offset reset, isolation level) and returns the settings the
// engine itself applies (commit interval, processing guarantee, poll size,
// internal topic replication, Axual naming patterns). Values that are wrong are errors naming the
// property; properties franz-go has no use for are ignored, and unknown
// ones are logged once at debug, the way Kafka clients warn about them.
//
// Axual naming patterns (axual.topic.pattern, axual.group.id.pattern,
// axual.transactional.id.pattern, or their deprecated spellings without
// "axual.") become a Resolver; the consumer group is resolved here, topic
// names by the engine.
//
// TLS material must be PEM: ssl.truststore.type and ssl.keystore.type PEM,
// as files (ssl.truststore.location, ssl.keystore.location) or inline
// (ssl.truststore.certificates, ssl.keystore.certificate.chain with
// ssl.keystore.key). JKS and PKCS12 stores, encrypted private keys and
// SASL GSSAPI (Kerberos) and OAUTHBEARER are not supported and are
// reported as errors that say how to convert.
package kafkaclient

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ProcessingGuarantee is Kafka Streams' processing.guarantee.
type ProcessingGuarantee string

// The supported guarantees.
const (
	AtLeastOnce   ProcessingGuarantee = "at_least_once"
	ExactlyOnceV2 ProcessingGuarantee = "exactly_once_v2"
)

// OffsetReset is auto.offset.reset: where a group starts without a
// committed offset.
type OffsetReset string

// The reset policies.
const (
	ResetEarliest OffsetReset = "earliest"
	ResetLatest   OffsetReset = "latest"
	ResetNone     OffsetReset = "none"
)

// Kafka Streams' defaults for the settings the engine applies.
const (
	DefaultCommitInterval    = 30 * time.Second       // at_least_once
	DefaultCommitIntervalEOS = 100 * time.Millisecond // exactly_once_v2
	DefaultMaxPollRecords    = 1000
)

// Config is the result of FromProperties.
type Config struct {
	// ApplicationID is application.id: the group id and the prefix of
	// internal topics.
	ApplicationID string
	// Bootstrap lists the seed brokers.
	Bootstrap []string
	// ClientID is client.id, defaulting to the application id.
	ClientID string
	// GroupInstanceID is group.instance.id (static membership); empty if
	// unset.
	GroupInstanceID string
	// GroupID is the consumer group: the application id, resolved by
	// axual.group.id.pattern when set.
	GroupID string
	// Resolver maps topic names, the group id and transactional ids by
	// the Axual naming patterns (axual.topic.pattern and friends); nil
	// when none is configured (a nil Resolver maps names to themselves).
	// The engine resolves the topics it uses; GroupID is already resolved.
	Resolver *Resolver

	// Common holds the options every client needs: seed brokers, client
	// id, TLS, SASL and connection settings. Producer and Consumer hold
	// the rest; use the ProducerOpts, ConsumerOpts and AdminOpts methods.
	Common   []kgo.Opt
	Producer []kgo.Opt
	// Consumer holds the consumer group options: the group (application
	// id), instance id, group timeouts, fetch settings, isolation level,
	// offset reset, and disabled auto-commit (the engine commits). It does
	// not choose topics or a balancer.
	Consumer []kgo.Opt

	// CommitInterval is commit.interval.ms, defaulting as Kafka Streams.
	CommitInterval time.Duration
	// ProcessingGuarantee is processing.guarantee (default at_least_once).
	ProcessingGuarantee ProcessingGuarantee
	// MaxPollRecords is max.poll.records, for PollRecords.
	MaxPollRecords int
	// AutoOffsetReset is auto.offset.reset (Kafka Streams' default is
	// earliest); it is already applied in Consumer.
	AutoOffsetReset OffsetReset
	// ReplicationFactor is replication.factor for internal topics; -1
	// (the default) means the broker default.
	ReplicationFactor int
	// MaxTaskIdleMs is max.task.idle.ms (Kafka Streams' default 0; -1
	// never waits for empty partitions).
	MaxTaskIdleMs int64
	// BufferedRecordsPerPartition is buffered.records.per.partition
	// (default 1000).
	BufferedRecordsPerPartition int
	// ReadCommitted is true when the consumer reads read_committed (always
	// under exactly_once_v2).
	ReadCommitted bool
	// Ignored lists the properties that had no effect, sorted.
	Ignored []string
}

// ProducerOpts returns the options of a producing client.
func (c *Config) ProducerOpts() []kgo.Opt { return concat(c.Common, c.Producer) }

// ConsumerOpts returns the options of a group consuming client; the caller
// adds topics and the balancer.
func (c *Config) ConsumerOpts() []kgo.Opt { return concat(c.Common, c.Consumer) }

// AdminOpts returns the options of an admin client.
func (c *Config) AdminOpts() []kgo.Opt { return concat(c.Common, nil) }

// ClientOpts returns the options of one client that both produces and
// consumes in the group, as the streams engine's client does.
func (c *Config) ClientOpts() []kgo.Opt { return concat(concat(c.Common, c.Producer), c.Consumer) }

func concat(a, b []kgo.Opt) []kgo.Opt {
	out := make([]kgo.Opt, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// Options tune FromProperties.
type Options struct {
	// Bootstrap is used when the properties have no bootstrap.servers,
	// typically the embedded broker's address.
	Bootstrap string
	// Logger receives the debug line about ignored properties; nil means
	// slog.Default().
	Logger *slog.Logger
}

// PropertyError is a property with a value that cannot be used.
type PropertyError struct {
	Key string
	Msg string
}

func (e PropertyError) Error() string { return "kafka." + e.Key + ": " + e.Msg }

// Errors is every PropertyError of one FromProperties call, sorted by key.
type Errors []PropertyError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// mapper accumulates options and errors while reading properties.
type mapper struct {
	props map[string]string
	cfg   *Config
	errs  Errors
	used  map[string]bool
}

func (m *mapper) errf(key, format string, args ...any) {
	m.errs = append(m.errs, PropertyError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// get returns a property and marks it used.
func (m *mapper) get(key string) (string, bool) {
	v, ok := m.props[key]
	if ok {
		m.used[key] = true
	}
	return strings.TrimSpace(v), ok
}

func (m *mapper) integer(key string, min int64) (int64, bool) {
	v, ok := m.get(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		m.errf(key, "%q is not an integer", v)
		return 0, false
	}
	if n < min {
		m.errf(key, "%d is below the minimum %d", n, min)
		return 0, false
	}
	return n, true
}

func (m *mapper) int32(key string, min int64) (int32, bool) {
	n, ok := m.integer(key, min)
	if !ok {
		return 0, false
	}
	if n > 1<<31-1 {
		m.errf(key, "%d is too large", n)
		return 0, false
	}
	return int32(n), true
}

func (m *mapper) millis(key string, min int64) (time.Duration, bool) {
	n, ok := m.integer(key, min)
	return time.Duration(n) * time.Millisecond, ok
}

func (m *mapper) boolean(key string) (bool, bool) {
	v, ok := m.get(key)
	if !ok {
		return false, false
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	m.errf(key, "%q is not true or false", v)
	return false, false
}

// oneOf reads an enumerated, case-insensitive value.
func (m *mapper) oneOf(key string, valid ...string) (string, bool) {
	v, ok := m.get(key)
	if !ok {
		return "", false
	}
	for _, s := range valid {
		if strings.EqualFold(v, s) {
			return s, true
		}
	}
	m.errf(key, "%q is not one of %s", v, strings.Join(valid, ", "))
	return "", false
}

// FromProperties maps Kafka properties onto franz-go options. The error,
// if any, is Errors.
func FromProperties(props map[string]string, opts Options) (*Config, error) {
	m := &mapper{
		props: expandPrefixes(props),
		cfg:   &Config{ProcessingGuarantee: AtLeastOnce, MaxPollRecords: DefaultMaxPollRecords, AutoOffsetReset: ResetEarliest, ReplicationFactor: -1},
		used:  map[string]bool{},
	}
	c := m.cfg
	m.identity(opts)
	m.security()
	m.connection()
	m.producer()
	m.resolver()
	m.consumer()
	m.streams()

	for key := range props {
		if !m.used[key] && !m.used[unprefixed(key)] && !ignoredSilently(key) {
			c.Ignored = append(c.Ignored, key)
		}
	}
	sort.Strings(c.Ignored)
	logIgnored(opts.Logger, c.Ignored)

	if len(m.errs) > 0 {
		sort.SliceStable(m.errs, func(i, j int) bool { return m.errs[i].Key < m.errs[j].Key })
		return nil, m.errs
	}
	return c, nil
}

func (m *mapper) identity(opts Options) {
	c := m.cfg
	if id, ok := m.get("application.id"); ok && id != "" {
		c.ApplicationID = id
	} else {
		m.errf("application.id", "is required")
	}
	bs, ok := m.get("bootstrap.servers")
	if !ok || bs == "" {
		bs = opts.Bootstrap
	}
	for _, s := range strings.Split(bs, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Bootstrap = append(c.Bootstrap, s)
		}
	}
	if len(c.Bootstrap) == 0 {
		m.errf("bootstrap.servers", "is required (no embedded broker address was given)")
	} else {
		c.Common = append(c.Common, kgo.SeedBrokers(c.Bootstrap...))
	}
	c.ClientID = c.ApplicationID
	if id, ok := m.get("client.id"); ok && id != "" {
		c.ClientID = id
	}
	if c.ClientID != "" {
		c.Common = append(c.Common, kgo.ClientID(c.ClientID))
	}
	if id, ok := m.get("group.instance.id"); ok && id != "" {
		c.GroupInstanceID = id
	}
}

func (m *mapper) connection() {
	c := m.cfg
	if d, ok := m.millis("metadata.max.age.ms", 0); ok {
		c.Common = append(c.Common, kgo.MetadataMaxAge(d))
	}
	if d, ok := m.millis("socket.connection.setup.timeout.ms", 1); ok {
		c.Common = append(c.Common, kgo.DialTimeout(d))
	}
	if d, ok := m.millis("connections.max.idle.ms", 1); ok {
		c.Common = append(c.Common, kgo.ConnIdleTimeout(d))
	}
	if d, ok := m.millis("retry.backoff.ms", 0); ok {
		c.Common = append(c.Common, kgo.RetryBackoffFn(func(int) time.Duration { return d }))
	}
	if d, ok := m.millis("request.timeout.ms", 1); ok {
		c.Producer = append(c.Producer, kgo.ProduceRequestTimeout(d))
	}
	if on, ok := m.boolean("allow.auto.create.topics"); ok && on {
		c.Common = append(c.Common, kgo.AllowAutoTopicCreation())
	}
}

func (m *mapper) producer() {
	c := m.cfg
	idempotent := true
	if on, ok := m.boolean("enable.idempotence"); ok {
		idempotent = on
	}
	if acks, ok := m.oneOf("acks", "all", "-1", "1", "0"); ok {
		switch acks {
		case "all", "-1":
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.AllISRAcks()))
		case "1":
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.LeaderAck()))
			idempotent = false
		case "0":
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.NoAck()))
			idempotent = false
		}
	}
	if !idempotent {
		c.Producer = append(c.Producer, kgo.DisableIdempotentWrite())
	}
	if d, ok := m.millis("linger.ms", 0); ok {
		c.Producer = append(c.Producer, kgo.ProducerLinger(d))
	}
	if n, ok := m.int32("batch.size", 1); ok {
		c.Producer = append(c.Producer, kgo.ProducerBatchMaxBytes(n))
	}
	if n, ok := m.integer("buffer.memory", 1); ok {
		c.Producer = append(c.Producer, kgo.MaxBufferedBytes(int(n)))
	}
	if codec, ok := m.oneOf("compression.type", "none", "gzip", "snappy", "lz4", "zstd"); ok {
		var cc kgo.CompressionCodec
		switch codec {
		case "none":
			cc = kgo.NoCompression()
		case "gzip":
			cc = kgo.GzipCompression()
		case "snappy":
			cc = kgo.SnappyCompression()
		case "lz4":
			cc = kgo.Lz4Compression()
		case "zstd":
			cc = kgo.ZstdCompression()
		}
		c.Producer = append(c.Producer, kgo.ProducerBatchCompression(cc))
	}
	if d, ok := m.millis("delivery.timeout.ms", 1); ok {
		c.Producer = append(c.Producer, kgo.RecordDeliveryTimeout(d))
	}
	if n, ok := m.integer("retries", 0); ok {
		c.Producer = append(c.Producer, kgo.RecordRetries(int(min(n, 1<<31-1))))
	}
}

func (m *mapper) consumer() {
	c := m.cfg
	if c.ApplicationID != "" {
		c.GroupID = c.Resolver.GroupID(c.ApplicationID)
		c.Consumer = append(c.Consumer, kgo.ConsumerGroup(c.GroupID), kgo.DisableAutoCommit())
	}
	if c.GroupInstanceID != "" {
		c.Consumer = append(c.Consumer, kgo.InstanceID(c.GroupInstanceID))
	}
	if d, ok := m.millis("session.timeout.ms", 1); ok {
		c.Consumer = append(c.Consumer, kgo.SessionTimeout(d))
	}
	if d, ok := m.millis("heartbeat.interval.ms", 1); ok {
		c.Consumer = append(c.Consumer, kgo.HeartbeatInterval(d))
	}
	if d, ok := m.millis("max.poll.interval.ms", 1); ok {
		// Java sends max.poll.interval.ms as the group rebalance timeout.
		c.Consumer = append(c.Consumer, kgo.RebalanceTimeout(d))
	}
	if n, ok := m.int32("fetch.min.bytes", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMinBytes(n))
	}
	if n, ok := m.int32("fetch.max.bytes", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMaxBytes(n))
	}
	if d, ok := m.millis("fetch.max.wait.ms", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMaxWait(d))
	}
	if n, ok := m.int32("max.partition.fetch.bytes", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMaxPartitionBytes(n))
	}
	if n, ok := m.integer("max.poll.records", 1); ok {
		c.MaxPollRecords = int(min(n, 1<<31-1))
	}
	if r, ok := m.oneOf("auto.offset.reset", "earliest", "latest", "none"); ok {
		c.AutoOffsetReset = OffsetReset(r)
	}
	switch c.AutoOffsetReset {
	case ResetEarliest:
		c.Consumer = append(c.Consumer, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	case ResetLatest:
		c.Consumer = append(c.Consumer, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	case ResetNone:
		c.Consumer = append(c.Consumer, kgo.ConsumeResetOffset(kgo.NoResetOffset()))
	}
}

func (m *mapper) streams() {
	c := m.cfg
	if g, ok := m.get("processing.guarantee"); ok {
		switch strings.ToLower(g) {
		case "at_least_once":
			c.ProcessingGuarantee = AtLeastOnce
		case "exactly_once_v2", "exactly_once_beta":
			c.ProcessingGuarantee = ExactlyOnceV2
		case "exactly_once":
			m.errf("processing.guarantee", "exactly_once was removed in Kafka 4.0; use exactly_once_v2")
		default:
			m.errf("processing.guarantee", "%q is not one of at_least_once, exactly_once_v2", g)
		}
	}
	c.CommitInterval = DefaultCommitInterval
	if c.ProcessingGuarantee == ExactlyOnceV2 {
		c.CommitInterval = DefaultCommitIntervalEOS
	}
	if d, ok := m.millis("commit.interval.ms", 0); ok {
		c.CommitInterval = d
	}
	level, levelSet := m.oneOf("isolation.level", "read_uncommitted", "read_committed")
	switch {
	case c.ProcessingGuarantee == ExactlyOnceV2:
		// Kafka Streams forces read_committed under exactly-once.
		c.Consumer = append(c.Consumer, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		c.ReadCommitted = true
	case levelSet && level == "read_committed":
		c.Consumer = append(c.Consumer, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		c.ReadCommitted = true
	case levelSet:
		c.Consumer = append(c.Consumer, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	}
	c.MaxTaskIdleMs = 0
	if n, ok := m.integer("max.task.idle.ms", -1); ok {
		c.MaxTaskIdleMs = n
	}
	c.BufferedRecordsPerPartition = 1000
	if n, ok := m.integer("buffered.records.per.partition", 1); ok {
		c.BufferedRecordsPerPartition = int(min(n, 1<<31-1))
	}
	if n, ok := m.integer("replication.factor", -1); ok {
		if n == 0 {
			m.errf("replication.factor", "must be -1 (broker default) or at least 1")
		} else {
			c.ReplicationFactor = int(min(n, 1<<15-1))
		}
	}
}

// clientPrefixes are Kafka Streams' per-client property prefixes; a
// prefixed property applies like the plain one (all our clients are one).
var clientPrefixes = []string{"main.consumer.", "restore.consumer.", "global.consumer.", "consumer.", "producer.", "admin.", "topic."}

// expandPrefixes adds the unprefixed form of producer./consumer. style
// properties; an explicit prefixed value wins over the plain one.
func expandPrefixes(props map[string]string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		out[k] = v
	}
	for k, v := range props {
		for _, p := range []string{"producer.", "consumer.", "main.consumer."} {
			if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
				out[rest] = v
			}
		}
	}
	return out
}

func unprefixed(key string) string {
	for _, p := range clientPrefixes {
		if rest, ok := strings.CutPrefix(key, p); ok {
			return rest
		}
	}
	return key
}

// silent are properties that franz-go has no use for but that are normal in
// a Kafka Streams configuration (KSML sets or replaces them itself, or they
// tune the JVM client only), so they are not reported as unknown.
var silent = map[string]bool{
	"state.dir": true, "application.server": true, "topology.optimization": true,
	"num.stream.threads": true, "num.standby.replicas": true, "cache.max.bytes.buffering": true,
	"statestore.cache.max.bytes": true, "default.key.serde": true, "default.value.serde": true,
	"default.timestamp.extractor": true, "default.deserialization.exception.handler": true,
	"default.production.exception.handler": true, "deserialization.exception.handler": true,
	"production.exception.handler": true, "processing.exception.handler": true,
	"key.serializer": true, "value.serializer": true, "key.deserializer": true, "value.deserializer": true,
	"enable.auto.commit": true, "auto.commit.interval.ms": true, "group.id": true,
	"max.in.flight.requests.per.connection": true, "receive.buffer.bytes": true, "send.buffer.bytes": true,
	"reconnect.backoff.ms": true, "reconnect.backoff.max.ms": true, "transactional.id": true,
	"transaction.timeout.ms": true, "ssl.protocol": true, "ssl.cipher.suites": true,
	"ssl.keymanager.algorithm": true, "ssl.trustmanager.algorithm": true, "ssl.secure.random.implementation": true,
	"interceptor.classes": true, "metric.reporters": true, "metrics.recording.level": true,
	"metrics.num.samples": true, "metrics.sample.window.ms": true, "client.dns.lookup": true,
	"partitioner.class": true, "max.block.ms": true, "max.request.size": true, "rack.aware.assignment.tags": true,
	"client.rack": true, "sasl.kerberos.service.name": true, "sasl.login.class": true,
	"sasl.login.callback.handler.class": true, "sasl.client.callback.handler.class": true,
	"security.providers": true, "windowstore.changelog.additional.retention.ms": true,
	"poll.ms": true, "probing.rebalance.interval.ms": true,
	"acceptable.recovery.lag": true, "max.warmup.replicas": true, "task.timeout.ms": true,
	"upgrade.from": true, "built.in.metrics.version": true, "default.dsl.store": true,
	"dsl.store.suppliers.class": true, "log.summary.interval.ms": true,
}

func ignoredSilently(key string) bool {
	if silent[key] || silent[unprefixed(key)] {
		return true
	}
	// Serde and schema registry settings are read by KSML's notations.
	for _, p := range []string{"schema.registry.", "basic.auth.", "apicurio.", "specific.avro.", "auto.register.schemas", "use.latest.version"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

var logged sync.Map

// logIgnored logs each ignored property once per process.
func logIgnored(l *slog.Logger, keys []string) {
	if l == nil {
		l = slog.Default()
	}
	for _, k := range keys {
		if _, dup := logged.LoadOrStore(k, true); dup {
			continue
		}
		l.Debug("ignoring Kafka property that ksml does not use", "property", k)
	}
}
