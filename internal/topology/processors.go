package topology

import (
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// The processors of stateless operations. Each calls its user function with
// the function type's built-in arguments and forwards the result, keeping
// values as they come (possibly Deferred) unless it must inspect them.

type stateless struct{}

func (stateless) Init(*streams.ProcessorContext) error { return nil }
func (stateless) Close() error                         { return nil }

type filterProc struct {
	stateless
	f    Function
	keep bool
	// table: a KTable's filter turns a dropped record into a tombstone, so
	// the key leaves the table downstream (Kafka Streams' KTable.filter).
	table bool
}

func (p *filterProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if p.table && r.Value == nil {
		return ctx.Forward(r) // a deletion passes without asking the predicate
	}
	ok, err := callPredicate(ctx, p.f, r.Key, r.Value)
	if err != nil {
		return err
	}
	if ok == p.keep {
		return ctx.Forward(r)
	}
	if p.table {
		r.Value = nil
		return ctx.Forward(r)
	}
	return nil
}

// callResolved calls f and resolves its result (a Deferred value), so it
// can be inspected, compared or stored. Errors are f's or the resolution's.
func callResolved(ctx *streams.ProcessorContext, f Function, args ...any) (any, error) {
	res, err := f.Call(ctx, args...)
	if err != nil {
		return nil, err
	}
	return types.Resolve(res)
}

func callPredicate(ctx *streams.ProcessorContext, f Function, key, value any) (bool, error) {
	res, err := callResolved(ctx, f, key, value)
	if err != nil {
		return false, err
	}
	switch v := res.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("predicate must return a boolean, got %s", types.KindName(res))
}

type mapKeyProc struct {
	stateless
	f Function
}

func (p *mapKeyProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	k, err := p.f.Call(ctx, r.Key, r.Value)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKey(k))
}

type mapValueProc struct {
	stateless
	f Function
}

func (p *mapValueProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	v, err := p.f.Call(ctx, r.Key, r.Value)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithValue(v))
}

type mapProc struct {
	stateless
	f Function
}

func (p *mapProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	res, err := p.f.Call(ctx, r.Key, r.Value)
	if err != nil {
		return err
	}
	k, v, err := pair(res)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKeyValue(k, v))
}

type flatMapProc struct {
	stateless
	f Function
}

func (p *flatMapProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	res, err := p.f.Call(ctx, r.Key, r.Value)
	if err != nil {
		return err
	}
	list, err := asList(res)
	if err != nil {
		return err
	}
	for _, e := range list {
		k, v, err := pair(e)
		if err != nil {
			return err
		}
		if err := ctx.Forward(r.WithKeyValue(k, v)); err != nil {
			return err
		}
	}
	return nil
}

type flatMapValuesProc struct {
	stateless
	f Function
}

func (p *flatMapValuesProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	res, err := p.f.Call(ctx, r.Key, r.Value)
	if err != nil {
		return err
	}
	list, err := asList(res)
	if err != nil {
		return err
	}
	for _, v := range list {
		if err := ctx.Forward(r.WithValue(v)); err != nil {
			return err
		}
	}
	return nil
}

type peekProc struct {
	stateless
	f       Function
	forward bool
}

func (p *peekProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	if _, err := p.f.Call(ctx, r.Key, r.Value); err != nil {
		return err
	}
	if p.forward {
		return ctx.Forward(r)
	}
	return nil
}

// metadataProc passes {timestamp, headers} to the function and applies the
// returned metadata to the record; key and value stay as they are.
type metadataProc struct {
	stateless
	f Function
}

func (p *metadataProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	res, err := callResolved(ctx, p.f, r.Key, r.Value, metadataStruct(r.Timestamp, r.Headers))
	if err != nil {
		return err
	}
	if res == nil {
		return ctx.Forward(r)
	}
	md, ok := res.(*types.Struct)
	if !ok {
		return fmt.Errorf("metadata transformer must return a struct with timestamp and headers, got %s", types.KindName(res))
	}
	if ts, ok := md.Get("timestamp"); ok && ts != nil {
		n, ok := ts.(int64)
		if !ok {
			return fmt.Errorf("metadata timestamp must be a long, got %s", types.KindName(ts))
		}
		r.Timestamp = n
	}
	// A null timestamp or null headers leave the record's own, as upstream.
	if hs, ok := md.Get("headers"); ok && hs != nil {
		headers, err := headersFrom(hs)
		if err != nil {
			return err
		}
		r.Headers = headers
	}
	return ctx.Forward(r)
}

func metadataStruct(ts int64, headers []streams.Header) *types.Struct {
	md := types.NewStruct(2)
	md.Schema = recordMetadataSchema
	md.Set("timestamp", ts)
	md.Set("headers", headerList(headers))
	return md
}

// headerList renders headers as [{key, value}], values as strings when they
// are printable UTF-8 and as bytes otherwise (upstream's rule).
func headerList(headers []streams.Header) []any {
	out := make([]any, 0, len(headers))
	for _, h := range headers {
		e := types.NewStruct(2)
		e.Set("key", h.Key)
		if h.Value == nil {
			e.Set("value", nil)
		} else if printable(h.Value) {
			e.Set("value", string(h.Value))
		} else {
			e.Set("value", h.Value)
		}
		out = append(out, e)
	}
	return out
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

func headersFrom(v any) ([]streams.Header, error) {
	v, err := types.Resolve(v)
	if err != nil || v == nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("metadata headers must be a list of {key, value}, got %s", types.KindName(v))
	}
	out := make([]streams.Header, 0, len(list))
	for _, e := range list {
		st, ok := e.(*types.Struct)
		if !ok {
			return nil, fmt.Errorf("header must be a struct with key and value, got %s", types.KindName(e))
		}
		k, _ := st.Get("key")
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("header key must be a string, got %s", types.KindName(k))
		}
		h := streams.Header{Key: ks}
		switch hv := mustGet(st, "value").(type) {
		case nil:
		case string:
			h.Value = []byte(hv)
		case []byte:
			h.Value = hv
		case []any:
			b := make([]byte, len(hv))
			for i, x := range hv {
				n, ok := x.(int64)
				if !ok || n < -128 || n > 255 {
					return nil, fmt.Errorf("header %q: byte list holds %s", ks, types.KindName(x))
				}
				b[i] = byte(n)
			}
			h.Value = b
		default:
			h.Value = []byte(fmt.Sprint(hv))
		}
		out = append(out, h)
	}
	return out, nil
}

func mustGet(s *types.Struct, k string) any { v, _ := s.Get(k); return v }

// converter changes a value's declared type: through the provider's
// conversion rules when it has them, else by way of the value's bytes.
type converter struct {
	conv             ValueConverter
	fromType, toType types.UserType
	from, to         streams.Serde
	target           string
}

func (c *converter) apply(topic string, v any) (any, error) {
	if c == nil || v == nil {
		return v, nil
	}
	if c.conv != nil {
		out, err := c.conv.Convert(v, c.fromType, c.toType)
		if err != nil {
			return nil, fmt.Errorf("converting to %s: %w", c.target, err)
		}
		return out, nil
	}
	b, err := c.from.Serialize(topic, nil, v)
	if err != nil {
		return nil, fmt.Errorf("converting to %s: %w", c.target, err)
	}
	out, err := c.to.Deserialize(topic, nil, b)
	if err != nil {
		return nil, fmt.Errorf("converting to %s: %w", c.target, err)
	}
	return out, nil
}

type convertProc struct {
	stateless
	key, value *converter
}

func (p *convertProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	topic := ctx.RecordContext().Topic
	k, err := p.key.apply(topic, r.Key)
	if err != nil {
		return err
	}
	v, err := p.value.apply(topic, r.Value)
	if err != nil {
		return err
	}
	return ctx.Forward(r.WithKeyValue(k, v))
}

// branchProc sends each record to the first branch whose predicate holds
// (a branch without predicate takes everything); child i is branch i.
type branchProc struct {
	stateless
	preds []Function
}

func (p *branchProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	for i, f := range p.preds {
		if f != nil {
			ok, err := callPredicate(ctx, f, r.Key, r.Value)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		return ctx.ForwardTo(i, r)
	}
	return nil
}

// printProc writes "[label]: key, value" lines (Kafka Streams' Printed
// format, values spelled as upstream's toString: {"a": 1, "b": "x"}) or the
// mapper's string to stdout or a file.
type printProc struct {
	label    string
	filename string
	mapper   Function
	out      io.Writer
	file     *os.File
}

func (p *printProc) Init(*streams.ProcessorContext) error {
	if p.filename != "" {
		f, err := os.OpenFile(p.filename, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("print: %w", err)
		}
		p.file = f
		p.out = f
	}
	return nil
}

func (p *printProc) Close() error {
	if p.file != nil {
		return p.file.Close()
	}
	return nil
}

func (p *printProc) Process(ctx *streams.ProcessorContext, r streams.Record) error {
	var text string
	if p.mapper != nil {
		res, err := p.mapper.Call(ctx, r.Key, r.Value)
		if err != nil {
			return err
		}
		text = types.Format(res)
	} else {
		// Kafka Streams prints "key, value" with the values' toString,
		// which upstream's data objects spell as types.Format does.
		text = types.Format(r.Key) + ", " + types.Format(r.Value)
	}
	_, err := fmt.Fprintf(p.out, "[%s]: %s\n", p.label, text)
	return err
}

// Format renders a value for printing: strings as is, null as "null",
// structs and lists as JSON.
func Format(v any) string {
	v, err := types.Resolve(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case *types.Struct, []any, types.Tuple:
		b, err := types.MarshalJSON(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

func pair(v any) (any, any, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, nil, err
	}
	switch x := v.(type) {
	case types.Tuple:
		if len(x) == 2 {
			return x[0], x[1], nil
		}
	case []any:
		if len(x) == 2 {
			return x[0], x[1], nil
		}
	}
	return nil, nil, fmt.Errorf("expected a (key, value) tuple, got %s", types.KindName(v))
}

func asList(v any) ([]any, error) {
	v, err := types.Resolve(v)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case types.Tuple:
		return []any(x), nil
	}
	return nil, fmt.Errorf("expected a list, got %s", types.KindName(v))
}

// timestampExtractor adapts a timestampExtractor function: it gets the
// record as {timestamp, timestampType, key, value, topic, partition, offset}
// and the previous timestamp, and must return a long.
func timestampExtractor(f Function) streams.TimestampExtractor {
	return func(rec *streams.ConsumedRecord, previous int64) (int64, error) {
		st := types.NewStruct(7)
		st.Schema = consumerRecordSchema
		st.Set("timestamp", rec.Timestamp)
		st.Set("timestampType", rec.TimestampType)
		st.Set("key", rec.Key)
		st.Set("value", rec.Value)
		st.Set("topic", rec.Topic)
		st.Set("partition", int64(rec.Partition))
		st.Set("offset", rec.Offset)
		res, err := callResolved(nil, f, st, previous)
		if err != nil {
			return 0, err
		}
		ts, ok := res.(int64)
		if !ok {
			return 0, fmt.Errorf("timestamp extractor must return a long, got %s", types.KindName(res))
		}
		return ts, nil
	}
}

// partitioner adapts a streamPartitioner: an int picks one partition, a list
// of ints multicasts, anything else means default partitioning.
func partitioner(f Function) streams.Partitioner {
	return func(topic string, key, value any, n int) ([]int32, error) {
		res, err := callResolved(nil, f, topic, key, value, int64(n))
		if err != nil {
			return nil, err
		}
		switch x := res.(type) {
		case int64:
			return []int32{int32(x)}, nil
		case []any:
			out := make([]int32, 0, len(x))
			for _, e := range x {
				if p, ok := e.(int64); ok {
					out = append(out, int32(p))
				}
			}
			return out, nil
		}
		return nil, nil
	}
}

// topicExtractor adapts a topicNameExtractor: (key, value, recordContext).
func topicExtractor(f Function) streams.TopicNameExtractor {
	return func(rc *streams.RecordContext, r streams.Record) (string, error) {
		st := types.NewStruct(5)
		st.Schema = recordContextSchema
		st.Set("offset", rc.Offset)
		st.Set("timestamp", r.Timestamp)
		st.Set("topic", rc.Topic)
		st.Set("partition", int64(rc.Partition))
		st.Set("headers", headerList(r.Headers))
		res, err := callResolved(nil, f, r.Key, r.Value, st)
		if err != nil {
			return "", err
		}
		s, ok := res.(string)
		if !ok {
			return "", fmt.Errorf("topic name extractor must return a string, got %s", types.KindName(res))
		}
		return s, nil
	}
}
