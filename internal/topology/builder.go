package topology

import (
	"fmt"
	"os"
	"strconv"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/types"
)

// stream is the builder's view of a KStream under construction: the node
// whose output it is and the declared key and value types.
type stream struct {
	node  string
	key   types.UserType
	value types.UserType
	shape *streamShape // nil for a KStream; see stateful.go
}

type builder struct {
	opts    Options
	topo    *streams.Topology
	res     *Result
	def     *definition.Definition
	fns     map[*definition.FunctionDef]Function
	sources map[string]stream // topic -> source
	results map[string]stream // pipeline and branch results by their `as` name
	names   map[string]bool
	// nullKeyFilters guard the stream repartition topics.
	nullKeyFilters []nullKeyFilter
}

// Build creates the topology of all definitions (one application, as
// upstream builds all definitions of a runner into one topology).
func Build(defs []*definition.Definition, opts Options) (*Result, error) {
	if opts.Functions == nil || opts.Serdes == nil {
		return nil, fmt.Errorf("topology: a function compiler and a serde provider are required")
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	b := &builder{
		opts:    opts,
		topo:    streams.NewTopology(opts.ApplicationID),
		res:     &Result{Stores: newStoreCatalog()},
		fns:     map[*definition.FunctionDef]Function{},
		sources: map[string]stream{},
		results: map[string]stream{},
		names:   map[string]bool{},
	}
	b.res.Topology = b.topo
	for _, d := range defs {
		b.def = d
		for _, sd := range d.Stores {
			if err := b.addStore(sd, types.UserType{}, types.UserType{}); err != nil {
				return nil, err
			}
		}
		for _, p := range d.Pipelines {
			if err := b.pipeline(p); err != nil {
				return nil, err
			}
		}
	}
	b.resolveNullKeyFilters()
	b.setStateDirs()
	if err := b.topo.Build(); err != nil {
		return nil, err
	}
	return b.res, nil
}

func (b *builder) addStore(sd *definition.StoreDef, key, value types.UserType) error {
	if b.topo.HasStore(sd.Name) {
		return nil
	}
	if sd.Type != definition.StoreKeyValue {
		return b.addWindowedStore(sd, key, value)
	}
	if sd.Versioned && sd.Persistent {
		// persistent: false silently ignores versioned, as upstream does.
		return b.addVersionedStore(sd, key, value)
	}
	key, value, err := b.storeTypes(sd, key, value)
	if err != nil {
		return err
	}
	ks, err := b.storeSerde(key, true)
	if err != nil {
		return errAt(sd.Pos, "store %q key type: %v", sd.Name, err)
	}
	vs, err := b.storeSerde(value, false)
	if err != nil {
		return errAt(sd.Pos, "store %q value type: %v", sd.Name, err)
	}
	ks, vs = streams.StoreSerde(ks, b.opts.ApplicationID, sd.Name), streams.StoreSerde(vs, b.opts.ApplicationID, sd.Name)
	// Upstream honours timestamped for persistent stores and for in-memory
	// stores declared under stores:, not for inline operation stores.
	timestamped := sd.Timestamped && (sd.Persistent || !sd.Inline)
	kb := &store.KeyValueBuilder{StoreName: sd.Name, KeySerde: ks, ValueSerde: vs, IsPersistent: sd.Persistent,
		LoggingOn: sd.Logging, Timestamped: timestamped}
	b.res.Stores.addKeyValue(kb)
	return b.topo.AddStateStore(kb)
}

var anyType = types.UserType{Notation: types.DefaultNotation, Type: types.Any}

// userType parses a declared type; an empty reference yields fallback (or
// the unknown type).
func (b *builder) userType(ref definition.TypeRef, fallback types.UserType) (types.UserType, error) {
	if ref.IsZero() {
		if fallback.Type == nil {
			return anyType, nil
		}
		return fallback, nil
	}
	u, err := types.ParseUserType(ref.Text)
	if err != nil {
		return types.UserType{}, errAt(ref.Pos, "%v", err)
	}
	return u, nil
}

// elemType is the user type of one element of a composite type, inheriting
// the notation of the whole.
func elemType(parent types.UserType, t types.DataType) types.UserType {
	if nt, ok := t.(types.NotationType); ok {
		return types.UserType{Notation: nt.Notation, Type: t}
	}
	return types.UserType{Notation: parent.Notation, Type: t}
}

// uniqueName makes a node name unique with upstream's _001, _002 suffixes.
func (b *builder) uniqueName(name string) string {
	if !b.names[name] {
		b.names[name] = true
		return name
	}
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s_%03d", name, i)
		if !b.names[n] {
			b.names[n] = true
			return n
		}
	}
}

func (b *builder) nodeName(explicit, derived string) string {
	if explicit != "" {
		return b.uniqueName(b.def.Namespace + "_" + explicit)
	}
	return b.uniqueName(b.def.Namespace + "_" + derived)
}

func (b *builder) function(ref *definition.FunctionRef, what string, pos definition.Pos) (Function, *definition.FunctionDef, error) {
	if ref == nil || ref.Def == nil {
		return nil, nil, errAt(pos, "%s: function is missing", what)
	}
	if f, ok := b.fns[ref.Def]; ok {
		return f, ref.Def, nil
	}
	f, err := b.opts.Functions.Compile(b.def, ref.Def, b.res.Stores)
	if err != nil {
		return nil, nil, err
	}
	f = b.withResultSchemas(f, ref.Def)
	b.fns[ref.Def] = f
	return f, ref.Def, nil
}

// connectFunctionStores gives the node access to the stores the function
// declares.
func (b *builder) connectFunctionStores(node string, fn *definition.FunctionDef) error {
	if fn == nil {
		return nil
	}
	for _, sr := range fn.Stores {
		name := sr.Name
		if sr.Def != nil {
			if err := b.addStore(sr.Def, types.UserType{}, types.UserType{}); err != nil {
				return err
			}
			name = sr.Def.Name
		}
		if !b.topo.HasStore(name) {
			if sd := b.def.Store(name); sd != nil {
				if err := b.addStore(sd, types.UserType{}, types.UserType{}); err != nil {
					return err
				}
			} else {
				return errAt(sr.Pos, "unknown store %q", name)
			}
		}
		if err := b.topo.ConnectStore(node, name); err != nil {
			return errAt(sr.Pos, "%v", err)
		}
	}
	return nil
}

func (b *builder) source(td *definition.TopicDef, pos definition.Pos) (stream, error) {
	if td.Kind != definition.KindStream {
		return b.tableSource(td, pos)
	}
	if s, ok, err := b.cachedSource(td, pos); ok || err != nil {
		return s, err
	}
	s, _, err := b.topicSource(td, pos)
	if err != nil {
		return stream{}, err
	}
	b.sources[td.Topic] = s
	return s, nil
}

// cachedSource returns the source already built for td's topic. Kafka
// Streams reads a topic through one source, so a topic declared as a stream
// in one place and as a table in another is an error naming both kinds
// (at pos), rather than one declaration silently taking the other's shape.
func (b *builder) cachedSource(td *definition.TopicDef, pos definition.Pos) (stream, bool, error) {
	s, ok := b.sources[td.Topic]
	if !ok {
		return s, false, nil
	}
	kind := definition.KindStream
	switch shapeOf(s) {
	case shapeTable:
		kind = definition.KindTable
	case shapeGlobalTable:
		kind = definition.KindGlobalTable
	}
	if kind != td.Kind {
		return stream{}, true, errAt(pos, "topic %q is read as a %s here and as a %s elsewhere; a topic has one source: declare it once (toTable makes a table of a stream)", td.Topic, td.Kind, kind)
	}
	return s, true, nil
}

// topicSource adds the source node that reads a topic, with the serdes of
// its declared key and value types, its offset reset policy and its
// timestamp extractor. It returns the source's stream and options; errors
// name the position of the type, the function or the reference (pos).
func (b *builder) topicSource(td *definition.TopicDef, pos definition.Pos) (stream, streams.SourceOptions, error) {
	opts := streams.SourceOptions{}
	key, err := b.userType(td.KeyType, types.UserType{})
	if err != nil {
		return stream{}, opts, err
	}
	value, err := b.userType(td.ValueType, types.UserType{})
	if err != nil {
		return stream{}, opts, err
	}
	if opts.KeySerde, err = b.opts.Serdes.Serde(key, true); err != nil {
		return stream{}, opts, errAt(td.KeyType.Pos, "%v", err)
	}
	if opts.ValueSerde, err = b.opts.Serdes.Serde(value, false); err != nil {
		return stream{}, opts, errAt(td.ValueType.Pos, "%v", err)
	}
	if td.OffsetResetPolicy != nil {
		opts.OffsetReset = streams.OffsetReset{Policy: td.OffsetResetPolicy.Policy, DurationMs: td.OffsetResetPolicy.Duration.Milliseconds()}
	}
	if td.TimestampExtractor != nil {
		f, _, err := b.function(td.TimestampExtractor, "timestampExtractor", td.Pos)
		if err != nil {
			return stream{}, opts, err
		}
		opts.TimestampExtractor = timestampExtractor(f)
	}
	name := b.uniqueName(td.Topic)
	if err := b.topo.AddSource(name, []string{td.Topic}, opts); err != nil {
		return stream{}, opts, errAt(pos, "%v", err)
	}
	return stream{node: name, key: key, value: value}, opts, nil
}

func (b *builder) resolveRef(ref *definition.TopicRef) (stream, error) {
	switch {
	case ref.Pipeline != nil || ref.Branch != nil:
		s, ok := b.results[b.def.Namespace+"\x00"+ref.Name]
		if !ok {
			return stream{}, errAt(ref.Pos, "%q must be defined before it is used", ref.Name)
		}
		if s.node == "" {
			return stream{}, errAt(ref.Pos, "the result %q is not a stream; only streams are supported yet", ref.Name)
		}
		return s, nil
	case ref.Def != nil:
		return b.source(ref.Def, ref.Pos)
	}
	return stream{}, errAt(ref.Pos, "unresolved stream reference %q", ref.Name)
}

func (b *builder) pipeline(p *definition.Pipeline) error {
	s, err := b.resolveRef(&p.From)
	if err != nil {
		return err
	}
	s, err = b.operations(s, p.Via)
	if err != nil {
		return err
	}
	return b.sink(s, p, p.Sink)
}

func (b *builder) operations(s stream, ops []*definition.Operation) (stream, error) {
	var err error
	for _, op := range ops {
		if s, err = b.operation(s, op); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (b *builder) addProcessor(name string, parent string, proc func() streams.Processor, fns ...*definition.FunctionDef) error {
	return b.addProcessorAfter(name, []string{parent}, proc, fns...)
}

// addProcessorAfter adds a processor with several parents and connects the
// stores its functions declare.
func (b *builder) addProcessorAfter(name string, parents []string, proc func() streams.Processor, fns ...*definition.FunctionDef) error {
	if err := b.topo.AddProcessor(name, proc, parents...); err != nil {
		return err
	}
	for _, fn := range fns {
		if err := b.connectFunctionStores(name, fn); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) operation(s stream, op *definition.Operation) (stream, error) {
	name := b.nodeName(op.Name, op.DerivedName)
	fail := func(err error) (stream, error) {
		if _, ok := err.(*BuildError); ok {
			return s, err
		}
		return s, errAt(op.Pos, "%v", err)
	}
	switch op.Type {
	case definition.OpFilter, definition.OpFilterNot:
		f, fd, err := b.function(op.If, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		keep, table := op.Type == definition.OpFilter, shapeOf(s) == shapeTable
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &filterProc{f: f, keep: keep, table: table} }, fd); err != nil {
			return fail(err)
		}
	case definition.OpTransformKey:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &mapKeyProc{f: f} }, fd); err != nil {
			return fail(err)
		}
		if s.key, err = b.userType(fd.ResultType, anyType); err != nil {
			return fail(err)
		}
	case definition.OpTransformValue:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &mapValueProc{f: f} }, fd); err != nil {
			return fail(err)
		}
		if s.value, err = b.userType(fd.ResultType, s.value); err != nil {
			return fail(err)
		}
	case definition.OpTransformKeyValue:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &mapProc{f: f} }, fd); err != nil {
			return fail(err)
		}
		if s.key, s.value, err = b.pairTypes(fd.ResultType, s); err != nil {
			return fail(err)
		}
	case definition.OpTransformKeyValueToKeyValueList:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &flatMapProc{f: f} }, fd); err != nil {
			return fail(err)
		}
		lt, err := b.userType(fd.ResultType, anyType)
		if err != nil {
			return fail(err)
		}
		if l, ok := lt.Type.(types.ListType); ok {
			if t, ok := l.Elem.(types.TupleType); ok && len(t.Elems) == 2 {
				s.key, s.value = elemType(lt, t.Elems[0]), elemType(lt, t.Elems[1])
			}
		}
	case definition.OpTransformKeyValueToValueList:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &flatMapValuesProc{f: f} }, fd); err != nil {
			return fail(err)
		}
		lt, err := b.userType(fd.ResultType, anyType)
		if err != nil {
			return fail(err)
		}
		if l, ok := lt.Type.(types.ListType); ok {
			s.value = elemType(lt, l.Elem)
		}
	case definition.OpTransformMetadata:
		f, fd, err := b.function(op.Mapper, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &metadataProc{f: f} }, fd); err != nil {
			return fail(err)
		}
	case definition.OpPeek:
		f, fd, err := b.function(op.ForEach, string(op.Type), op.Pos)
		if err != nil {
			return fail(err)
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &peekProc{f: f, forward: true} }, fd); err != nil {
			return fail(err)
		}
	case definition.OpConvertKey, definition.OpConvertValue, definition.OpConvertKeyValue:
		return b.convert(s, op, name)
	case definition.OpMerge:
		if op.Target == nil {
			return fail(fmt.Errorf("merge needs a stream"))
		}
		other, err := b.resolveRef(op.Target)
		if err != nil {
			return fail(err)
		}
		if err := b.topo.AddProcessor(name, func() streams.Processor { return passThrough }, s.node, other.node); err != nil {
			return fail(err)
		}
	case definition.OpRepartition:
		return b.repartition(s, op, name)
	default:
		return b.statefulOperation(s, op, name)
	}
	s.node = name
	return s, nil
}

var passThrough = streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error { return ctx.Forward(r) })

func (b *builder) pairTypes(ref definition.TypeRef, s stream) (types.UserType, types.UserType, error) {
	if ref.IsZero() {
		return anyType, anyType, nil
	}
	u, err := b.userType(ref, anyType)
	if err != nil {
		return s.key, s.value, err
	}
	t, ok := u.Type.(types.TupleType)
	if !ok || len(t.Elems) != 2 {
		return s.key, s.value, errAt(ref.Pos, "resultType must be a (key, value) tuple, got %s", ref.Text)
	}
	return elemType(u, t.Elems[0]), elemType(u, t.Elems[1]), nil
}

// convert changes the declared type of key and/or value. Values cross
// notations by serializing with the current type and reading back with the
// target type; within one notation they pass unchanged.
func (b *builder) convert(s stream, op *definition.Operation, name string) (stream, error) {
	into, err := b.userType(op.Into, types.UserType{})
	if err != nil {
		return s, err
	}
	if op.Into.IsZero() {
		return s, errAt(op.Pos, "%s needs 'into'", op.Keyword)
	}
	var keyConv, valueConv *converter
	newKey, newValue := s.key, s.value
	switch op.Type {
	case definition.OpConvertKey:
		newKey = into
	case definition.OpConvertValue:
		newValue = into
	case definition.OpConvertKeyValue:
		t, ok := into.Type.(types.TupleType)
		if !ok || len(t.Elems) != 2 {
			return s, errAt(op.Into.Pos, "convertKeyValue needs a (key, value) tuple type, got %s", op.Into.Text)
		}
		newKey, newValue = elemType(into, t.Elems[0]), elemType(into, t.Elems[1])
	}
	if keyConv, err = b.converter(s.key, newKey, true); err != nil {
		return s, errAt(op.Into.Pos, "%v", err)
	}
	if valueConv, err = b.converter(s.value, newValue, false); err != nil {
		return s, errAt(op.Into.Pos, "%v", err)
	}
	if err := b.addProcessor(name, s.node, func() streams.Processor { return &convertProc{key: keyConv, value: valueConv} }); err != nil {
		return s, errAt(op.Pos, "%v", err)
	}
	s.node, s.key, s.value = name, newKey, newValue
	return s, nil
}

func (b *builder) converter(from, to types.UserType, isKey bool) (*converter, error) {
	if from.Notation == to.Notation && from.Type != nil && to.Type != nil && from.Type.String() == to.Type.String() {
		return nil, nil
	}
	if vc, ok := b.opts.Serdes.(ValueConverter); ok {
		return &converter{conv: vc, fromType: from, toType: to, target: to.String()}, nil
	}
	fs, err := b.opts.Serdes.Serde(from, isKey)
	if err != nil {
		return nil, err
	}
	ts, err := b.opts.Serdes.Serde(to, isKey)
	if err != nil {
		return nil, err
	}
	return &converter{from: fs, to: ts, target: to.String()}, nil
}

func (b *builder) repartition(s stream, op *definition.Operation, name string) (stream, error) {
	topic := streams.RepartitionTopic(b.opts.ApplicationID, name)
	ks, vs, err := b.streamSerdes(s, op.Pos)
	if err != nil {
		return s, err
	}
	sink := streams.SinkOptions{KeySerde: ks, ValueSerde: vs}
	if op.Partitioner != nil {
		f, _, err := b.function(op.Partitioner, "partitioner", op.Pos)
		if err != nil {
			return s, err
		}
		sink.Partitioner = partitioner(f)
	}
	return b.streamRepartition(s, op.Pos, name, streams.InternalTopic{Name: topic, Kind: "repartition", Partitions: op.NumberOfPartitions}, sink)
}

func (b *builder) sink(s stream, p *definition.Pipeline, sk *definition.Sink) error {
	if sk == nil {
		b.results[b.def.Namespace+"\x00"+p.Name] = s
		return nil
	}
	name := b.nodeName("", sk.DerivedName)
	switch sk.Type {
	case definition.SinkAs:
		// Results are per definition: names are not visible across files.
		b.results[b.def.Namespace+"\x00"+sk.As] = s
		return nil
	case definition.SinkTo:
		if sk.To == nil || sk.To.Def == nil {
			return errAt(sk.Pos, "to: needs a topic")
		}
		td := sk.To.Def
		key, err := b.userType(td.KeyType, s.key)
		if err != nil {
			return err
		}
		value, err := b.userType(td.ValueType, s.value)
		if err != nil {
			return err
		}
		opts := streams.SinkOptions{}
		if opts.KeySerde, err = b.opts.Serdes.Serde(key, true); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
		if opts.ValueSerde, err = b.opts.Serdes.Serde(value, false); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
		pref := sk.Partitioner
		if pref == nil {
			pref = td.Partitioner
		}
		if pref != nil {
			f, _, err := b.function(pref, "partitioner", sk.Pos)
			if err != nil {
				return err
			}
			opts.Partitioner = partitioner(f)
		}
		if err := b.topo.AddSink(name, td.Topic, opts, s.node); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
	case definition.SinkToTopicNameExtract:
		f, _, err := b.function(sk.TopicNameExtractor, "topicNameExtractor", sk.Pos)
		if err != nil {
			return err
		}
		opts := streams.SinkOptions{TopicExtractor: topicExtractor(f)}
		if opts.KeySerde, err = b.opts.Serdes.Serde(s.key, true); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
		if opts.ValueSerde, err = b.opts.Serdes.Serde(s.value, false); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
		if sk.Partitioner != nil {
			pf, _, err := b.function(sk.Partitioner, "partitioner", sk.Pos)
			if err != nil {
				return err
			}
			opts.Partitioner = partitioner(pf)
		}
		if err := b.topo.AddSink(name, "", opts, s.node); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
	case definition.SinkForEach:
		f, fd, err := b.function(sk.ForEach, "forEach", sk.Pos)
		if err != nil {
			return err
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { return &peekProc{f: f} }, fd); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
	case definition.SinkPrint:
		pp := &printProc{label: name, out: b.opts.Stdout}
		if sk.Print != nil {
			if sk.Print.Label != "" {
				pp.label = sk.Print.Label
			}
			pp.filename = sk.Print.Filename
			if sk.Print.Mapper != nil {
				f, _, err := b.function(sk.Print.Mapper, "keyValuePrinter", sk.Pos)
				if err != nil {
					return err
				}
				pp.mapper = f
			}
		}
		if err := b.addProcessor(name, s.node, func() streams.Processor { c := *pp; return &c }); err != nil {
			return errAt(sk.Pos, "%v", err)
		}
	case definition.SinkBranch:
		return b.branch(s, p, sk, name)
	default:
		return errAt(sk.Pos, "sink %q is not supported yet", sk.Type)
	}
	return nil
}

func (b *builder) branch(s stream, p *definition.Pipeline, sk *definition.Sink, name string) error {
	preds := make([]Function, len(sk.Branches))
	var fds []*definition.FunctionDef
	for i, br := range sk.Branches {
		if br.If != nil {
			f, fd, err := b.function(br.If, "branch predicate", br.Pos)
			if err != nil {
				return err
			}
			preds[i] = f
			fds = append(fds, fd)
		}
	}
	if err := b.addProcessor(name, s.node, func() streams.Processor { return &branchProc{preds: preds} }, fds...); err != nil {
		return errAt(sk.Pos, "%v", err)
	}
	for i, br := range sk.Branches {
		child := b.uniqueName(name + strconv.Itoa(i))
		if err := b.topo.AddProcessor(child, func() streams.Processor { return passThrough }, name); err != nil {
			return errAt(br.Pos, "%v", err)
		}
		bs := s
		bs.node = child
		bs, err := b.operations(bs, br.Via)
		if err != nil {
			return err
		}
		if err := b.sink(bs, p, br.Sink); err != nil {
			return err
		}
	}
	return nil
}
