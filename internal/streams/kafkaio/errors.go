package kafkaio

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ksml-dev/ksml/internal/streams"
)

// ErrorKind says in which phase a record failed.
type ErrorKind string

// The error kinds, named after the runner's errorHandling sections.
const (
	ConsumeError ErrorKind = "consume" // the source could not deserialize the record
	ProcessError ErrorKind = "process" // a processor (user function) failed
	ProduceError ErrorKind = "produce" // a sink could not serialize, or the broker rejected a record
)

// Action is what happens to a record after an error.
type Action int

// The actions.
const (
	// Stop makes the engine fail: Run returns the error.
	Stop Action = iota
	// Continue skips the record and goes on with the next one.
	Continue
	// Retry (produce errors only) sends a rejected record again, up to
	// Handler.Retries times, then stops.
	Retry
)

// Handler configures how one kind of error is handled.
type Handler struct {
	// Log logs the error at error level.
	Log bool
	// LogPayload adds the record's key and value to the log line.
	LogPayload bool
	// Logger receives the log line; nil means the engine's logger. The
	// runner names it after loggerName (ConsumeError, ProcessError, ...).
	Logger *slog.Logger
	// Action is what happens after the error.
	Action Action
	// Retries bounds Retry (default 5).
	Retries int
	// DeadLetterTopic, when set, receives the failed record with its
	// original key, value and headers plus the ksml.error.* headers.
	DeadLetterTopic string
}

// Handlers holds one Handler per error kind.
type Handlers struct {
	Consume, Process, Produce Handler
}

func (h *Handlers) of(kind ErrorKind) *Handler {
	switch kind {
	case ConsumeError:
		return &h.Consume
	case ProduceError:
		return &h.Produce
	default:
		return &h.Process
	}
}

// Dead-letter headers describing the failure.
const (
	HeaderHandler   = "ksml.error.handler"   // consume, process or produce
	HeaderMessage   = "ksml.error.message"   // the error text
	HeaderNode      = "ksml.error.node"      // the processor node that failed, when known
	HeaderTopic     = "ksml.error.topic"     // the source topic of the record
	HeaderPartition = "ksml.error.partition" // its partition, decimal
	HeaderOffset    = "ksml.error.offset"    // its offset, decimal
	HeaderTimestamp = "ksml.error.timestamp" // its timestamp (epoch ms), decimal
)

// RecordError is a record that failed and was not skipped. Run returns it
// when a Stop handler fires.
type RecordError struct {
	Kind      ErrorKind
	Topic     string
	Partition int32
	Offset    int64
	Node      string // empty when the failure is not tied to a node
	Task      string // the task id ("0_1"), empty when not known
	Timestamp int64  // the record's timestamp, -1 when not known
	Err       error
}

func (e *RecordError) Error() string {
	where := fmt.Sprintf("topic %s partition %d offset %d", e.Topic, e.Partition, e.Offset)
	if e.Offset < 0 {
		where = "topic " + e.Topic
	}
	return fmt.Sprintf("%s error (%s): %v", e.Kind, where, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// classify tells consume, process and produce errors apart by the node that
// failed: a source fails while deserializing, a sink while serializing.
func classify(topo *streams.Topology, err error) (ErrorKind, string) {
	var ne *streams.NodeError
	if !errors.As(err, &ne) {
		return ProcessError, ""
	}
	if n, ok := topo.Node(ne.Node); ok {
		switch n.Kind {
		case streams.SourceNode:
			return ConsumeError, ne.Node
		case streams.SinkNode:
			return ProduceError, ne.Node
		}
	}
	return ProcessError, ne.Node
}

func errorHeaders(rerr *RecordError, timestamp int64) []streams.Header {
	hs := []streams.Header{
		{Key: HeaderHandler, Value: []byte(rerr.Kind)},
		{Key: HeaderMessage, Value: []byte(rerr.Err.Error())},
	}
	if rerr.Node != "" {
		hs = append(hs, streams.Header{Key: HeaderNode, Value: []byte(rerr.Node)})
	}
	hs = append(hs,
		streams.Header{Key: HeaderTopic, Value: []byte(rerr.Topic)},
		streams.Header{Key: HeaderPartition, Value: strconv.AppendInt(nil, int64(rerr.Partition), 10)},
		streams.Header{Key: HeaderOffset, Value: strconv.AppendInt(nil, rerr.Offset, 10)},
		streams.Header{Key: HeaderTimestamp, Value: strconv.AppendInt(nil, timestamp, 10)},
	)
	return hs
}
