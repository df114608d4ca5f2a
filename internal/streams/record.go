package streams

// Header is one Kafka record header. Values are raw bytes as on the wire.
type Header struct {
	Key   string
	Value []byte
}

// Record is the unit that flows between processors. Key and Value are in the
// data model of package types and may be Deferred; the engine never resolves
// them itself. Records are passed by value so a processor that changes a field
// does not affect siblings that received the same record.
type Record struct {
	Key       any
	Value     any
	Timestamp int64
	Headers   []Header
}

// WithValue returns a copy of r with a new value.
func (r Record) WithValue(v any) Record { r.Value = v; return r }

// WithKey returns a copy of r with a new key.
func (r Record) WithKey(k any) Record { r.Key = k; return r }

// WithKeyValue returns a copy of r with a new key and value.
func (r Record) WithKeyValue(k, v any) Record { r.Key = k; r.Value = v; return r }

// RecordContext describes where the record being processed came from: the
// source topic, partition and offset, and the current timestamp and headers.
// Processors that rewrite metadata change the Record, not the context; the
// context follows the record as it is forwarded.
type RecordContext struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64
	Headers   []Header
}

// Timestamp types as reported to timestamp extractors (Kafka's names).
const (
	TimestampTypeNone       = "NoTimestampType"
	TimestampTypeCreateTime = "CreateTime"
	TimestampTypeLogAppend  = "LogAppendTime"
)
