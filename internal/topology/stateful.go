package topology

import (
	"fmt"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// shapeKind is the Kafka Streams abstraction a builder stream stands for.
// The zero value is a KStream.
type shapeKind int

const (
	shapeStream shapeKind = iota
	shapeGrouped
	shapeGroupedTable
	shapeWindowed // a grouped stream with a time or session window
	shapeCogrouped
	shapeTable
	shapeGlobalTable
)

func (k shapeKind) String() string {
	switch k {
	case shapeGrouped:
		return "grouped stream"
	case shapeGroupedTable:
		return "grouped table"
	case shapeWindowed:
		return "windowed stream"
	case shapeCogrouped:
		return "cogrouped stream"
	case shapeTable:
		return "table"
	case shapeGlobalTable:
		return "globalTable"
	}
	return "stream"
}

// streamShape carries what a builder stream is beyond a KStream: grouping,
// its window, and for tables the store that holds their current values
// (used by joins).
type streamShape struct {
	kind   shapeKind
	window *windowSpec
	// cogroup is the aggregator of a cogrouped stream.
	cogroup Function
	cogFD   *definition.FunctionDef
	// table: the key/value store with the table's current values, and its
	// serdes; "" when the table is not materialized.
	store   string
	storeKS streams.Serde
	storeVS streams.Serde
	storeTS bool // the store keeps record timestamps
	// storeNode is the node whose output the store holds; a table changed
	// by later operations (filter, mapValues) is materialized again before
	// a join reads it.
	storeNode string
	global    *globalTable
	// hadOld tells the table's direct children (table-table joins) whether
	// the tombstone being forwarded deleted a value; nil when unknown.
	hadOld *taskFlags
}

func shapeOf(s stream) shapeKind {
	if s.shape == nil {
		return shapeStream
	}
	return s.shape.kind
}

// windowSpec describes a windowByTime or windowBySession operation (ms).
type windowSpec struct {
	kind    string // tumbling, hopping, sliding or session
	size    int64
	advance int64
	grace   int64
	gap     int64
}

// statefulOperation builds the operations that group, aggregate, window,
// suppress, join or convert between streams and tables.
func (b *builder) statefulOperation(s stream, op *definition.Operation, name string) (stream, error) {
	switch op.Type {
	case definition.OpGroupByKey:
		return b.groupByKey(s, op, name)
	case definition.OpGroupBy:
		return b.groupBy(s, op, name)
	case definition.OpWindowByTime, definition.OpWindowBySession:
		return b.windowBy(s, op)
	case definition.OpCogroup:
		return b.cogroup(s, op)
	case definition.OpAggregate, definition.OpCount, definition.OpReduce:
		return b.aggregate(s, op, name)
	case definition.OpToStream:
		return b.toStream(s, op, name)
	case definition.OpToTable:
		return b.toTable(s, op, name)
	case definition.OpSuppress:
		return b.suppress(s, op, name)
	case definition.OpJoin, definition.OpLeftJoin, definition.OpOuterJoin:
		return b.join(s, op, name)
	}
	return s, errAt(op.Pos, "operation %q is not supported yet", op.Keyword)
}

func wrongShape(op *definition.Operation, s stream, want string) error {
	return errAt(op.Pos, "%s needs a %s, but is applied to a %s", op.Keyword, want, shapeOf(s))
}

// keyChanged reports whether a processor between the stream's node and its
// source may have changed the key, so grouping by key must repartition.
func (b *builder) keyChanged(node string) bool {
	seen := map[string]bool{}
	var walk func(n *streams.Node) bool
	walk = func(n *streams.Node) bool {
		if n == nil || seen[n.Name] {
			return false
		}
		seen[n.Name] = true
		if n.Kind == streams.SourceNode {
			return false
		}
		if n.Supplier != nil {
			switch p := n.Supplier().(type) {
			case *mapKeyProc, *mapProc, *flatMapProc, *groupByProc:
				return true
			case *convertProc:
				if p.key != nil { // convertKey is a selectKey upstream
					return true
				}
			}
		}
		for _, p := range n.Parents {
			if walk(p) {
				return true
			}
		}
		return false
	}
	n, _ := b.topo.Node(node)
	return walk(n)
}

func (b *builder) groupByKey(s stream, op *definition.Operation, name string) (stream, error) {
	if shapeOf(s) != shapeStream {
		return s, wrongShape(op, s, "stream")
	}
	if b.keyChanged(s.node) {
		var err error
		if s, err = b.repartitionTo(s, op, name); err != nil {
			return s, err
		}
	}
	s.shape = &streamShape{kind: shapeGrouped}
	return s, nil
}

// repartitionTo writes the stream to a repartition topic named after name
// and reads it back, so records with equal keys meet in one task.
func (b *builder) repartitionTo(s stream, op *definition.Operation, name string) (stream, error) {
	// A grouping's store names its repartition topic, as Grouped.as does.
	topicName := name
	if op.Store != nil {
		if op.Store.Def != nil {
			topicName = op.Store.Def.Name
		} else if op.Store.Name != "" {
			topicName = op.Store.Name
		}
	}
	topic := streams.RepartitionTopic(b.opts.ApplicationID, topicName)
	ks, vs, err := b.streamSerdes(s, op.Pos)
	if err != nil {
		return s, err
	}
	return b.streamRepartition(s, op.Pos, name, streams.InternalTopic{Name: topic, Kind: "repartition"}, streams.SinkOptions{KeySerde: ks, ValueSerde: vs})
}

// streamSerdes makes the serdes of the stream's key and value types; errors
// name pos.
func (b *builder) streamSerdes(s stream, pos definition.Pos) (streams.Serde, streams.Serde, error) {
	ks, err := b.opts.Serdes.Serde(s.key, true)
	if err != nil {
		return nil, nil, errAt(pos, "%v", err)
	}
	vs, err := b.opts.Serdes.Serde(s.value, false)
	if err != nil {
		return nil, nil, errAt(pos, "%v", err)
	}
	return ks, vs, nil
}

// throughTopic registers an internal topic, writes the stream to it with
// the sink options and reads it back with the same serdes (name-
// repartition-sink and name-repartition-source nodes). The returned stream
// is the source; errors name pos.
func (b *builder) throughTopic(s stream, pos definition.Pos, name string, topic streams.InternalTopic, sink streams.SinkOptions) (stream, error) {
	b.topo.AddInternalTopic(topic)
	sinkName := b.uniqueName(name + "-repartition-sink")
	if err := b.topo.AddSink(sinkName, topic.Name, sink, s.node); err != nil {
		return s, errAt(pos, "%v", err)
	}
	srcName := b.uniqueName(name + "-repartition-source")
	if err := b.topo.AddSource(srcName, []string{topic.Name}, streams.SourceOptions{KeySerde: sink.KeySerde, ValueSerde: sink.ValueSerde}); err != nil {
		return s, errAt(pos, "%v", err)
	}
	s.node = srcName
	return s, nil
}

func (b *builder) groupBy(s stream, op *definition.Operation, name string) (stream, error) {
	f, fd, err := b.function(op.Mapper, "groupBy", op.Pos)
	if err != nil {
		return s, err
	}
	switch shapeOf(s) {
	case shapeStream:
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &groupByProc{f: f} }, fd); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
		s.node = name
		if s.key, err = b.userType(fd.ResultType, anyType); err != nil {
			return s, err
		}
		if s, err = b.repartitionTo(s, op, name); err != nil {
			return s, err
		}
		s.shape = &streamShape{kind: shapeGrouped}
		return s, nil
	case shapeTable:
		// Records of a table are re-keyed as pairs of "subtract the old
		// value from the old key" and "add the new value to the new key",
		// and repartitioned as such (both values in one record).
		gp := &groupTableProc{f: f, store: name + "-previous"}
		if err := b.addProcessor(name, s.node, func() streams.Processor { c := *gp; return &c }, fd); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
		// The last value per table key, so an update can retract it.
		prev := &definition.StoreDef{Name: gp.store, Type: definition.StoreKeyValue, Logging: true, Pos: op.Pos}
		if gp.ks, gp.vs, _, err = b.kvStore(prev, s.key, s.value, name); err != nil {
			return s, err
		}
		s.node = name
		if s.key, s.value, err = b.pairTypes(fd.ResultType, s); err != nil {
			return s, err
		}
		ks, vs, err := b.streamSerdes(s, op.Pos)
		if err != nil {
			return s, err
		}
		topic := streams.InternalTopic{Name: streams.RepartitionTopic(b.opts.ApplicationID, name), Kind: "repartition"}
		if s, err = b.throughTopic(s, op.Pos, name, topic, streams.SinkOptions{KeySerde: ks, ValueSerde: changeSerde{vs}}); err != nil {
			return s, err
		}
		s.shape = &streamShape{kind: shapeGroupedTable}
		return s, nil
	}
	return s, wrongShape(op, s, "stream or table")
}

func (b *builder) windowBy(s stream, op *definition.Operation) (stream, error) {
	k := shapeOf(s)
	if k != shapeGrouped && k != shapeCogrouped {
		return s, wrongShape(op, s, "grouped stream")
	}
	w := &windowSpec{grace: op.Grace.Milliseconds()}
	if op.Type == definition.OpWindowBySession {
		w.kind = "session"
		w.gap = op.InactivityGap.Milliseconds()
		if w.gap <= 0 {
			return s, errAt(op.Pos, "windowBySession needs a positive inactivityGap")
		}
	} else {
		w.kind = op.WindowType
		switch w.kind {
		case "tumbling":
			w.size, w.advance = op.Duration.Milliseconds(), op.Duration.Milliseconds()
		case "hopping":
			w.size, w.advance = op.Duration.Milliseconds(), op.AdvanceBy.Milliseconds()
			if w.advance <= 0 || w.advance > w.size {
				return s, errAt(op.Pos, "hopping windows need 0 < advanceBy <= duration")
			}
		case "sliding":
			w.size = op.TimeDifference.Milliseconds()
		default:
			return s, errAt(op.Pos, "unknown window type %q", w.kind)
		}
		if w.size <= 0 {
			return s, errAt(op.Pos, "%s windows need a positive size", w.kind)
		}
	}
	sh := *s.shape
	sh.window = w
	if k == shapeGrouped {
		sh.kind = shapeWindowed
	}
	s.shape = &sh
	return s, nil
}

func (b *builder) cogroup(s stream, op *definition.Operation) (stream, error) {
	if shapeOf(s) != shapeGrouped {
		return s, wrongShape(op, s, "grouped stream")
	}
	f, fd, err := b.function(op.Aggregator, "cogroup", op.Pos)
	if err != nil {
		return s, err
	}
	s.shape = &streamShape{kind: shapeCogrouped, cogroup: f, cogFD: fd}
	return s, nil
}

// storeFor resolves the store of an operation: the referenced or inline
// definition, or a default named after the operation. Default stores log
// to a changelog topic, as Kafka Streams' DSL stores do.
func (b *builder) storeFor(op *definition.Operation, ref *definition.StoreRef, name string, kind definition.StoreType) (*definition.StoreDef, error) {
	if ref != nil {
		sd := ref.Def
		if sd == nil {
			sd = b.def.Store(ref.Name)
		}
		if sd == nil {
			return nil, errAt(ref.Pos, "unknown store %q", ref.Name)
		}
		if sd.Type != kind {
			return nil, errAt(ref.Pos, "%s needs a %s store, but %q is a %s store", op.Keyword, kind, sd.Name, sd.Type)
		}
		return sd, nil
	}
	return &definition.StoreDef{Name: name + "-store", Type: kind, Logging: true, Pos: op.Pos}, nil
}

// storeTypes resolves the key and value types a store declares; key and
// value stand for the ones it leaves out. Errors name the declared type.
func (b *builder) storeTypes(sd *definition.StoreDef, key, value types.UserType) (types.UserType, types.UserType, error) {
	var err error
	if key, err = b.userType(sd.KeyType, key); err != nil {
		return key, value, err
	}
	if value, err = b.userType(sd.ValueType, value); err != nil {
		return key, value, err
	}
	return key, value, nil
}

// storeSerdes makes the serdes of a store's key and value types, bound to
// its changelog topic (streams.StoreSerde). Errors name the store at its
// position.
func (b *builder) storeSerdes(sd *definition.StoreDef, key, value types.UserType) (streams.Serde, streams.Serde, error) {
	ks, err := b.opts.Serdes.Serde(key, true)
	if err != nil {
		return nil, nil, errAt(sd.Pos, "store %q key type: %v", sd.Name, err)
	}
	vs, err := b.opts.Serdes.Serde(value, false)
	if err != nil {
		return nil, nil, errAt(sd.Pos, "store %q value type: %v", sd.Name, err)
	}
	return streams.StoreSerde(ks, b.opts.ApplicationID, sd.Name), streams.StoreSerde(vs, b.opts.ApplicationID, sd.Name), nil
}

// kvStore registers a key/value store for an operation's state. It
// reports whether the store keeps timestamps with its values (declared
// timestamped), which typed views then strip.
func (b *builder) kvStore(sd *definition.StoreDef, key, value types.UserType, node string) (streams.Serde, streams.Serde, bool, error) {
	key, value, err := b.storeTypes(sd, key, value)
	if err != nil {
		return nil, nil, false, err
	}
	if kb := b.res.Stores.KeyValue(sd.Name); kb != nil && b.topo.HasStore(sd.Name) {
		if err := b.topo.ConnectStore(node, sd.Name); err != nil {
			return nil, nil, false, errAt(sd.Pos, "%v", err)
		}
		return kb.KeySerde, kb.ValueSerde, kb.Timestamped, nil
	}
	ks, vs, err := b.storeSerdes(sd, key, value)
	if err != nil {
		return nil, nil, false, err
	}
	kb := &store.KeyValueBuilder{StoreName: sd.Name, KeySerde: ks, ValueSerde: vs, IsPersistent: sd.Persistent, LoggingOn: sd.Logging, Timestamped: sd.Timestamped}
	b.res.Stores.addKeyValue(kb)
	if err := b.topo.AddStateStore(kb, node); err != nil {
		return nil, nil, false, errAt(sd.Pos, "%v", err)
	}
	return ks, vs, sd.Timestamped, nil
}

// addTableNode adds the processor name after parents, made by newProc over
// the key/value store sd, and registers sd for it with the key and value
// types. It returns the shape of the table the processor outputs, whose
// values sd holds. Errors adding the processor name pos.
func (b *builder) addTableNode(name string, parents []string, pos definition.Pos, sd *definition.StoreDef, key, value types.UserType,
	newProc func(tableStore) streams.Processor, fds ...*definition.FunctionDef) (*streamShape, error) {
	// Tables keep each value's timestamp, as Kafka Streams' timestamped
	// DSL stores do: joins and aggregations forward the highest timestamp
	// of what they combine.
	tsd := *sd
	tsd.Timestamped = true
	sd = &tsd
	t := &tableStore{kvStoreAccess: kvStoreAccess{store: sd.Name}, recordCache: recordCache{on: sd.Caching}}
	if !sd.Caching {
		t.hadOld = &taskFlags{}
	}
	if err := b.addProcessorAfter(name, parents, func() streams.Processor { return newProc(*t) }, fds...); err != nil {
		return nil, errAt(pos, "%v", err)
	}
	var err error
	if t.ks, t.vs, t.timestamped, err = b.kvStore(sd, key, value, name); err != nil {
		return nil, err
	}
	return &streamShape{kind: shapeTable, store: sd.Name, storeKS: t.ks, storeVS: t.vs, storeTS: t.timestamped, storeNode: name, hadOld: t.hadOld}, nil
}

// windowStore registers a window store for an operation's state.
func (b *builder) windowStore(sd *definition.StoreDef, key, value types.UserType, node string, size, retention int64, dups bool) (streams.Serde, streams.Serde, error) {
	key, value, err := b.storeTypes(sd, key, value)
	if err != nil {
		return nil, nil, err
	}
	if wb, ok := storeBuilder(b.topo, sd.Name).(*store.WindowBuilder); ok {
		if err := b.topo.ConnectStore(node, sd.Name); err != nil {
			return nil, nil, errAt(sd.Pos, "%v", err)
		}
		return wb.KeySerde, wb.ValueSerde, nil
	}
	ks, vs, err := b.storeSerdes(sd, key, value)
	if err != nil {
		return nil, nil, err
	}
	if r := sd.Retention.Milliseconds(); r > retention {
		retention = r
	}
	if s := sd.WindowSize.Milliseconds(); s > 0 {
		size = s
	}
	wb := &store.WindowBuilder{StoreName: sd.Name, KeySerde: ks, ValueSerde: vs, WindowSize: size, Retention: retention,
		RetainDuplicates: dups || sd.RetainDuplicates, IsPersistent: sd.Persistent, LoggingOn: sd.Logging}
	if err := b.topo.AddStateStore(wb, nodes(node)...); err != nil {
		return nil, nil, errAt(sd.Pos, "%v", err)
	}
	b.res.Stores.addWindowed(wb)
	return ks, vs, nil
}

// sessionStore registers a session store for an operation's state.
func (b *builder) sessionStore(sd *definition.StoreDef, key, value types.UserType, node string, retention int64) (streams.Serde, streams.Serde, error) {
	key, value, err := b.storeTypes(sd, key, value)
	if err != nil {
		return nil, nil, err
	}
	if sb, ok := storeBuilder(b.topo, sd.Name).(*store.SessionBuilder); ok {
		if err := b.topo.ConnectStore(node, sd.Name); err != nil {
			return nil, nil, errAt(sd.Pos, "%v", err)
		}
		return sb.KeySerde, sb.ValueSerde, nil
	}
	ks, vs, err := b.storeSerdes(sd, key, value)
	if err != nil {
		return nil, nil, err
	}
	if r := sd.Retention.Milliseconds(); r > retention {
		retention = r
	}
	sb := &store.SessionBuilder{StoreName: sd.Name, KeySerde: ks, ValueSerde: vs, Retention: retention, IsPersistent: sd.Persistent, LoggingOn: sd.Logging}
	if err := b.topo.AddStateStore(sb, nodes(node)...); err != nil {
		return nil, nil, errAt(sd.Pos, "%v", err)
	}
	b.res.Stores.addWindowed(sb)
	return ks, vs, nil
}

// addWindowedStore registers a top-level window or session store that a
// function declares.
func (b *builder) addWindowedStore(sd *definition.StoreDef, key, value types.UserType) error {
	switch sd.Type {
	case definition.StoreWindow:
		size := sd.WindowSize.Milliseconds()
		_, _, err := b.windowStore(sd, key, value, "", size, sd.Retention.Milliseconds(), false)
		return err
	case definition.StoreSession:
		_, _, err := b.sessionStore(sd, key, value, "", sd.Retention.Milliseconds())
		return err
	}
	return errAt(sd.Pos, "%s store %q is not supported", sd.Type, sd.Name)
}

func storeBuilder(t *streams.Topology, name string) streams.StoreBuilder {
	for _, sb := range t.StoreBuilders() {
		if sb.Name() == name {
			return sb
		}
	}
	return nil
}

func (b *builder) aggregate(s stream, op *definition.Operation, name string) (stream, error) {
	k := shapeOf(s)
	if k == shapeCogrouped && s.shape.window != nil {
		k = shapeWindowed // a windowed cogroup aggregates like a windowed stream
	}
	switch k {
	case shapeGrouped, shapeCogrouped:
		return b.aggregateKV(s, op, name)
	case shapeWindowed:
		if s.shape.window.kind == "session" {
			return b.aggregateSession(s, op, name)
		}
		return b.aggregateWindow(s, op, name)
	case shapeGroupedTable:
		return b.aggregateKV(s, op, name)
	}
	return s, wrongShape(op, s, "grouped stream or table")
}

// aggFuncs are the functions of an aggregation and its result type.
type aggFuncs struct {
	kind        definition.OpType
	init        Function
	agg         Function
	reduce      Function
	merge       Function
	add, sub    Function
	resultValue types.UserType
}

var longType = types.UserType{Notation: types.DefaultNotation, Type: types.Long}

func (b *builder) aggFunctions(s stream, op *definition.Operation, node string) (*aggFuncs, []*definition.FunctionDef, error) {
	a := &aggFuncs{kind: op.Type, resultValue: s.value}
	var fds []*definition.FunctionDef
	typed := false
	fn := func(ref *definition.FunctionRef, what string) (Function, error) {
		f, fd, err := b.function(ref, what, op.Pos)
		if err != nil {
			return nil, err
		}
		fds = append(fds, fd)
		// The first function with an explicit resultType sets the
		// aggregate's type, as upstream decides it.
		if !fd.ResultType.IsZero() && !typed {
			typed = true
			if a.resultValue, err = b.userType(fd.ResultType, anyType); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	var err error
	switch op.Type {
	case definition.OpCount:
		a.resultValue = longType
	case definition.OpReduce:
		if shapeOf(s) == shapeGroupedTable {
			if a.add, err = fn(op.Adder, "adder"); err != nil {
				return nil, nil, err
			}
			if a.sub, err = fn(op.Subtractor, "subtractor"); err != nil {
				return nil, nil, err
			}
		} else if a.reduce, err = fn(op.Reducer, "reducer"); err != nil {
			return nil, nil, err
		}
	case definition.OpAggregate:
		if a.init, err = fn(op.Initializer, "initializer"); err != nil {
			return nil, nil, err
		}
		switch {
		case shapeOf(s) == shapeGroupedTable:
			if a.add, err = fn(op.Adder, "adder"); err != nil {
				return nil, nil, err
			}
			if a.sub, err = fn(op.Subtractor, "subtractor"); err != nil {
				return nil, nil, err
			}
		case s.shape != nil && s.shape.cogroup != nil:
			a.agg = s.shape.cogroup
			fds = append(fds, s.shape.cogFD)
		default:
			if a.agg, err = fn(op.Aggregator, "aggregator"); err != nil {
				return nil, nil, err
			}
		}
		if s.shape != nil && s.shape.window != nil && s.shape.window.kind == "session" {
			if a.merge, err = fn(op.Merger, "merger"); err != nil {
				return nil, nil, err
			}
		}
	}
	return a, fds, nil
}

// aggregateKV aggregates a grouped (or cogrouped) stream or a grouped table
// into a key/value store.
func (b *builder) aggregateKV(s stream, op *definition.Operation, name string) (stream, error) {
	a, fds, err := b.aggFunctions(s, op, name)
	if err != nil {
		return s, err
	}
	sd, err := b.storeFor(op, op.Store, name, definition.StoreKeyValue)
	if err != nil {
		return s, err
	}
	newProc := func(t tableStore) streams.Processor { return &kvAggregateProc{aggFuncs: a, tableStore: t} }
	if shapeOf(s) == shapeGroupedTable {
		newProc = func(t tableStore) streams.Processor { return &tableAggregateProc{aggFuncs: a, tableStore: t} }
	}
	sh, err := b.addTableNode(name, []string{s.node}, op.Pos, sd, s.key, a.resultValue, newProc, fds...)
	if err != nil {
		return s, err
	}
	s.node, s.value, s.shape = name, a.resultValue, sh
	return s, nil
}

func windowedKeyType(k types.UserType) types.UserType {
	return types.UserType{Notation: k.Notation, Type: types.WindowedType{Key: k.Type}}
}

func (b *builder) aggregateWindow(s stream, op *definition.Operation, name string) (stream, error) {
	a, fds, err := b.aggFunctions(s, op, name)
	if err != nil {
		return s, err
	}
	w := s.shape.window
	sd, err := b.storeFor(op, op.Store, name, definition.StoreWindow)
	if err != nil {
		return s, err
	}
	if w.kind == "sliding" {
		retention := max(2*w.size+w.grace+1, sd.Retention.Milliseconds())
		p := &slidingAggregateProc{aggFuncs: a, windowStoreAccess: windowStoreAccess{store: sd.Name}, d: w.size, grace: w.grace, retention: retention, recordCache: recordCache{on: sd.Caching}}
		if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; return &c }, fds...); err != nil {
			return s, errAt(op.Pos, "%v", err)
		}
		if p.ks, p.vs, err = b.windowStore(sd, s.key, a.resultValue, name, w.size, retention, false); err != nil {
			return s, err
		}
		if wb, ok := storeBuilder(b.topo, sd.Name).(*store.WindowBuilder); ok {
			wb.Timestamped = true // sliding windows keep their highest record timestamp
		}
		s.node, s.value, s.key = name, a.resultValue, windowedKeyType(s.key)
		s.shape = &streamShape{kind: shapeTable, window: w}
		return s, nil
	}
	p := &windowAggregateProc{aggFuncs: a, windowStoreAccess: windowStoreAccess{store: sd.Name}, w: *w, retention: max(w.size+w.grace, sd.Retention.Milliseconds()), recordCache: recordCache{on: sd.Caching}}
	if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; return &c }, fds...); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if p.ks, p.vs, err = b.windowStore(sd, s.key, a.resultValue, name, w.size, w.size+w.grace, false); err != nil {
		return s, err
	}
	if wb, ok := storeBuilder(b.topo, sd.Name).(*store.WindowBuilder); ok {
		wb.Timestamped = true // a window's result carries its highest record timestamp
	}
	s.node, s.value, s.key = name, a.resultValue, windowedKeyType(s.key)
	s.shape = &streamShape{kind: shapeTable, window: w}
	return s, nil
}

func (b *builder) aggregateSession(s stream, op *definition.Operation, name string) (stream, error) {
	a, fds, err := b.aggFunctions(s, op, name)
	if err != nil {
		return s, err
	}
	w := s.shape.window
	sd, err := b.storeFor(op, op.Store, name, definition.StoreSession)
	if err != nil {
		return s, err
	}
	p := &sessionAggregateProc{aggFuncs: a, store: sd.Name, w: *w, recordCache: recordCache{on: sd.Caching}, retention: max(w.gap+w.grace, sd.Retention.Milliseconds())}
	if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; return &c }, fds...); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if p.ks, p.vs, err = b.sessionStore(sd, s.key, a.resultValue, name, w.gap+w.grace); err != nil {
		return s, err
	}
	s.node, s.value, s.key = name, a.resultValue, windowedKeyType(s.key)
	s.shape = &streamShape{kind: shapeTable, window: w}
	return s, nil
}

func (b *builder) toStream(s stream, op *definition.Operation, name string) (stream, error) {
	if shapeOf(s) != shapeTable {
		return s, wrongShape(op, s, "table")
	}
	var proc func() streams.Processor
	var fd *definition.FunctionDef
	if op.Mapper != nil {
		f, d, err := b.function(op.Mapper, "toStream", op.Pos)
		if err != nil {
			return s, err
		}
		fd = d
		proc = func() streams.Processor { return &mapKeyProc{f: f} }
		if s.key, err = b.userType(fd.ResultType, anyType); err != nil {
			return s, err
		}
	} else {
		proc = func() streams.Processor { return passThrough }
	}
	if err := b.addProcessor(name, s.node, proc, fd); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	s.node, s.shape = name, nil
	return s, nil
}

func (b *builder) toTable(s stream, op *definition.Operation, name string) (stream, error) {
	if shapeOf(s) != shapeStream {
		return s, wrongShape(op, s, "stream")
	}
	s, err := b.repartitionRekeyed(s, op.Pos, name)
	if err != nil {
		return s, err
	}
	return b.tableResult(s, op, name, s.value, s.node)
}

// tableResult materializes what parents output as the table name, with
// the stream's key type and the value type value, in the operation's
// key/value store (a default one named after name when it has none).
func (b *builder) tableResult(s stream, op *definition.Operation, name string, value types.UserType, parents ...string) (stream, error) {
	sd, err := b.storeFor(op, op.Store, name, definition.StoreKeyValue)
	if err != nil {
		return s, err
	}
	sh, err := b.addTableNode(name, parents, op.Pos, sd, s.key, value, newMaterializeProc)
	if err != nil {
		return s, err
	}
	s.node, s.value, s.shape = name, value, sh
	return s, nil
}

// tableSource reads a topic as a table or globalTable, materialized in its
// store so joins can look values up.
func (b *builder) tableSource(td *definition.TopicDef, pos definition.Pos) (stream, error) {
	if s, ok, err := b.cachedSource(td, pos); ok || err != nil {
		return s, err
	}
	src, opts, err := b.topicSource(td, pos)
	if err != nil {
		return stream{}, err
	}
	sd := &definition.StoreDef{Name: td.Topic, Type: definition.StoreKeyValue, Pos: td.Pos}
	if td.Store != nil {
		if sd, err = b.storeFor(&definition.Operation{Keyword: td.Kind.String(), Pos: td.Pos}, td.Store, td.Topic, definition.StoreKeyValue); err != nil {
			return stream{}, err
		}
	}
	name := b.uniqueName(src.node + "-materialize")
	s := stream{node: name, key: src.key, value: src.value}
	if td.Kind == definition.KindGlobalTable {
		// A global store's serdes see its source topic, which is its
		// changelog, as in Kafka Streams.
		g := &globalTable{name: sd.Name, kv: store.NewMemoryKeyValue(sd.Name),
			ks: streams.BindTopic(opts.KeySerde, td.Topic), vs: streams.BindTopic(opts.ValueSerde, td.Topic)}
		if err := b.topo.AddProcessor(name, func() streams.Processor { return &globalTableProc{g: g} }, src.node); err != nil {
			return stream{}, errAt(pos, "%v", err)
		}
		if err := b.topo.AddStateStore(&sharedStoreBuilder{g: g}, name); err != nil {
			return stream{}, errAt(pos, "%v", err)
		}
		s.shape = &streamShape{kind: shapeGlobalTable, global: g}
		b.topo.MarkGlobal(td.Topic)
	} else {
		if s.shape, err = b.addTableNode(name, []string{src.node}, pos, sd, src.key, src.value, newMaterializeProc); err != nil {
			return stream{}, err
		}
	}
	b.sources[td.Topic] = s
	return s, nil
}

func (b *builder) suppress(s stream, op *definition.Operation, name string) (stream, error) {
	if shapeOf(s) != shapeTable {
		return s, wrongShape(op, s, "table")
	}
	ks, vs, err := b.streamSerdes(s, op.Pos)
	if err != nil {
		return s, err
	}
	p := &suppressProc{ks: ks, vs: vs}
	switch op.Until {
	case "windowCloses":
		if s.shape.window == nil {
			return s, errAt(op.Pos, "suppress until windowCloses needs a windowed table")
		}
		p.untilClose = true
		p.w = *s.shape.window
	case "timeLimit":
		p.limit = op.Duration.Milliseconds()
	default:
		return s, errAt(op.Pos, "suppress needs until: windowCloses or timeLimit")
	}
	if p.maxRecords, err = parseCount(op.MaxRecords); err != nil {
		return s, errAt(op.Pos, "maxRecords: %v", err)
	}
	if p.maxBytes, err = parseBytes(op.MaxBytes); err != nil {
		return s, errAt(op.Pos, "maxBytes: %v", err)
	}
	p.shutdownWhenFull = op.BufferFullStrategy == "shutdownWhenFull"
	p.store = name + "-suppress-buffer"
	if err := b.addProcessor(name, s.node, func() streams.Processor { c := *p; c.buf = nil; return &c }); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	if err := b.topo.AddStateStore(&rawKVBuilder{name: p.store, logging: true}, name); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	s.node = name
	sh := *s.shape
	sh.store = "" // suppressed values differ from the upstream store
	s.shape = &sh
	return s, nil
}

func parseCount(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a record count", s)
	}
	return n, nil
}

func parseBytes(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	var n int64
	var unit string
	fmt.Sscanf(s, "%d%s", &n, &unit)
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}
	m, ok := mult[lower(unit)]
	if !ok || n < 0 {
		return 0, fmt.Errorf("%q is not a byte size", s)
	}
	return n * m, nil
}

func lower(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}

func nodes(n string) []string {
	if n == "" {
		return nil
	}
	return []string{n}
}

// setStateDirs points persistent stores at Options.StateDir.
func (b *builder) setStateDirs() {
	if b.opts.StateDir == "" {
		return
	}
	for _, sb := range b.topo.StoreBuilders() {
		switch x := sb.(type) {
		case *store.KeyValueBuilder:
			x.Dir = b.opts.StateDir
		case *store.WindowBuilder:
			x.Dir = b.opts.StateDir
		case *store.SessionBuilder:
			x.Dir = b.opts.StateDir
		case *store.VersionedBuilder:
			x.Dir = b.opts.StateDir
		}
	}
}

// addVersionedStore registers a versioned key/value store that functions
// declare.
func (b *builder) addVersionedStore(sd *definition.StoreDef, key, value types.UserType) error {
	key, value, err := b.storeTypes(sd, key, value)
	if err != nil {
		return err
	}
	ks, vs, err := b.storeSerdes(sd, key, value)
	if err != nil {
		return err
	}
	vb := &store.VersionedBuilder{StoreName: sd.Name, KeySerde: ks, ValueSerde: vs, HistoryRetention: sd.HistoryRetention.Milliseconds(),
		IsPersistent: sd.Persistent, LoggingOn: sd.Logging}
	if err := b.topo.AddStateStore(vb); err != nil {
		return errAt(sd.Pos, "%v", err)
	}
	b.res.Stores.addWindowed(vb)
	return nil
}

// materialized returns a table whose store holds the values of its own
// node, adding a store after the node when the table was changed since it
// was last materialized (or never was).
func (b *builder) materialized(s stream, op *definition.Operation) (stream, error) {
	if s.shape.store != "" && s.shape.storeNode == s.node {
		return s, nil
	}
	name := b.uniqueName(s.node + "-materialized")
	sd := &definition.StoreDef{Name: name + "-store", Type: definition.StoreKeyValue, Logging: true, Pos: op.Pos}
	t, err := b.addTableNode(name, []string{s.node}, op.Pos, sd, s.key, s.value, newMaterializeProc)
	if err != nil {
		return s, err
	}
	sh := *s.shape
	sh.store, sh.storeKS, sh.storeVS, sh.storeTS, sh.storeNode = t.store, t.storeKS, t.storeVS, t.storeTS, t.storeNode
	s.node, s.shape = name, &sh
	return s, nil
}
