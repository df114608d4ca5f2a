package config

import (
	"strings"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// knownKafkaKeys are the Java client, admin and Kafka Streams property
// names a runner configuration commonly sets. The kafka section accepts
// any property (clients ignore what they do not know), so a misspelt one
// would be silently ignored: `bootstrap.server` would even switch to the
// embedded broker. A key that is not known but is one or two edits away
// from a known one is therefore an error.
var knownKafkaKeys = []string{
	// identity and connection
	"application.id", "bootstrap.servers", "client.id", "group.id", "group.instance.id", "client.rack",
	"client.dns.lookup", "metadata.max.age.ms", "socket.connection.setup.timeout.ms",
	"socket.connection.setup.timeout.max.ms", "connections.max.idle.ms", "request.timeout.ms",
	"retry.backoff.ms", "retry.backoff.max.ms", "reconnect.backoff.ms", "reconnect.backoff.max.ms",
	"receive.buffer.bytes", "send.buffer.bytes", "allow.auto.create.topics", "default.api.timeout.ms",
	"enable.metrics.push",
	// security
	"security.protocol", "sasl.mechanism", "sasl.jaas.config", "sasl.kerberos.service.name",
	"sasl.login.class", "sasl.login.callback.handler.class", "sasl.client.callback.handler.class",
	"ssl.protocol", "ssl.enabled.protocols", "ssl.endpoint.identification.algorithm", "ssl.key.password",
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.key",
	"ssl.keystore.certificate.chain", "ssl.truststore.type", "ssl.truststore.location",
	"ssl.truststore.password", "ssl.truststore.certificates", "ssl.cipher.suites",
	// producer
	"acks", "batch.size", "buffer.memory", "compression.type", "delivery.timeout.ms", "enable.idempotence",
	"linger.ms", "max.block.ms", "max.in.flight.requests.per.connection", "max.request.size", "retries",
	"transactional.id", "transaction.timeout.ms", "partitioner.class",
	// consumer
	"auto.offset.reset", "enable.auto.commit", "auto.commit.interval.ms", "fetch.max.bytes",
	"fetch.max.wait.ms", "fetch.min.bytes", "heartbeat.interval.ms", "isolation.level",
	"max.partition.fetch.bytes", "max.poll.interval.ms", "max.poll.records", "session.timeout.ms",
	"partition.assignment.strategy",
	// streams
	"processing.guarantee", "commit.interval.ms", "replication.factor", "num.stream.threads",
	"num.standby.replicas", "state.dir", "application.server", "topology.optimization",
	"cache.max.bytes.buffering", "statestore.cache.max.bytes", "default.key.serde", "default.value.serde",
	"default.timestamp.extractor", "default.deserialization.exception.handler",
	"default.production.exception.handler", "processing.exception.handler", "poll.ms",
	"buffered.records.per.partition", "task.timeout.ms", "windowstore.changelog.additional.retention.ms",
	"metrics.recording.level", "metrics.num.samples", "metrics.sample.window.ms", "metric.reporters",
	// schema registries and Axual naming
	"schema.registry.url", "basic.auth.credentials.source", "basic.auth.user.info", "auto.register.schemas",
	"use.latest.version", "apicurio.registry.url", "axual.topic.pattern", "axual.group.id.pattern",
	"axual.transactional.id.pattern", "topic.pattern", "group.id.pattern", "transactional.id.pattern",
	// accepted and ignored by ksml's clients
	"interceptor.classes", "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm",
	"ssl.secure.random.implementation", "security.providers", "rack.aware.assignment.tags",
	"probing.rebalance.interval.ms", "acceptable.recovery.lag", "max.warmup.replicas", "upgrade.from",
	"built.in.metrics.version", "default.dsl.store", "dsl.store.suppliers.class", "log.summary.interval.ms",
	"key.serializer", "value.serializer", "key.deserializer", "value.deserializer",
	"deserialization.exception.handler", "production.exception.handler",
}

// kafkaClientPrefixes are Kafka Streams' per-client prefixes; the rest of a
// prefixed key is checked like a plain key.
var kafkaClientPrefixes = []string{"main.consumer.", "restore.consumer.", "global.consumer.", "consumer.", "producer.", "admin."}

var knownKafkaKeySet = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range knownKafkaKeys {
		m[k] = true
	}
	return m
}()

// misspeltKafkaKey returns the known property key probably meant, or ""
// when key is known or not close to any known key.
func misspeltKafkaKey(key string) string {
	prefix, rest := "", key
	for _, p := range kafkaClientPrefixes {
		if r, ok := strings.CutPrefix(key, p); ok {
			prefix, rest = p, r
			break
		}
	}
	if knownKafkaKeySet[rest] || strings.HasPrefix(rest, "topic.") && rest != "topic.pattern" {
		return ""
	}
	best, bestDist := "", 3
	for _, k := range knownKafkaKeys {
		if d := yamlspec.EditDistance(strings.ToLower(rest), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return prefix + best
}
