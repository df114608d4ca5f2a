package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

var errUnknownTopic = errors.New("unknown topic")

// errorHeaderPrefix starts the headers a dead-letter record carries
// (kafkaio.HeaderHandler, HeaderMessage, ...).
const errorHeaderPrefix = "ksml.error."

// kafkaBrowser lists topics and reads their latest records. It keeps one
// admin client; each read uses a short-lived consumer assigned to the
// partitions' last offsets (no consumer group, nothing committed).
type kafkaBrowser struct {
	opts       []kgo.Opt
	serdes     func(topic string) (key, value streams.Serde, ok bool)
	deadLetter map[string]bool

	mu  sync.Mutex
	adm *kadm.Client
	cl  *kgo.Client
}

func newKafkaBrowser(opts []kgo.Opt, serdes func(string) (streams.Serde, streams.Serde, bool), dlq []string) *kafkaBrowser {
	k := &kafkaBrowser{opts: opts, serdes: serdes, deadLetter: map[string]bool{}}
	for _, t := range dlq {
		k.deadLetter[t] = true
	}
	return k
}

func (k *kafkaBrowser) admin() (*kadm.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.adm == nil {
		cl, err := kgo.NewClient(k.opts...)
		if err != nil {
			return nil, err
		}
		k.cl, k.adm = cl, kadm.NewClient(cl)
	}
	return k.adm, nil
}

func (k *kafkaBrowser) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cl != nil {
		k.cl.Close()
		k.cl, k.adm = nil, nil
	}
}

// TopicInfo is one topic of the cluster.
type TopicInfo struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
	// Records is the sum over partitions of end minus start offset: the
	// records kept, counting transaction markers and compacted gaps.
	Records int64 `json:"records"`
	// Kind is repartition, changelog or deadLetter for the application's
	// own topics, otherwise topic.
	Kind string `json:"kind"`
}

func (k *kafkaBrowser) topics(ctx context.Context, g *Graph) ([]TopicInfo, error) {
	adm, err := k.admin()
	if err != nil {
		return nil, err
	}
	details, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	names := details.Names()
	starts, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, err
	}
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{}
	if g != nil {
		for _, t := range g.Topics {
			kinds[t.Name] = t.Kind
		}
	}
	out := []TopicInfo{}
	for _, d := range details.Sorted() {
		if d.Err != nil {
			continue
		}
		ti := TopicInfo{Name: d.Topic, Partitions: len(d.Partitions), Kind: "topic"}
		if kind, ok := kinds[d.Topic]; ok {
			ti.Kind = kind
		}
		if k.deadLetter[d.Topic] {
			ti.Kind = "deadLetter"
		}
		for p := range d.Partitions {
			s, sok := starts.Lookup(d.Topic, p)
			e, eok := ends.Lookup(d.Topic, p)
			if sok && eok && s.Err == nil && e.Err == nil && e.Offset > s.Offset {
				ti.Records += e.Offset - s.Offset
			}
		}
		out = append(out, ti)
	}
	return out, nil
}

// Header is a record header; Value is text when it is UTF-8, otherwise
// base64 with Base64 set.
type Header struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Base64 bool   `json:"base64,omitempty"`
}

// Record is a record as the topic browser shows it. Key and Value are JSON:
// decoded with the topic's serdes (format "decoded"), or the bytes as
// JSON, text or base64 (format "json", "string", "base64"); "null" for a
// null key or value.
type Record struct {
	Partition   int32           `json:"partition"`
	Offset      int64           `json:"offset"`
	Timestamp   int64           `json:"timestamp"`
	Key         json.RawMessage `json:"key"`
	KeyFormat   string          `json:"keyFormat"`
	Value       json.RawMessage `json:"value"`
	ValueFormat string          `json:"valueFormat"`
	Headers     []Header        `json:"headers"`
	// Error holds the ksml.error.* headers of a dead-letter record, by
	// the name after the prefix (handler, message, node, topic, ...).
	Error map[string]string `json:"error,omitempty"`
}

// Records are the latest records of a topic, newest first.
type Records struct {
	Topic   string   `json:"topic"`
	Records []Record `json:"records"`
}

// latest reads the last n records of every partition of topic and returns
// the newest n of them by timestamp (then partition and offset).
func (k *kafkaBrowser) latest(ctx context.Context, topic string, n int) (Records, error) {
	adm, err := k.admin()
	if err != nil {
		return Records{}, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return Records{}, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return Records{}, err
	}
	if _, ok := ends[topic]; !ok {
		return Records{}, errUnknownTopic
	}
	from := map[int32]kgo.Offset{}
	want := map[int32]int64{} // partition -> end offset
	var failed error
	ends.Each(func(e kadm.ListedOffset) {
		if e.Err != nil {
			failed = errors.Join(failed, fmt.Errorf("partition %d: %w", e.Partition, e.Err))
			return
		}
		s, ok := starts.Lookup(topic, e.Partition)
		if !ok || s.Err != nil || e.Offset <= s.Offset {
			return
		}
		start := max(s.Offset, e.Offset-int64(n))
		from[e.Partition] = kgo.NewOffset().At(start)
		want[e.Partition] = e.Offset
	})
	if errors.Is(failed, kerr.UnknownTopicOrPartition) {
		return Records{}, errUnknownTopic
	}
	if failed != nil {
		return Records{}, failed
	}
	out := Records{Topic: topic, Records: []Record{}}
	if len(from) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), k.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}))...)
	if err != nil {
		return Records{}, err
	}
	defer cl.Close()
	var keySerde, valueSerde streams.Serde
	if k.serdes != nil {
		keySerde, valueSerde, _ = k.serdes(topic)
	}
	// The first poll waits longer: the client connects first.
	idle := 3 * time.Second
	for len(want) > 0 {
		// A partition whose last offsets are transaction markers never
		// delivers its end offset's predecessor: stop when a poll brings
		// nothing new.
		pctx, cancel := context.WithTimeout(ctx, idle)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return Records{}, ctx.Err()
		}
		got := 0
		fs.EachError(func(_ string, _ int32, e error) {
			if !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, context.Canceled) {
				failed = errors.Join(failed, e)
			}
		})
		if failed != nil {
			return Records{}, failed
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			out.Records = append(out.Records, k.record(r, keySerde, valueSerde))
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
		if got == 0 {
			break
		}
		idle = time.Second
	}
	sort.Slice(out.Records, func(i, j int) bool {
		a, b := out.Records[i], out.Records[j]
		if a.Timestamp != b.Timestamp {
			return a.Timestamp > b.Timestamp
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset > b.Offset
	})
	if len(out.Records) > n {
		out.Records = out.Records[:n]
	}
	return out, nil
}

func (k *kafkaBrowser) record(r *kgo.Record, keySerde, valueSerde streams.Serde) Record {
	hs := make([]streams.Header, len(r.Headers))
	rec := Record{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Headers: []Header{}}
	for i, h := range r.Headers {
		hs[i] = streams.Header{Key: h.Key, Value: h.Value}
		hd := Header{Key: h.Key, Value: string(h.Value)}
		if !utf8.Valid(h.Value) {
			hd.Value, hd.Base64 = base64.StdEncoding.EncodeToString(h.Value), true
		}
		rec.Headers = append(rec.Headers, hd)
		if name, ok := strings.CutPrefix(h.Key, errorHeaderPrefix); ok {
			if rec.Error == nil {
				rec.Error = map[string]string{}
			}
			rec.Error[name] = hd.Value
		}
	}
	topic := r.Topic
	if origin := rec.Error["topic"]; origin != "" && keySerde == nil && valueSerde == nil && k.serdes != nil {
		// A dead letter holds the record as it was read: decode it as its
		// source topic is decoded.
		if ks, vs, ok := k.serdes(origin); ok {
			topic, keySerde, valueSerde = origin, ks, vs
		}
	}
	rec.Key, rec.KeyFormat = decode(keySerde, topic, hs, r.Key)
	rec.Value, rec.ValueFormat = decode(valueSerde, topic, hs, r.Value)
	return rec
}

// decode renders b as JSON: through the serde when it has one and it
// succeeds, else as the bytes allow.
func decode(serde streams.Serde, topic string, headers []streams.Header, b []byte) (json.RawMessage, string) {
	if b == nil {
		return json.RawMessage("null"), "null"
	}
	if serde != nil {
		if v, err := serde.Deserialize(topic, headers, b); err == nil {
			if out, err := types.AppendJSON(nil, v); err == nil {
				return out, "decoded"
			}
		}
	}
	if json.Valid(b) {
		return json.RawMessage(b), "json"
	}
	if utf8.Valid(b) {
		out, _ := json.Marshal(string(b))
		return out, "string"
	}
	out, _ := json.Marshal(base64.StdEncoding.EncodeToString(b))
	return out, "base64"
}
