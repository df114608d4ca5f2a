package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

// HeaderTruncated is set on a dead letter whose key or value was cut to
// fit the producer's and the broker's record size limit; it says what was
// cut, for example "value 5242880 -> 1047552 bytes".
const HeaderTruncated = "ksml.error.truncated"

// brokerMaxMessageBytes is Kafka's default max.message.bytes: a dead
// letter is kept below it, as the dead-letter topic most likely has it.
const brokerMaxMessageBytes = 1048588

// deadLetterMargin leaves room for the record batch header, the record's
// varints and timestamp within the size limit.
const deadLetterMargin = 512

// maxMessageBytes returns the topic's max.message.bytes, or Kafka's
// default when it cannot be read within a few seconds.
func (t *Topics) maxMessageBytes(ctx context.Context, topic string) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rcs, err := t.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return brokerMaxMessageBytes
	}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == "max.message.bytes" && c.Value != nil {
				if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return brokerMaxMessageBytes
}

// resentKey marks a record resent after the broker rejected the batch it
// was in as too large.
type resentKey struct{}

// resendIfCollateral resends r, once, when the broker rejected its batch
// as too large but r alone fits the topic's max.message.bytes: the Java
// producer splits such a batch and sends the records again; franz-go fails
// every record of it. It reports whether r was resent.
func (c *Collector) resendIfCollateral(r *kgo.Record, err error) bool {
	if !errors.Is(err, kerr.MessageTooLarge) {
		return false
	}
	if done, _ := r.Context.Value(resentKey{}).(bool); done {
		return false
	}
	if recordSize(r)+deadLetterMargin > c.topics.maxMessageBytes(c.ctx, r.Topic) {
		return false
	}
	r.Context = context.WithValue(c.ctx, resentKey{}, true)
	p := c.client()
	p.cl.Produce(r.Context, r, p.promise)
	return true
}

func recordSize(r *kgo.Record) int {
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	return size
}

// deadLetterKey marks the context of a dead letter produced for a record
// the broker rejected, with the error it was rejected for.
type deadLetterKey struct{}

// deadLetter writes r, which the broker rejected with rerr, to topic with
// its headers and the ksml.error.* headers, cut to fit the size limit. It
// runs on the sending goroutine (handleFailure); a dead letter that fails
// makes the collector fail (see delivered).
func (c *Collector) deadLetter(topic string, r *kgo.Record, rerr *RecordError) {
	var hs []streams.Header
	for _, h := range r.Headers {
		hs = append(hs, streams.Header{Key: h.Key, Value: h.Value})
	}
	hs = append(hs, errorHeaders(rerr, r.Timestamp.UnixMilli())...)
	key, value, note := fitRecord(r.Key, r.Value, hs, c.maxRecordBytes(topic))
	if note != "" {
		hs = append(hs, streams.Header{Key: HeaderTruncated, Value: []byte(note)})
	}
	// The dead letter is partitioned like any record (key hash, or round
	// robin); its partition count is the dead-letter topic's.
	dl, err := c.record(topic, -1, key, value, r.Timestamp.UnixMilli(), hs)
	if err != nil {
		c.fail(fmt.Errorf("writing the record that failed (%w) to dead-letter topic %q: %w", rerr, topic, err))
		return
	}
	dl.Context = context.WithValue(c.ctx, deadLetterKey{}, rerr)
	p := c.client()
	p.cl.Produce(dl.Context, dl, p.promise)
}

// maxRecordBytes is the largest record the producer sends to topic: the
// smaller of max.request.size and the topic's max.message.bytes.
func (c *Collector) maxRecordBytes(topic string) int {
	limit := c.topics.maxMessageBytes(c.ctx, topic)
	if v, ok := c.client().cl.OptValue(kgo.ProducerBatchMaxBytes).(int32); ok && int(v) < limit {
		limit = int(v)
	}
	return limit
}

// fitRecord cuts value, then key, so that a record with headers hs stays
// below limit bytes; note says what was cut ("" when nothing was).
func fitRecord(key, value []byte, hs []streams.Header, limit int) ([]byte, []byte, string) {
	overhead := deadLetterMargin
	for _, h := range hs {
		overhead += len(h.Key) + len(h.Value) + 10 // + varints
	}
	if overhead+len(key)+len(value) <= limit {
		return key, value, ""
	}
	// Room for the truncation header itself.
	budget := max(limit-overhead-len(HeaderTruncated)-64, 0)
	var note string
	if len(key) > budget {
		note = fmt.Sprintf("key %d -> %d bytes", len(key), budget)
		key = key[:budget]
	}
	if room := budget - len(key); len(value) > room {
		if note != "" {
			note += ", "
		}
		note += fmt.Sprintf("value %d -> %d bytes", len(value), room)
		value = value[:room]
	}
	return key, value, note
}

// explainProduceError adds to a broker's or the producer's rejection of r
// what the user can change.
func explainProduceError(cl *kgo.Client, r *kgo.Record, err error) error {
	size := recordSize(r)
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		limit, _ := cl.OptValue(kgo.ProducerBatchMaxBytes).(int32)
		return fmt.Errorf("record of %d bytes: %w; the producer sends records up to kafka.max.request.size (now %s bytes) and the broker accepts up to the topic's max.message.bytes: raise them, or set ksml.errorHandling.produce (handler: continueOnFail, deadLetterTopic) to skip such records",
			size, err, strconv.Itoa(int(limit)))
	case errors.Is(err, kerr.InvalidRecord), errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.InvalidTimestamp):
		return fmt.Errorf("record of %d bytes rejected by the broker: %w; set ksml.errorHandling.produce (handler: continueOnFail, deadLetterTopic) to skip such records", size, err)
	}
	return err
}
