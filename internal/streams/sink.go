package streams

import "fmt"

// sinkProcessor serializes records and hands them to the task's collector.
type sinkProcessor struct {
	node *Node
}

func (s *sinkProcessor) Init(*ProcessorContext) error { return nil }
func (s *sinkProcessor) Close() error                 { return nil }

func (s *sinkProcessor) Process(ctx *ProcessorContext, rec Record) error {
	opts := &s.node.Sink
	var topic string
	if opts.TopicExtractor != nil {
		t, err := opts.TopicExtractor(ctx.RecordContext(), rec)
		if err != nil {
			return err
		}
		if t == "" {
			return fmt.Errorf("topic name extractor returned an empty topic name")
		}
		topic = t
	} else {
		topic = s.node.Topics[0]
	}
	if rec.Timestamp < 0 {
		return fmt.Errorf("invalid (negative) timestamp %d for output record to topic %q", rec.Timestamp, topic)
	}
	// Serdes may append headers (Apicurio's headers mode); the record's own
	// slice may be shared with sibling records, so appends go to a copy.
	headers := rec.Headers[:len(rec.Headers):len(rec.Headers)]
	key, err := serialize(opts.KeySerde, topic, &headers, rec.Key)
	if err != nil {
		return fmt.Errorf("serializing key for topic %q: %w", topic, err)
	}
	value, err := serialize(opts.ValueSerde, topic, &headers, rec.Value)
	if err != nil {
		return fmt.Errorf("serializing value for topic %q: %w", topic, err)
	}
	collector := ctx.task.collector
	if opts.Partitioner != nil {
		n, err := collector.Partitions(topic)
		if err != nil {
			return err
		}
		parts, err := opts.Partitioner(topic, rec.Key, rec.Value, n)
		if err != nil {
			return fmt.Errorf("partitioner for topic %q: %w", topic, err)
		}
		if parts != nil {
			// Partitions beyond the topic's count are the collector's to
			// reject (the test driver, like TopologyTestDriver, accepts them).
			for _, p := range parts {
				if p < 0 {
					return fmt.Errorf("partitioner returned negative partition %d for topic %q", p, topic)
				}
				if err := collector.Send(topic, p, key, value, rec.Timestamp, headers); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return collector.Send(topic, -1, key, value, rec.Timestamp, headers)
}

func serialize(s Serde, topic string, headers *[]Header, v any) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("no serde configured")
	}
	return s.Serialize(topic, headers, v)
}
