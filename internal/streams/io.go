package streams

import "fmt"

// Serde converts between the data model and record bytes for one type on one
// side of a record (key or value: a serde is bound to its side when made). It
// has the shape of Kafka's Serializer.serialize(topic, headers, data) and
// Deserializer.deserialize(topic, headers, data), and it is the only serde
// contract: notations, sources, sinks, stores, producers and the test driver
// all use it.
//
// The topic is passed because registry-backed formats need it (the subject
// "<topic>-key" or "<topic>-value"). headers are the record's headers:
// Serialize may append to *headers (Apicurio's headers mode carries the schema
// id there), and Deserialize may read them. A nil headers pointer means the
// bytes go where no headers travel (a state store's changelog value, a
// repartition subscription payload); a serde that would use headers then
// frames the payload itself, as Apicurio's serializer does without headers.
// Serialize must not modify the existing elements of *headers (they may be
// shared with other records); it only appends.
//
// A nil value serializes to nil bytes (a tombstone) and nil bytes
// deserialize to nil. Deserialize may return a value that aliases data (the
// json serde's RawJSON does), so callers must not modify data afterwards.
// Failures are errors naming the notation, the topic and what did not fit;
// serdes never panic on bad input. A Serde is safe for concurrent use.
type Serde interface {
	Serialize(topic string, headers *[]Header, v any) ([]byte, error)
	Deserialize(topic string, headers []Header, data []byte) (any, error)
}

// RecordCollector is the output side of the I/O boundary: sinks and changelog
// loggers hand it serialized records. Partition -1 asks the collector to pick
// the partition with Kafka's default partitioner (see DefaultPartition).
// Send may buffer; Flush makes everything sent durable (commit point).
type RecordCollector interface {
	Send(topic string, partition int32, key, value []byte, timestamp int64, headers []Header) error
	// Partitions returns the number of partitions of topic, creating the
	// topic (as the I/O layer's policy allows) or failing when unknown.
	Partitions(topic string) (int, error)
	Flush() error
}

// TimestampExtractor derives a record's timestamp when it enters a task.
// previous is the highest timestamp seen on the partition so far (-1 at the
// start). A negative result makes the task drop the record, as Kafka Streams
// does with an invalid timestamp.
type TimestampExtractor func(rec *ConsumedRecord, previous int64) (int64, error)

// ConsumedRecord is a deserialized record as read from a source topic, before
// it enters the graph. It is what timestamp extractors see.
type ConsumedRecord struct {
	Topic         string
	Partition     int32
	Offset        int64
	Timestamp     int64
	TimestampType string
	Key           any
	Value         any
	Headers       []Header
}

// Partitioner picks the partitions a record is written to. A nil result
// means "use the default partitioner"; several entries multicast the record.
type Partitioner func(topic string, key, value any, numPartitions int) ([]int32, error)

// TopicNameExtractor chooses the destination topic of a record at a dynamic
// sink.
type TopicNameExtractor func(rc *RecordContext, rec Record) (string, error)

// OffsetReset is where a source starts when there is no committed offset.
type OffsetReset struct {
	Policy     string // "", "earliest", "latest", "none", "by_duration"
	DurationMs int64  // for by_duration
}

// ChangelogTopic is the name of a store's changelog topic.
func ChangelogTopic(applicationID, storeName string) string {
	return applicationID + "-" + storeName + "-changelog"
}

// RepartitionTopic is the name of an internal repartition topic.
func RepartitionTopic(applicationID, name string) string {
	return applicationID + "-" + name + "-repartition"
}

// DefaultPartition is Kafka's default partitioner for a keyed record:
// murmur2 of the key bytes, made positive, modulo the partition count. Null
// keys return -1 so the caller can spread them (sticky or round robin).
func DefaultPartition(key []byte, numPartitions int) int32 {
	if key == nil || numPartitions <= 0 {
		return -1
	}
	return int32((murmur2(key) & 0x7fffffff) % uint32(numPartitions))
}

// murmur2 is the hash the Java client uses for keyed partitioning.
func murmur2(data []byte) uint32 {
	const (
		seed = uint32(0x9747b28c)
		m    = uint32(0x5bd1e995)
		r    = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := 0; i < n; i++ {
		i4 := i * 4
		k := uint32(data[i4]) | uint32(data[i4+1])<<8 | uint32(data[i4+2])<<16 | uint32(data[i4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch length % 4 {
	case 3:
		h ^= uint32(data[(length&^3)+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[(length&^3)+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[length&^3])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// NodeError is a processing failure, tagged with the node where it happened.
type NodeError struct {
	Node string
	Err  error
}

func (e *NodeError) Error() string { return fmt.Sprintf("%s: %v", e.Node, e.Err) }
func (e *NodeError) Unwrap() error { return e.Err }

// StoreSerde returns serde bound to the changelog topic of the store
// storeName (see BindTopic). Kafka Streams' state serdes are made with the
// store's changelog topic, logged or not, so a registry-backed notation
// registers and looks up a store's schemas under "<application id>-<store>-
// changelog-key" and "-value", where Kafka Streams and upstream KSML put them.
func StoreSerde(serde Serde, applicationID, storeName string) Serde {
	return BindTopic(serde, ChangelogTopic(applicationID, storeName))
}

// BindTopic returns a serde that calls serde with topic, whatever topic it
// is called with.
func BindTopic(serde Serde, topic string) Serde {
	return topicBoundSerde{inner: serde, topic: topic}
}

// topicBoundSerde hands its serde one fixed topic.
type topicBoundSerde struct {
	inner Serde
	topic string
}

func (s topicBoundSerde) Serialize(_ string, headers *[]Header, v any) ([]byte, error) {
	return s.inner.Serialize(s.topic, headers, v)
}

func (s topicBoundSerde) Deserialize(_ string, headers []Header, data []byte) (any, error) {
	return s.inner.Deserialize(s.topic, headers, data)
}
