package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
	"github.com/ksml-dev/ksml/internal/topology"
	"github.com/ksml-dev/ksml/internal/types"
)

// maxGenerateTries is how often a producer calls its generator for one
// message before it gives up on that message (upstream's limit).
const maxGenerateTries = 10

// producer is one definition producer, with upstream's semantics:
//
//   - without interval, count and until it produces one message, once;
//   - otherwise every interval (0: as fast as possible) it produces a batch
//     of batchSize messages (1..1000, default 1), until count messages were
//     produced or until returned true for a produced message;
//   - condition, when set, must accept a message or it is skipped (and the
//     generator is called again, up to 10 times per message);
//   - the generator returns one (key, value) tuple or a list of them.
type producer struct {
	name       string
	namespace  string
	topic      string
	keySerde   streams.Serde
	valueSerde streams.Serde
	// keyType and valueType are the topic's; generated keys and values
	// are converted to them before serialization (conv), as upstream
	// does.
	keyType, valueType types.UserType
	conv               func(v any, from, to types.UserType) (any, error)
	// failed counts a message that could not be converted or serialized.
	failed      func()
	generator   topology.Function
	condition   topology.Function
	until       topology.Function
	partitioner topology.Function

	once      bool
	count     int64 // 0: unbounded
	batchSize int
	interval  time.Duration

	produced int64
	sent     int64 // in the current batch
	stop     bool
	metrics  *observability.ProducerCounters
	queue    [][2]any
	log      *slog.Logger
}

func (r *Runner) producers() ([]*producer, error) {
	var out []*producer
	var errs []error
	for _, def := range r.defs {
		for _, p := range def.Producers {
			pr, err := r.newProducer(def, p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, pr)
		}
	}
	return out, errors.Join(errs...)
}

func (r *Runner) newProducer(def *definition.Definition, p *definition.Producer) (*producer, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: producer %q: %s", p.Pos, p.Name, fmt.Sprintf(format, args...))
	}
	if p.Generator == nil || p.Generator.Def == nil {
		return nil, fail("has no generator function")
	}
	if p.To == nil || p.To.Def == nil {
		return nil, fail("has no target topic")
	}
	td := p.To.Def
	pr := &producer{name: p.Name, namespace: def.Namespace, topic: td.Topic, log: r.log.With("producer", def.Namespace+"."+p.Name)}
	kt, err := td.KeyType.UserType()
	if err != nil {
		return nil, fail("key type: %v", err)
	}
	vt, err := td.ValueType.UserType()
	if err != nil {
		return nil, fail("value type: %v", err)
	}
	pr.keyType, pr.valueType, pr.conv = kt, vt, r.serdes.Convert
	pr.failed = func() { r.counters.Failed(kafkaio.ProduceError, td.Topic) }
	if pr.keySerde, err = r.serdes.Serde(kt, true); err != nil {
		return nil, fail("key type %s: %v", td.KeyType.Text, err)
	}
	if pr.valueSerde, err = r.serdes.Serde(vt, false); err != nil {
		return nil, fail("value type %s: %v", td.ValueType.Text, err)
	}
	compile := func(ref *definition.FunctionRef) (topology.Function, error) {
		if ref == nil || ref.Def == nil {
			return nil, nil
		}
		return r.funcs.Compile(def, ref.Def, r.topo.Stores)
	}
	if pr.generator, err = compile(p.Generator); err != nil {
		return nil, err
	}
	if pr.condition, err = compile(p.Condition); err != nil {
		return nil, err
	}
	if pr.until, err = compile(p.Until); err != nil {
		return nil, err
	}
	if pr.partitioner, err = compile(td.Partitioner); err != nil {
		return nil, err
	}
	pr.once = p.Interval == 0 && p.Count == 0 && p.Until == nil
	pr.interval = p.Interval
	pr.count = p.Count
	pr.batchSize = p.BatchSize
	if pr.batchSize == 0 {
		pr.batchSize = 1
	} else if pr.batchSize < 1 || pr.batchSize > 1000 {
		pr.log.Warn("batch size must be between 1 and 1000; using 1", "batchSize", p.BatchSize)
		pr.batchSize = 1
	}
	if pr.once {
		pr.count, pr.batchSize, pr.condition, pr.until = 1, 1, nil, nil
	}
	return pr, nil
}

// runProducers runs all producers on one producing client until they are
// done or ctx is cancelled. Each producer runs in its own goroutine; their
// Python calls are serialized by the interpreter.
func (r *Runner) runProducers(ctx context.Context, kc *kafkaclient.Config, producers []*producer) error {
	opts := append(kc.ProducerOpts(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("creating Kafka producer: %w", err)
	}
	defer cl.Close()
	topics := kafkaio.NewTopics(kadm.NewClient(cl), !r.noTopicCreation(), r.createdPartitions(), kc.ReplicationFactor, r.log)
	handler := r.handler(r.cfg.KSML.ErrorHandling.Produce)
	// Deliveries finish even after ctx is cancelled, so a stop loses nothing
	// that was generated.
	prodCtx, cancelProd := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelProd()
	col := kafkaio.NewCollector(prodCtx, cl, topics, &handler, r.counters, func(rerr *kafkaio.RecordError, key, value []byte) {
		if handler.Log {
			lg := handler.Logger
			if lg == nil {
				lg = r.log
			}
			lg.Error("producing failed", "topic", rerr.Topic, "error", rerr.Err.Error())
		}
	})
	for _, p := range producers {
		r.log.Info("scheduled producer", "producer", p.namespace+"."+p.name, "topic", p.topic,
			"interval", p.interval.String(), "count", p.count, "once", p.once)
	}
	r.mu.Lock()
	var reg *observability.Registry
	if r.servers != nil {
		reg = r.servers.Registry
	}
	r.mu.Unlock()
	for _, p := range producers {
		p.metrics = reg.Producer(p.namespace, p.name)
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(producers))
	for _, p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.run(ctx, col); err != nil {
				errc <- fmt.Errorf("producer %s.%s: %w", p.namespace, p.name, err)
			}
		}()
	}
	wg.Wait()
	close(errc)
	errs := []error{}
	for err := range errc {
		errs = append(errs, err)
	}
	if err := col.Flush(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (p *producer) shouldReschedule() bool {
	return !p.once && !p.stop && (p.count == 0 || p.produced < p.count)
}

func (p *producer) run(ctx context.Context, col *kafkaio.Collector) error {
	next := time.Now()
	for {
		p.sent = 0
		if err := p.produceBatch(col); err != nil {
			p.metrics.Failed(1)
			return err
		}
		// Wait for delivery, as upstream waits for the batch's futures.
		if err := col.Flush(); err != nil {
			p.metrics.Failed(1)
			return err
		}
		p.metrics.Produced(p.sent)
		if !p.shouldReschedule() {
			p.log.Info("producer finished", "produced", p.produced)
			return nil
		}
		next = next.Add(p.interval)
		wait := time.Until(next)
		if wait < 0 {
			wait = 0
			next = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (p *producer) produceBatch(col *kafkaio.Collector) error {
	n := int64(p.batchSize)
	if p.count > 0 {
		n = min(n, p.count-p.produced)
	}
	for i := int64(0); i < n; i++ {
		msg, err := p.generate()
		if err != nil {
			return err
		}
		if msg == nil {
			p.log.Warn("could not generate a valid message; skipping", "tries", maxGenerateTries)
			continue
		}
		key, value, ok := p.convert(msg[0], msg[1])
		if !ok {
			continue
		}
		msg[0], msg[1] = key, value
		if err := p.send(col, key, value); err != nil {
			return err
		}
		p.log.Debug("produced message", "topic", p.topic, "message", p.produced+1,
			"key", topology.Format(msg[0]), "value", topology.Format(msg[1]))
		p.produced++
		p.sent++
		if p.until != nil {
			stop, err := callPredicate(p.until, msg[0], msg[1])
			if err != nil {
				return fmt.Errorf("until: %w", err)
			}
			if stop {
				p.stop = true
				return nil
			}
		}
	}
	return nil
}

// generate returns the next accepted message, or nil when none was found
// in maxGenerateTries generator calls.
func (p *producer) generate() (*[2]any, error) {
	for try := 0; try < maxGenerateTries; try++ {
		if len(p.queue) == 0 {
			res, err := p.generator.Call(nil)
			if err != nil {
				return nil, fmt.Errorf("generator: %w", err)
			}
			if p.queue, err = messages(res, p.log); err != nil {
				return nil, err
			}
			if len(p.queue) == 0 {
				continue
			}
		}
		msg := p.queue[0]
		p.queue = p.queue[1:]
		if p.condition != nil {
			ok, err := callPredicate(p.condition, msg[0], msg[1])
			if err != nil {
				return nil, fmt.Errorf("condition: %w", err)
			}
			if !ok {
				p.log.Warn("skipping message rejected by the condition", "key", topology.Format(msg[0]), "value", topology.Format(msg[1]))
				continue
			}
		}
		return &msg, nil
	}
	return nil, nil
}

// generatedType is how generated values are seen when converted: Python
// data whose notation is JSON (a dict into a string topic becomes its JSON
// text).
var generatedType = types.UserType{Notation: "json", Type: types.AnyType{}}

// convert converts a generated key and value to the topic's types. A value
// that does not convert is skipped: logged as an error and counted as a
// failed produce (ok false).
func (p *producer) convert(key, value any) (any, any, bool) {
	k, err := p.conv(key, generatedType, p.keyType)
	if err == nil {
		var v any
		if v, err = p.conv(value, generatedType, p.valueType); err == nil {
			return k, v, true
		}
		err = fmt.Errorf("value does not convert to %s: %w", p.valueType, err)
	} else {
		err = fmt.Errorf("key does not convert to %s: %w", p.keyType, err)
	}
	p.log.Error("skipping generated message", "topic", p.topic, "key", topology.Format(key),
		"value", topology.Format(value), "error", err.Error())
	p.metrics.Failed(1)
	if p.failed != nil {
		p.failed()
	}
	return nil, nil, false
}

func (p *producer) send(col *kafkaio.Collector, key, value any) error {
	// Serdes may add headers (the schema id in Apicurio's headers mode).
	var headers []streams.Header
	kb, err := p.keySerde.Serialize(p.topic, &headers, key)
	if err != nil {
		return fmt.Errorf("serializing key for topic %q: %w", p.topic, err)
	}
	vb, err := p.valueSerde.Serialize(p.topic, &headers, value)
	if err != nil {
		return fmt.Errorf("serializing value for topic %q: %w", p.topic, err)
	}
	now := time.Now().UnixMilli()
	if p.partitioner == nil {
		return col.Send(p.topic, -1, kb, vb, now, headers)
	}
	n, err := col.Partitions(p.topic)
	if err != nil {
		return err
	}
	// As upstream, the partitioner sees the serialized key and value.
	res, err := p.partitioner.Call(nil, p.topic, kb, vb, int64(n))
	if err != nil {
		return fmt.Errorf("partitioner: %w", err)
	}
	if res, err = types.Resolve(res); err != nil {
		return err
	}
	switch x := res.(type) {
	case int64:
		return col.Send(p.topic, int32(x), kb, vb, now, headers)
	case []any:
		for _, e := range x {
			if part, ok := e.(int64); ok {
				if err := col.Send(p.topic, int32(part), kb, vb, now, headers); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return col.Send(p.topic, -1, kb, vb, now, headers)
}

func callPredicate(f topology.Function, key, value any) (bool, error) {
	res, err := f.Call(nil, key, value)
	if err != nil {
		return false, err
	}
	if res, err = types.Resolve(res); err != nil {
		return false, err
	}
	b, ok := res.(bool)
	if !ok {
		return false, fmt.Errorf("must return a boolean, got %s", topology.Format(res))
	}
	return b, nil
}

// messages reads a generator result: a (key, value) tuple or a list of
// them; other elements are logged and skipped, as upstream does.
func messages(res any, log *slog.Logger) ([][2]any, error) {
	res, err := types.Resolve(res)
	if err != nil {
		return nil, err
	}
	pair := func(e any) (*[2]any, bool) {
		switch t := e.(type) {
		case types.Tuple:
			if len(t) == 2 {
				return &[2]any{t[0], t[1]}, true
			}
		case []any:
			if len(t) == 2 {
				return &[2]any{t[0], t[1]}, true
			}
		}
		return nil, false
	}
	switch x := res.(type) {
	case nil:
		return nil, nil
	case types.Tuple:
		if m, ok := pair(x); ok {
			return [][2]any{*m}, nil
		}
	case []any:
		out := make([][2]any, 0, len(x))
		for _, e := range x {
			if m, ok := pair(e); ok {
				out = append(out, *m)
			} else {
				log.Warn("skipping invalid message: not a (key, value) tuple", "message", topology.Format(e))
			}
		}
		return out, nil
	}
	log.Warn("skipping invalid generator result: not a (key, value) tuple or a list of them", "result", topology.Format(res))
	return nil, nil
}
