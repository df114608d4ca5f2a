// Package kafkaclient turns the runner's `kafka` properties (Java Kafka
// client and Kafka Streams property names) into franz-go client options,
// and provides the co-partitioning group balancer the streams engine's
// consumer group uses.
//
// FromProperties maps every property as the Java clients and Kafka Streams
// read it: what franz-go can honour (bootstrap servers, client and instance
// ids, TLS and SASL, producer and fetch tuning, group timeouts, offset
// reset, isolation level) becomes client options, and the settings the
// engine itself applies (commit interval, processing guarantee, poll size,
// task timeout, internal topic replication, Axual naming patterns) are
// returned in Config. Java's semantics decide, not franz-go's names:
// batch.size is a batching target (a larger record goes in a batch of its
// own), max.request.size bounds one record, and under exactly_once_v2
// transaction.timeout.ms defaults to 10 s and delivery.timeout.ms to
// unlimited, as Kafka Streams sets them.
//
// Every property has one of three fates, so none is silently dropped:
// it takes effect (Config.Applied); it is known but has no meaning for
// ksml (JVM class names, JVM buffers, Kafka Streams features ksml does not
// have), and is logged once at info with the reason (Config.Ignored,
// NoEffectReason); or its value is wrong or cannot be honoured, and
// FromProperties fails with an Errors naming it. Unknown properties are
// logged once at warn, as the Java clients warn about them. Like Kafka
// Streams, values it overrides (enable.auto.commit, isolation.level under
// exactly_once_v2, ...) are logged at warn and replaced.
//
// Axual naming patterns (axual.group.id.pattern,
// axual.transactional.id.pattern, or their deprecated spellings without
// "axual.") become a Resolver; the consumer group is resolved here, the
// transactional id by the engine. axual.topic.pattern (topic.pattern) is
// rejected: topics are not renamed.
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

// MaxStreamThreads caps num.stream.threads: each thread is a group member
// with clients of its own, and threads beyond the task count idle.
const MaxStreamThreads = 64

// Kafka Streams' defaults for the settings the engine applies.
const (
	DefaultCommitInterval    = 30 * time.Second       // at_least_once
	DefaultCommitIntervalEOS = 100 * time.Millisecond // exactly_once_v2
	DefaultMaxPollRecords    = 1000
	DefaultTaskTimeout       = 5 * time.Minute // task.timeout.ms
	// DefaultMaxRequestSize is the Java producer's max.request.size: the
	// largest record (and produce request) the producer sends.
	DefaultMaxRequestSize = 1 << 20
	// DefaultTransactionTimeoutEOS is Kafka Streams' transaction.timeout.ms
	// under exactly_once_v2 (the Java producer's own default is 60 s).
	DefaultTransactionTimeoutEOS = 10 * time.Second
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
	// Resolver maps the group id and transactional ids by the Axual
	// naming patterns (axual.group.id.pattern,
	// axual.transactional.id.pattern); nil when none is configured (a nil
	// Resolver maps names to themselves). GroupID is already resolved; the
	// engine resolves its transactional id.
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
	// NumStreamThreads is num.stream.threads (default 1): how many
	// stream threads, each with its own consumer group member (and, under
	// exactly_once_v2, its own transactional producer), share the tasks
	// of one process.
	NumStreamThreads int
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
	// TaskTimeout is task.timeout.ms: how long a task may fail on
	// transient errors (broker unreachable, coordinator moving, timeouts)
	// before the failure is fatal, as Kafka Streams' task.timeout.ms.
	TaskTimeout time.Duration
	// MaxRecordBytes is max.request.size (default 1 MiB): the largest
	// record the producer sends; a larger one fails with
	// kerr.MessageTooLarge before it is sent.
	MaxRecordBytes int32
	// TransactionTimeout is transaction.timeout.ms, already applied in
	// Producer: Kafka Streams' 10 s under exactly_once_v2, else the
	// client's default (zero here).
	TransactionTimeout time.Duration
	// Applied lists the properties that took effect, sorted.
	Applied []string
	// Ignored lists the properties that had no effect, sorted: those
	// ksml knows but has no use for (see NoEffectReason), those that only
	// matter with a setting that is off (ssl.* without SSL), and unknown
	// ones.
	Ignored []string
	// Overridden lists the properties whose value was replaced, as Kafka
	// Streams replaces them (enable.auto.commit, group.id, ...), sorted.
	Overridden []string
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

// SetGroupInstanceID makes the consumer a static group member with id, for
// an id not given as group.instance.id (derived by the runner). It must
// not be called when GroupInstanceID is set already.
func (c *Config) SetGroupInstanceID(id string) {
	c.GroupInstanceID = id
	c.Consumer = append(c.Consumer, kgo.InstanceID(id))
}

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
	// overrides are values replaced as Kafka Streams replaces them,
	// logged at warn.
	overrides []override
	// reasons says why a property that was read had no effect, when that
	// depends on other settings (see notApplicable).
	reasons map[string]string
}

// override is a property value that ksml replaces, as Kafka Streams does
// for the settings it owns.
type override struct{ key, value, reason string }

func (m *mapper) override(key, value, reason string) {
	delete(m.used, key)
	m.overrides = append(m.overrides, override{key, value, reason})
}

func (m *mapper) overridden(key string) bool {
	for _, o := range m.overrides {
		if o.key == key || o.key == unprefixed(key) {
			return true
		}
	}
	return false
}

// unused reads a property (so its value is checked) that has no effect;
// its reason is in noEffect.
func (m *mapper) unused(key string) { delete(m.used, key) }

// notApplicable marks a property that was read but has no effect with the
// other settings; reason says why, and it is logged.
func (m *mapper) notApplicable(key, reason string) {
	delete(m.used, key)
	if m.reasons == nil {
		m.reasons = map[string]string{}
	}
	m.reasons[key] = reason
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
		cfg: &Config{ProcessingGuarantee: AtLeastOnce, MaxPollRecords: DefaultMaxPollRecords, AutoOffsetReset: ResetEarliest,
			ReplicationFactor: -1, TaskTimeout: DefaultTaskTimeout, MaxRecordBytes: DefaultMaxRequestSize},
		used: map[string]bool{},
	}
	c := m.cfg
	m.identity(opts)
	m.security()
	m.connection()
	m.guarantee()
	m.producer()
	m.resolver()
	m.consumer()
	m.streams()
	m.eosOverrides()
	m.configProviders()

	for key := range props {
		switch {
		case readElsewhere(key):
		case m.overridden(key):
			c.Overridden = append(c.Overridden, key)
		case m.used[key] || m.used[unprefixed(key)]:
			c.Applied = append(c.Applied, key)
		default:
			c.Ignored = append(c.Ignored, key)
		}
	}
	sort.Strings(c.Applied)
	sort.Strings(c.Ignored)
	sort.Strings(c.Overridden)
	logIgnored(opts.Logger, c.Ignored, m.reasons)
	logOverrides(opts.Logger, m.overrides)

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
	if d, ok := m.millis("metadata.max.age.ms", 10); ok {
		c.Common = append(c.Common, kgo.MetadataMaxAge(d))
		if d < 5*time.Second {
			// franz-go refuses a maximum below its 5s minimum age.
			c.Common = append(c.Common, kgo.MetadataMinAge(d))
		}
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
	if d, ok := m.millis("request.timeout.ms", 100); ok {
		c.Producer = append(c.Producer, kgo.ProduceRequestTimeout(d))
	}
	if on, ok := m.boolean("allow.auto.create.topics"); ok && on {
		c.Common = append(c.Common, kgo.AllowAutoTopicCreation())
	}
	// KIP-714 client telemetry, on by default as in the Java clients; it
	// only sends anything to a broker that asks for metrics. franz-go
	// compresses each push with a fresh writer (8 MB of garbage for lz4),
	// so false saves that memory per push (docs/performance.md, Memory).
	if on, ok := m.boolean("enable.metrics.push"); ok && !on {
		c.Common = append(c.Common, kgo.DisableClientMetrics())
	}
}

func (m *mapper) producer() {
	c := m.cfg
	eos := c.ProcessingGuarantee == ExactlyOnceV2
	idempotent := true
	if on, ok := m.boolean("enable.idempotence"); ok {
		if !on && eos {
			m.override("enable.idempotence", "false", "exactly_once_v2 needs the idempotent producer; true is used")
		} else {
			idempotent = on
		}
	}
	if acks, ok := m.oneOf("acks", "all", "-1", "1", "0"); ok {
		switch {
		case acks == "all" || acks == "-1":
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.AllISRAcks()))
		case eos:
			m.errf("acks", "%s cannot be used with processing.guarantee exactly_once_v2, which needs acks=all", acks)
		case acks == "1":
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.LeaderAck()))
			idempotent = false
		default:
			c.Producer = append(c.Producer, kgo.RequiredAcks(kgo.NoAck()))
			idempotent = false
		}
	}
	if !idempotent {
		c.Producer = append(c.Producer, kgo.DisableIdempotentWrite())
	}
	if n, ok := m.integer("max.in.flight.requests.per.connection", 1); ok {
		switch {
		case idempotent && n > 5:
			// The Java producer refuses this combination too.
			m.errf("max.in.flight.requests.per.connection", "%d is above 5, the most the idempotent producer allows (set enable.idempotence=false, or use at most 5)", n)
		case idempotent:
			// The idempotent producer keeps up to 5 requests in flight and
			// orders them by sequence number, which is what 1..5 ask for.
		default:
			c.Producer = append(c.Producer, kgo.MaxProduceRequestsInflightPerBroker(int(min(n, 1<<31-1))))
		}
	}
	if d, ok := m.millis("linger.ms", 0); ok {
		if d > time.Minute {
			m.errf("linger.ms", "%d is above 60000, the most the producer allows", d.Milliseconds())
		} else {
			c.Producer = append(c.Producer, kgo.ProducerLinger(d))
		}
	}
	// batch.size is the Java producer's batching target, not a limit on
	// records (a record larger than it is sent in a batch of its own);
	// max.request.size is the limit. franz-go has one knob, the largest
	// batch, which bounds records too: it is max.request.size, and
	// batch.size is checked but has no effect (see noEffect).
	m.int32("batch.size", 0)
	m.unused("batch.size")
	if n, ok := m.int32("max.request.size", 512); ok {
		if n > 1<<30 {
			m.errf("max.request.size", "%d is above the 1 GiB a record batch may have", n)
		} else {
			c.MaxRecordBytes = n
		}
	}
	c.Producer = append(c.Producer, kgo.ProducerBatchMaxBytes(c.MaxRecordBytes))
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
	// Kafka Streams sets delivery.timeout.ms to "forever" under
	// exactly_once_v2: a record must not time out inside a transaction
	// that may still commit; the transaction timeout bounds it instead.
	if d, ok := m.millis("delivery.timeout.ms", 1000); ok {
		c.Producer = append(c.Producer, kgo.RecordDeliveryTimeout(d))
	}
	if n, ok := m.integer("retries", 0); ok {
		c.Producer = append(c.Producer, kgo.RecordRetries(int(min(n, 1<<31-1))))
	}
	if eos {
		c.TransactionTimeout = DefaultTransactionTimeoutEOS
	}
	if d, ok := m.millis("transaction.timeout.ms", 1); ok {
		if eos {
			c.TransactionTimeout = d
		} else {
			m.notApplicable("transaction.timeout.ms", "only transactions use it (processing.guarantee exactly_once_v2)")
		}
	}
	if c.TransactionTimeout > 0 {
		c.Producer = append(c.Producer, kgo.TransactionTimeout(c.TransactionTimeout))
	}
	// Under exactly_once_v2 Kafka Streams sets delivery.timeout.ms to
	// unlimited; franz-go's default is unlimited already.
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
	if d, ok := m.millis("session.timeout.ms", 100); ok {
		c.Consumer = append(c.Consumer, kgo.SessionTimeout(d))
	}
	if d, ok := m.millis("heartbeat.interval.ms", 1); ok {
		c.Consumer = append(c.Consumer, kgo.HeartbeatInterval(d))
	}
	if d, ok := m.millis("max.poll.interval.ms", 100); ok {
		// Java sends max.poll.interval.ms as the group rebalance timeout.
		c.Consumer = append(c.Consumer, kgo.RebalanceTimeout(d))
	}
	if n, ok := m.int32("fetch.min.bytes", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMinBytes(n))
	}
	if n, ok := m.int32("fetch.max.bytes", 1); ok {
		c.Consumer = append(c.Consumer, kgo.FetchMaxBytes(n))
	}
	if d, ok := m.millis("fetch.max.wait.ms", 10); ok {
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

// guarantee reads processing.guarantee first: producer and consumer
// defaults depend on it.
func (m *mapper) guarantee() {
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
}

func (m *mapper) streams() {
	c := m.cfg
	c.CommitInterval = DefaultCommitInterval
	if c.ProcessingGuarantee == ExactlyOnceV2 {
		c.CommitInterval = DefaultCommitIntervalEOS
	}
	if d, ok := m.millis("commit.interval.ms", 0); ok {
		c.CommitInterval = d
	}
	c.NumStreamThreads = 1
	if n, ok := m.integer("num.stream.threads", 1); ok {
		if n > MaxStreamThreads {
			m.errf("num.stream.threads", "%d is above the maximum %d", n, MaxStreamThreads)
		} else {
			c.NumStreamThreads = int(n)
		}
	}
	if c.ProcessingGuarantee == ExactlyOnceV2 && c.TransactionTimeout < c.CommitInterval {
		// Kafka Streams refuses this too: every transaction would time out.
		m.errf("transaction.timeout.ms", "%d is below commit.interval.ms %d: every transaction would time out before it commits; raise transaction.timeout.ms or lower commit.interval.ms",
			c.TransactionTimeout.Milliseconds(), c.CommitInterval.Milliseconds())
	}
	// Kafka Streams' 0 (fail at the first timeout) is not offered: a
	// transient failure always gets at least one retry.
	if d, ok := m.millis("task.timeout.ms", 1); ok {
		c.TaskTimeout = d
	}
	level, levelSet := m.oneOf("isolation.level", "read_uncommitted", "read_committed")
	switch {
	case c.ProcessingGuarantee == ExactlyOnceV2:
		// Kafka Streams forces read_committed under exactly-once.
		if levelSet && level != "read_committed" {
			m.override("isolation.level", level, "exactly_once_v2 reads read_committed")
		}
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

// noEffect are the properties ksml knows but has no use for, with the
// reason, which is logged once when one is set. Kafka Streams itself
// ignores several of them (serializers, auto commit), others configure JVM
// machinery or Kafka Streams features that ksml does without.
var noEffect = map[string]string{
	// Set elsewhere in the runner configuration.
	"state.dir":                                 "ksml.storageDirectory sets the state directory",
	"application.server":                        "ksml.applicationServer sets the application server",
	"default.key.serde":                         "the definitions' key and value types choose the serdes",
	"default.value.serde":                       "the definitions' key and value types choose the serdes",
	"key.serializer":                            "the definitions' key and value types choose the serdes",
	"value.serializer":                          "the definitions' key and value types choose the serdes",
	"key.deserializer":                          "the definitions' key and value types choose the serdes",
	"value.deserializer":                        "the definitions' key and value types choose the serdes",
	"default.timestamp.extractor":               "definitions declare timestamp extractors per stream",
	"default.deserialization.exception.handler": "ksml.errorHandling.consume handles records that do not deserialize",
	"deserialization.exception.handler":         "ksml.errorHandling.consume handles records that do not deserialize",
	"default.production.exception.handler":      "ksml.errorHandling.produce handles records that cannot be produced",
	"production.exception.handler":              "ksml.errorHandling.produce handles records that cannot be produced",
	"processing.exception.handler":              "ksml.errorHandling.process handles records that fail in a function",
	"default.dsl.store":                         "definitions choose the store type of each store",
	"dsl.store.suppliers.class":                 "definitions choose the store type of each store",
	"partitioner.class":                         "sinks partition with Kafka's default partitioner or the definition's partitioner function",
	"topology.optimization":                     "ksml builds the topology as KSML defines it",

	// Kafka Streams features ksml does without.
	"num.standby.replicas":                          "ksml has no standby tasks; state is restored from the changelogs",
	"acceptable.recovery.lag":                       "ksml has no warm-up tasks; state is restored from the changelogs",
	"max.warmup.replicas":                           "ksml has no warm-up tasks; state is restored from the changelogs",
	"probing.rebalance.interval.ms":                 "ksml has no warm-up tasks; state is restored from the changelogs",
	"rack.aware.assignment.tags":                    "ksml has no standby tasks to place by rack",
	"rack.aware.assignment.strategy":                "ksml's co-partitioning assignor does not place tasks by rack",
	"cache.max.bytes.buffering":                     "record caches are flushed at every commit and are not bounded by bytes",
	"statestore.cache.max.bytes":                    "record caches are flushed at every commit and are not bounded by bytes",
	"poll.ms":                                       "the engine polls with max.poll.records and fetch.max.wait.ms",
	"windowstore.changelog.additional.retention.ms": "window changelog topics keep the retention ksml gives them",
	"upgrade.from":                                  "there is no older ksml topology format to upgrade from",
	"built.in.metrics.version":                      "ksml has one metrics layout (see docs/operations.md)",
	"log.summary.interval.ms":                       "ksml logs state changes as they happen, not as periodic summaries",
	"auto.commit.interval.ms":                       "the engine commits every commit.interval.ms",

	// Tuning of the JVM client.
	"batch.size":                         "batches are bounded by max.request.size; a record larger than batch.size is sent in a batch of its own, as in Java",
	"max.block.ms":                       "producing does not block on metadata; a record that cannot be delivered fails after delivery.timeout.ms",
	"receive.buffer.bytes":               "the operating system sizes socket buffers",
	"send.buffer.bytes":                  "the operating system sizes socket buffers",
	"reconnect.backoff.ms":               "reconnects back off by retry.backoff.ms",
	"reconnect.backoff.max.ms":           "reconnects back off by retry.backoff.ms",
	"client.dns.lookup":                  "every address a host name resolves to is tried",
	"interceptor.classes":                "Java classes cannot be loaded",
	"metric.reporters":                   "Java classes cannot be loaded; metrics are on the Prometheus endpoint",
	"metrics.recording.level":            "metrics are on the Prometheus endpoint",
	"metrics.num.samples":                "metrics are on the Prometheus endpoint",
	"metrics.sample.window.ms":           "metrics are on the Prometheus endpoint",
	"security.providers":                 "Java classes cannot be loaded",
	"sasl.login.class":                   "Java classes cannot be loaded",
	"sasl.login.callback.handler.class":  "Java classes cannot be loaded",
	"sasl.client.callback.handler.class": "Java classes cannot be loaded",
	"sasl.kerberos.service.name":         "SASL GSSAPI (Kerberos) is not supported",
	"ssl.protocol":                       "Go's TLS negotiates the version; ssl.enabled.protocols bounds it",
	"ssl.cipher.suites":                  "Go's TLS chooses secure cipher suites itself",
	"ssl.keymanager.algorithm":           "Java key managers do not apply; keys are PEM",
	"ssl.trustmanager.algorithm":         "Java trust managers do not apply; certificates are PEM",
	"ssl.secure.random.implementation":   "Go's TLS uses the operating system's random source",
}

// NoEffectReason says why a known property has no effect in ksml, and
// false for properties that take effect or are unknown.
func NoEffectReason(key string) (string, bool) {
	r, ok := noEffect[unprefixed(key)]
	return r, ok
}

// readElsewhere reports properties that other parts of ksml read from the
// same properties (serde and schema registry settings, read by the
// notations).
func readElsewhere(key string) bool {
	for _, p := range []string{"schema.registry.", "basic.auth.", "bearer.auth.", "apicurio.", "specific.avro.", "auto.register.schemas", "use.latest.version", "normalize.schemas"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// envVarConfigProvider is the class of Kafka's environment-variable config
// provider.
const envVarConfigProvider = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"

// configProviders checks Kafka's config providers. The runner configuration
// resolves ${env:NAME} (EnvVarConfigProvider, as upstream's Helm chart
// declares it) before the properties reach here, so an env provider has
// taken effect. Any other provider, or the env provider's allow-list,
// would leave references unresolved or restrictions unapplied: errors.
func (m *mapper) configProviders() {
	declared := map[string]bool{}
	if v, ok := m.get("config.providers"); ok {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				declared[name] = true
			}
		}
	}
	for key := range m.props {
		rest, ok := strings.CutPrefix(key, "config.providers.")
		if !ok {
			continue
		}
		name, setting, _ := strings.Cut(rest, ".")
		switch {
		case !declared[name]:
			m.get(key)
			m.notApplicable(key, "provider "+name+" is not listed in config.providers")
		case setting == "class":
			if class, _ := m.get(key); class != envVarConfigProvider {
				m.errf(key, "%q is not supported: ksml resolves only Kafka's %s, written ${%s:NAME} in the runner configuration", class, envVarConfigProvider, name)
			}
		default:
			m.get(key)
			m.errf(key, "is not supported: ksml resolves ${%s:NAME} from any environment variable, with no parameters", name)
		}
	}
	for name := range declared {
		if _, ok := m.props["config.providers."+name+".class"]; !ok {
			m.errf("config.providers", "provider %s has no config.providers.%s.class (ksml supports %s)", name, name, envVarConfigProvider)
		}
	}
}

// eosOverrides handles the settings Kafka Streams owns: a user value is
// replaced, with a warning, as Kafka Streams does.
func (m *mapper) eosOverrides() {
	c := m.cfg
	owned := func(key, reason string, conflicts func(v string) bool) {
		if v, ok := m.get(key); ok {
			if conflicts(v) {
				m.override(key, v, reason)
			} else {
				m.notApplicable(key, reason)
			}
		}
	}
	owned("enable.auto.commit", "the engine commits offsets itself every commit.interval.ms", func(v string) bool {
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			m.errf("enable.auto.commit", "%q is not true or false", v)
		}
		return strings.EqualFold(v, "true")
	})
	owned("group.id", "the consumer group is the application.id", func(v string) bool { return v != "" && v != c.ApplicationID })
	owned("transactional.id", "the engine names its transactional producer after the application.id", func(v string) bool { return v != "" })
	owned("group.protocol", "the engine's co-partitioning assignor needs the classic group protocol", func(v string) bool { return !strings.EqualFold(v, "classic") })
	if r, ok := m.get("client.rack"); ok && r != "" {
		c.Consumer = append(c.Consumer, kgo.Rack(r))
	}
}

// appliedProperties are the properties that take effect (the ssl.* and
// sasl.* ones with the matching security.protocol), in the order of the
// documentation.
var appliedProperties = []string{
	"application.id", "bootstrap.servers", "client.id", "group.instance.id", "client.rack",
	"security.protocol", "ssl.enabled.protocols", "ssl.endpoint.identification.algorithm",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.certificates", "ssl.truststore.password",
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.certificate.chain", "ssl.keystore.key",
	"ssl.keystore.password", "ssl.key.password", "sasl.mechanism", "sasl.jaas.config",
	"metadata.max.age.ms", "socket.connection.setup.timeout.ms", "connections.max.idle.ms", "retry.backoff.ms",
	"request.timeout.ms", "allow.auto.create.topics", "enable.metrics.push",
	"enable.idempotence", "acks", "max.in.flight.requests.per.connection", "linger.ms", "max.request.size",
	"buffer.memory", "compression.type", "delivery.timeout.ms", "retries", "transaction.timeout.ms",
	"session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "fetch.min.bytes", "fetch.max.bytes",
	"fetch.max.wait.ms", "max.partition.fetch.bytes", "max.poll.records", "auto.offset.reset", "isolation.level",
	"processing.guarantee", "commit.interval.ms", "task.timeout.ms", "replication.factor",
	"num.stream.threads", "max.task.idle.ms", "buffered.records.per.partition",
	GroupIDPatternKey, TransactionalIDPatternKey,
}

// AppliedProperties returns the names of the properties that take effect,
// sorted. The ssl.* and sasl.* ones take effect with a security.protocol
// that uses them; Axual pattern placeholders (tenant, ...) with a pattern
// that names them.
func AppliedProperties() []string {
	out := append([]string(nil), appliedProperties...)
	sort.Strings(out)
	return out
}

var logged sync.Map

// logIgnored logs each ignored property once per process: known ones at
// info with the reason they have no effect, unknown ones at warn, as the
// Java clients warn about them.
func logIgnored(l *slog.Logger, keys []string, reasons map[string]string) {
	if l == nil {
		l = slog.Default()
	}
	for _, k := range keys {
		if _, dup := logged.LoadOrStore(k, true); dup {
			continue
		}
		if r, ok := reasons[k]; ok {
			l.Info("Kafka property has no effect", "property", k, "reason", r)
		} else if r, ok := NoEffectReason(k); ok {
			l.Info("Kafka property has no effect", "property", k, "reason", r)
		} else {
			l.Warn("unknown Kafka property; it has no effect", "property", k)
		}
	}
}

// logOverrides logs the values replaced as Kafka Streams replaces them.
func logOverrides(l *slog.Logger, overrides []override) {
	if l == nil {
		l = slog.Default()
	}
	for _, o := range overrides {
		l.Warn("Kafka property value is replaced", "property", o.key, "value", o.value, "reason", o.reason)
	}
}
