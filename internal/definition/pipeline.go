package definition

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/types"
	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// FlowKind is the Kafka Streams object records flow through at a point of
// a pipeline; it decides which operations apply.
type FlowKind int

const (
	FlowUnknown FlowKind = iota // after an error, or not derivable
	FlowStream
	FlowTable
	FlowGlobalTable
	FlowGroupedStream
	FlowGroupedTable
	FlowTimeWindowed
	FlowSessionWindowed
	FlowCogrouped
	FlowTimeWindowedCogrouped
	FlowSessionWindowedCogrouped
)

var kindNames = map[FlowKind]string{
	FlowUnknown: "an unknown stream",
	FlowStream:  "a stream", FlowTable: "a table", FlowGlobalTable: "a globalTable",
	FlowGroupedStream: "a grouped stream", FlowGroupedTable: "a grouped table",
	FlowTimeWindowed: "a time-windowed stream", FlowSessionWindowed: "a session-windowed stream",
	FlowCogrouped: "a cogrouped stream", FlowTimeWindowedCogrouped: "a time-windowed cogrouped stream",
	FlowSessionWindowedCogrouped: "a session-windowed cogrouped stream",
}

// String describes the kind, e.g. "a grouped stream".
func (k FlowKind) String() string { return kindNames[k] }

// Flow is what is known about the records at a point of a pipeline: the
// kind of stream and the key and value types (zero TypeRef: unknown).
type Flow struct {
	Kind  FlowKind
	Key   TypeRef
	Value TypeRef
}

func kindOfTopic(t *TopicDef) FlowKind {
	switch t.Kind {
	case KindTable:
		return FlowTable
	case KindGlobalTable:
		return FlowGlobalTable
	}
	return FlowStream
}

func (p *parser) parsePipeline(name string, n *yaml.Node) *Pipeline {
	what := "pipeline \"" + name + "\""
	o := p.object(n, pipelineSpec, what)
	if o == nil {
		return nil
	}
	path := "pipelines_" + name
	pl := &Pipeline{Name: name, Pos: p.pos(o.n)}
	cur := Flow{}
	if from := p.topicRef(o, "from", sourceSpec, KindStream, path, true); from != nil {
		pl.From = *from
		switch {
		case from.Def != nil:
			cur = Flow{Kind: kindOfTopic(from.Def), Key: from.Def.KeyType, Value: from.Def.ValueType}
		case from.Pipeline != nil, from.Branch != nil:
			cur = p.resultKinds[from.Name]
		}
	}
	pl.Source = cur
	pl.Via, cur = p.parseVia(o, path, cur)
	// An explicit name: is what later pipelines use for the implicit as.
	resultName := name
	if o.has("name") {
		resultName = o.str("name")
	}
	pl.Sink = p.parseSink(o, path, resultName, cur, false)
	if pl.Sink != nil && pl.Sink.Type == SinkAs {
		if p.resultTaken(pl.Sink.As, pl.Sink.Pos) {
			p.def.pipelineIndex[pl.Sink.As] = pl
			p.resultKinds[pl.Sink.As] = cur
		}
	}
	return pl
}

// resultTaken reports (and returns false) when a pipeline result name is
// already in use.
func (p *parser) resultTaken(name string, pos Pos) bool {
	if prev := p.def.pipelineIndex[name]; prev != nil {
		p.d.Add(pos, "pipeline result name %q is already used by pipeline %q", name, prev.Name)
		return false
	}
	if b := p.def.branchIndex[name]; b != nil {
		p.d.Add(pos, "pipeline result name %q is already used by a branch at line %d", name, b.Pos.Line)
		return false
	}
	return true
}

// parseVia reads the via list of o, checking each step against the flow.
func (p *parser) parseVia(o *obj, path string, cur Flow) ([]*Operation, Flow) {
	n := o.node("via")
	if n == nil || yamlspec.IsNull(n) {
		return nil, cur
	}
	if n.Kind != yaml.SequenceNode {
		p.d.Add(p.pos(n), "via must be a list of operations, not %s", yamlspec.KindName(n))
		return nil, cur
	}
	var ops []*Operation
	for i, c := range n.Content {
		op, next := p.parseOperation(c, path+"_via_step"+strconv.Itoa(i+1), cur, nil)
		if op != nil {
			ops = append(ops, op)
		}
		cur = next // unknown after a step that could not be read
	}
	return ops, cur
}

// parseOperation reads one via step. rename maps dialect-specific field
// names to KSML ones (the seed dialect writes `predicate` for `if`).
func (p *parser) parseOperation(n *yaml.Node, path string, cur Flow, rename map[string]string) (*Operation, Flow) {
	n = yamlspec.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "an operation must be a mapping with a type, not %s", yamlspec.KindName(n))
		return nil, Flow{}
	}
	var typeNode *yaml.Node
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value == "type" {
			typeNode = yamlspec.Deref(e.Value)
		}
	}
	if typeNode == nil || typeNode.Kind != yaml.ScalarNode {
		p.d.Add(p.pos(n), "operation is missing required field \"type\"")
		return nil, Flow{}
	}
	kw := typeNode.Value
	t, ok := opKeywords[kw]
	if !ok {
		hint := didYouMean(kw, OpKeywords())
		if contains([]string{"to", "forEach", "print", "branch", "as", "toTopicNameExtractor"}, kw) {
			hint = "; " + kw + " ends a pipeline: write it as a key of the pipeline, after via (use peek for a pass-through forEach)"
		}
		p.d.Add(p.pos(typeNode), "unknown operation type %q%s", kw, hint)
		return nil, Flow{}
	}
	spec := opSpecs[t]
	o := p.objectRenamed(n, spec, kw+" operation", rename)
	if o == nil {
		return nil, Flow{}
	}
	op := &Operation{Type: t, Keyword: kw, Pos: p.pos(n), DerivedName: path + "_" + string(t)}
	op.Name = o.str("name")
	fp := path
	fn := func(name string) *FunctionRef {
		f := spec.Field(name)
		if f == nil {
			return nil
		}
		return p.functionRef(o, name, extOf(f).fn, fp)
	}
	st := func(name string, want StoreType) *StoreRef { return p.storeRef(o, name, want, fp) }
	next := cur

	p.misapplied = false
	switch t {
	case OpFilter, OpFilterNot:
		op.If = fn("if")
		op.Store = st("store", StoreKeyValue)
		p.need(op, cur, FlowStream, FlowTable)
	case OpTransformKey:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowStream)
		next.Key = resultOf(op.Mapper)
	case OpTransformKeyValue:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowStream)
		next.Key, next.Value = splitTuple(resultOf(op.Mapper))
	case OpTransformKeyValueToKeyValueList:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowStream)
		next.Key, next.Value = splitTuple(listElem(resultOf(op.Mapper)))
	case OpTransformKeyValueToValueList:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowStream)
		next.Value = listElem(resultOf(op.Mapper))
	case OpTransformMetadata:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowStream)
	case OpTransformValue:
		op.Mapper = fn("mapper")
		op.Store = st("store", StoreKeyValue)
		p.need(op, cur, FlowStream, FlowTable)
		next.Value = resultOf(op.Mapper)
	case OpPeek:
		op.ForEach = fn("forEach")
		p.need(op, cur, FlowStream)
	case OpConvertKey:
		op.Into = o.typ("into")
		p.need(op, cur, FlowStream)
		next.Key = op.Into
	case OpConvertValue:
		op.Into = o.typ("into")
		p.need(op, cur, FlowStream)
		next.Value = op.Into
	case OpConvertKeyValue:
		op.Into = o.typ("into")
		p.need(op, cur, FlowStream)
		if dt := parsed(op.Into); dt != nil && (isNotation(dt) || !fitsShape(dt, shapeKeyValue)) {
			p.d.Add(op.Into.Pos, "into of convertKeyValue must be a (key, value) tuple type such as (string, json), not %q", op.Into.Text)
		}
		next.Key, next.Value = splitTuple(op.Into)
	case OpGroupBy:
		op.Mapper = fn("mapper")
		op.Store = st("store", StoreKeyValue)
		p.need(op, cur, FlowStream, FlowTable)
		if cur.Kind == FlowTable {
			// Regrouping a table needs both a new key and a new value.
			p.checkResultShape(op.Mapper, "mapper of groupBy on a table", FuncKeyValueTransformer)
			next.Kind = FlowGroupedTable
			next.Key, next.Value = splitTuple(resultOf(op.Mapper))
		} else {
			next.Kind = FlowGroupedStream
			next.Key = resultOf(op.Mapper)
		}
	case OpGroupByKey:
		op.Store = st("store", StoreKeyValue)
		p.need(op, cur, FlowStream)
		next.Kind = FlowGroupedStream
	case OpToStream:
		op.Mapper = fn("mapper")
		p.need(op, cur, FlowTable)
		next.Kind = FlowStream
		if op.Mapper != nil {
			next.Key = resultOf(op.Mapper)
		}
	case OpToTable:
		op.Store = st("store", StoreKeyValue)
		p.need(op, cur, FlowStream)
		next.Kind = FlowTable
	case OpMerge:
		op.Target = p.topicRef(o, "stream", streamTargetSpec, KindStream, fp, false)
		op.JoinKind = JoinStream
		p.need(op, cur, FlowStream)
		if op.Target != nil && op.Target.Def != nil {
			if op.Target.Def.Kind != KindStream {
				p.d.Add(op.Target.Pos, "merge needs a stream, but %q is a %s", op.Target.Name, op.Target.Def.Kind)
			}
			p.sameTypes(op.Target.Pos, "merge", cur, op.Target.Def)
		}
		next.Kind = FlowStream
	case OpRepartition:
		if v, ok := o.integer("numberOfPartitions", 1); ok {
			op.NumberOfPartitions = int(v)
		}
		op.Partitioner = fn("partitioner")
		p.need(op, cur, FlowStream)
	case OpSuppress:
		op.Until = o.enum("until")
		op.Duration = o.duration("duration")
		op.MaxBytes = o.str("maxBytes")
		op.MaxRecords = o.str("maxRecords")
		op.BufferFullStrategy = o.enum("bufferFullStrategy")
		if op.Until == "timeLimit" && !o.has("duration") {
			p.d.Add(op.Pos, "suppress until timeLimit needs a duration")
		}
		if op.Until == "windowCloses" && !cur.Key.IsZero() {
			if _, windowed := parsed(cur.Key).(types.WindowedType); !windowed && parsed(cur.Key) != nil {
				p.d.Add(op.Pos, "suppress until windowCloses needs windowed keys (after windowByTime or windowBySession), but the key type is %q", cur.Key.Text)
			}
		}
		if op.BufferFullStrategy == "emitEarlyWhenFull" && op.MaxBytes == "" && op.MaxRecords == "" {
			p.d.Add(o.keyPos("bufferFullStrategy"), "bufferFullStrategy emitEarlyWhenFull needs maxBytes or maxRecords")
		}
		for _, f := range []string{"maxBytes", "maxRecords"} {
			if v := o.str(f); v != "" {
				if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
					p.d.Add(p.pos(o.node(f)), "%s of suppress must be a whole number, not %q", f, v)
				}
			}
		}
		p.need(op, cur, FlowTable)
	case OpWindowByTime:
		op.WindowType = o.enum("windowType")
		op.Duration = o.duration("duration")
		op.AdvanceBy = o.duration("advanceBy")
		op.TimeDifference = o.duration("timeDifference")
		op.Grace = o.duration("grace")
		switch op.WindowType {
		case "tumbling":
			p.requireFields(o, op, "duration")
		case "hopping":
			p.requireFields(o, op, "duration", "advanceBy")
			if op.AdvanceBy > op.Duration && op.Duration > 0 {
				p.d.Add(o.keyPos("advanceBy"), "advanceBy (%v) of a hopping window must not exceed its duration (%v)", op.AdvanceBy, op.Duration)
			}
		case "sliding":
			p.requireFields(o, op, "timeDifference")
		}
		p.need(op, cur, FlowGroupedStream, FlowCogrouped)
		if cur.Kind == FlowCogrouped {
			next.Kind = FlowTimeWindowedCogrouped
		} else {
			next.Kind = FlowTimeWindowed
		}
	case OpWindowBySession:
		op.InactivityGap = o.duration("inactivityGap")
		op.Grace = o.duration("grace")
		p.need(op, cur, FlowGroupedStream, FlowCogrouped)
		if cur.Kind == FlowCogrouped {
			next.Kind = FlowSessionWindowedCogrouped
		} else {
			next.Kind = FlowSessionWindowed
		}
	case OpCogroup:
		op.Aggregator = fn("aggregator")
		p.need(op, cur, FlowGroupedStream)
		next.Kind = FlowCogrouped
		next.Value = resultOf(op.Aggregator)
	case OpCount:
		op.Store = st("store", storeFor(cur.Kind))
		p.need(op, cur, FlowGroupedStream, FlowGroupedTable, FlowTimeWindowed, FlowSessionWindowed)
		next = aggregated(cur, TypeRef{Text: "long"})
	case OpReduce:
		op.Reducer = fn("reducer")
		op.Adder = fn("adder")
		op.Subtractor = fn("subtractor")
		op.Store = st("store", storeFor(cur.Kind))
		p.need(op, cur, FlowGroupedStream, FlowGroupedTable, FlowTimeWindowed, FlowSessionWindowed)
		if cur.Kind == FlowGroupedTable {
			p.requireFields(o, op, "adder", "subtractor")
		} else if cur.Kind != FlowUnknown {
			p.requireFields(o, op, "reducer")
		} else if op.Reducer == nil && op.Adder == nil {
			p.d.Add(op.Pos, "reduce needs a reducer (or adder and subtractor on a grouped table)")
		}
		next = aggregated(cur, cur.Value)
	case OpAggregate:
		op.Initializer = fn("initializer")
		op.Aggregator = fn("aggregator")
		op.Merger = fn("merger")
		op.Adder = fn("adder")
		op.Subtractor = fn("subtractor")
		op.Store = st("store", storeFor(cur.Kind))
		p.need(op, cur, FlowGroupedStream, FlowGroupedTable, FlowTimeWindowed, FlowSessionWindowed, FlowCogrouped, FlowTimeWindowedCogrouped, FlowSessionWindowedCogrouped)
		switch cur.Kind {
		case FlowGroupedStream, FlowTimeWindowed:
			p.requireFields(o, op, "aggregator")
		case FlowSessionWindowed:
			p.requireFields(o, op, "aggregator", "merger")
		case FlowGroupedTable:
			p.requireFields(o, op, "adder", "subtractor")
		case FlowSessionWindowedCogrouped:
			p.requireFields(o, op, "merger")
		}
		res := resultOf(op.Initializer)
		if res.IsZero() {
			res = resultOf(op.Aggregator)
		}
		if res.IsZero() && cur.Kind >= FlowCogrouped {
			res = cur.Value
		}
		next = aggregated(cur, res)
	case OpJoin, OpLeftJoin, OpOuterJoin:
		next = p.parseJoin(o, op, cur, fp)
	}
	switch t {
	case OpCount, OpReduce, OpAggregate:
		p.checkStoreKey(op.Store, cur.Key)
	}
	p.checkResultShape(op.If, "if", FuncPredicate)
	if op.Mapper != nil && spec.Field("mapper") != nil {
		p.checkResultShape(op.Mapper, "mapper of "+op.Keyword, extOf(spec.Field("mapper")).fn)
	}
	if p.misapplied {
		// What follows a misapplied operation is unknown; do not cascade.
		next.Kind = FlowUnknown
	}
	op.Result = next
	return op, next
}

// storeFor is the store type an aggregation on kind materializes into.
func storeFor(k FlowKind) StoreType {
	switch k {
	case FlowTimeWindowed, FlowTimeWindowedCogrouped:
		return StoreWindow
	case FlowSessionWindowed, FlowSessionWindowedCogrouped:
		return StoreSession
	case FlowUnknown:
		return ""
	}
	return StoreKeyValue
}

// aggregated is the Flow after count/reduce/aggregate: a table, with a
// windowed key after windowing.
func aggregated(cur Flow, value TypeRef) Flow {
	next := Flow{Kind: FlowTable, Key: cur.Key, Value: value}
	switch cur.Kind {
	case FlowTimeWindowed, FlowSessionWindowed, FlowTimeWindowedCogrouped, FlowSessionWindowedCogrouped:
		if !cur.Key.IsZero() {
			next.Key = TypeRef{Text: "windowed(" + cur.Key.Text + ")", Pos: cur.Key.Pos}
		}
	case FlowUnknown:
		next.Kind = FlowUnknown
	}
	return next
}

func (p *parser) parseJoin(o *obj, op *Operation, cur Flow, path string) Flow {
	var targets []string
	for _, f := range []string{"stream", "table", "globalTable"} {
		if o.has(f) {
			targets = append(targets, f)
		}
	}
	if len(targets) == 0 {
		p.d.Add(op.Pos, "%s needs one of stream, table or globalTable", op.Keyword)
		return Flow{Kind: FlowStream, Key: cur.Key}
	}
	if len(targets) > 1 {
		p.d.Add(o.keyPos(targets[1]), "%s joins with one of stream, table or globalTable, not %s", op.Keyword, strings.Join(targets, " and "))
	}
	spec := opSpecs[op.Type]
	fn := func(name string) *FunctionRef {
		f := spec.Field(name)
		if f == nil {
			return nil // not a field of this join type (reported as unknown key)
		}
		return p.functionRef(o, name, extOf(f).fn, path)
	}
	op.ValueJoiner = fn("valueJoiner")
	next := Flow{Kind: FlowStream, Key: cur.Key, Value: resultOf(op.ValueJoiner)}
	allowed := map[string]bool{"type": true, "name": true, "valueJoiner": true}
	switch targets[0] {
	case "stream":
		op.JoinKind = JoinStream
		op.Target = p.topicRef(o, "stream", streamTargetSpec, KindStream, path, false)
		op.TimeDifference = o.duration("timeDifference")
		op.Grace = o.duration("grace")
		op.ThisStore = p.storeRef(o, "thisStore", StoreWindow, path)
		op.OtherStore = p.storeRef(o, "otherStore", StoreWindow, path)
		p.requireFields(o, op, "timeDifference", "thisStore", "otherStore")
		p.checkJoinStore(op.ThisStore, "thisStore", op, cur.Key)
		p.checkJoinStore(op.OtherStore, "otherStore", op, cur.Key)
		for _, f := range []string{"stream", "timeDifference", "grace", "thisStore", "otherStore"} {
			allowed[f] = true
		}
		p.need(op, cur, FlowStream)
		p.targetKind(op, KindStream)
	case "table":
		op.JoinKind = JoinTable
		op.Target = p.topicRef(o, "table", tableTargetSpec, KindTable, path, false)
		op.Grace = o.duration("grace")
		op.Store = p.storeRef(o, "store", StoreKeyValue, path)
		op.ForeignKeyExtractor = fn("foreignKeyExtractor")
		op.Partitioner = fn("partitioner")
		op.OtherPartitioner = fn("otherPartitioner")
		for _, f := range []string{"table", "grace", "store", "foreignKeyExtractor", "partitioner", "otherPartitioner"} {
			allowed[f] = true
		}
		if op.Type == OpOuterJoin {
			p.need(op, cur, FlowTable)
		} else {
			p.need(op, cur, FlowStream, FlowTable)
		}
		if cur.Kind == FlowTable {
			next.Kind = FlowTable
		}
		p.targetKind(op, KindTable)
		if op.Target != nil && op.Target.Def != nil && op.ForeignKeyExtractor == nil {
			// A primary-key join matches on equal keys.
			p.checkAssignable(op.Target.Pos, "key", op.Target.Def.KeyType, cur.Key, op.Target.Name)
		}
	case "globalTable":
		op.JoinKind = JoinGlobalTable
		if op.Type == OpOuterJoin {
			p.d.Add(o.keyPos("globalTable"), "outerJoin cannot join with a globalTable; use join or leftJoin")
		}
		op.Target = p.topicRef(o, "globalTable", globalTableTargetSpec, KindGlobalTable, path, false)
		op.Mapper = fn("mapper")
		p.requireFields(o, op, "mapper")
		allowed["globalTable"] = true
		allowed["mapper"] = true
		p.need(op, cur, FlowStream)
		p.targetKind(op, KindGlobalTable)
	}
	for k := range o.vals {
		if !allowed[k] {
			p.d.Add(o.keyPos(k), "%s does not apply to a %s with a %s", k, op.Keyword, targets[0])
		}
	}
	return next
}

// targetKind checks that a named join target has the kind the key implies.
func (p *parser) targetKind(op *Operation, want TopicKind) {
	if op.Target == nil || op.Target.Def == nil || op.Target.Inline {
		return
	}
	if op.Target.Def.Kind != want {
		p.d.Add(op.Target.Pos, "%q is a %s, but it is given as %s to %s", op.Target.Name, op.Target.Def.Kind, want, op.Keyword)
	}
}

func (p *parser) requireFields(o *obj, op *Operation, names ...string) {
	for _, n := range names {
		if !o.has(n) {
			p.d.Add(op.Pos, "%s is missing required field %q", describeOp(op), n)
		}
	}
}

func describeOp(op *Operation) string {
	if op.Type == OpWindowByTime && op.WindowType != "" {
		return "windowByTime with a " + op.WindowType + " window"
	}
	return op.Keyword + " operation"
}

// need reports an operation applied to a kind of stream it does not apply
// to. Unknown kinds (after an earlier error) are not reported again.
func (p *parser) need(op *Operation, cur Flow, kinds ...FlowKind) {
	if cur.Kind == FlowUnknown {
		return
	}
	for _, k := range kinds {
		if cur.Kind == k {
			return
		}
	}
	p.misapplied = true
	var want []string
	for _, k := range kinds {
		want = append(want, kindNames[k])
	}
	hint := ""
	switch {
	case contains([]string{"count", "reduce", "aggregate", "windowByTime", "windowBySession", "cogroup"}, string(op.Type)) &&
		(cur.Kind == FlowStream || cur.Kind == FlowTable):
		hint = "; group it first with groupBy or groupByKey"
	case cur.Kind == FlowTable && kinds[0] == FlowStream:
		hint = "; turn the table into a stream first with toStream"
	}
	p.d.Add(op.Pos, "%s cannot be applied to %s; it needs %s%s", op.Keyword, kindNames[cur.Kind], strings.Join(want, " or "), hint)
}

func resultOf(f *FunctionRef) TypeRef {
	if f == nil || f.Def == nil {
		return TypeRef{}
	}
	return f.Def.ResultType
}

// sameTypes checks that a merged stream carries the same key and value
// types as the pipeline, where both are known.
func (p *parser) sameTypes(pos Pos, what string, cur Flow, t *TopicDef) {
	if !cur.Key.IsZero() && !t.KeyType.IsZero() && normType(cur.Key.Text) != normType(t.KeyType.Text) {
		p.d.Add(pos, "%s: key type %q of %q differs from the pipeline's key type %q", what, t.KeyType.Text, t.Name, cur.Key.Text)
	}
	if !cur.Value.IsZero() && !t.ValueType.IsZero() && normType(cur.Value.Text) != normType(t.ValueType.Text) {
		p.d.Add(pos, "%s: value type %q of %q differs from the pipeline's value type %q", what, t.ValueType.Text, t.Name, cur.Value.Text)
	}
}

func normType(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	switch s {
	case "str":
		return "string"
	case "integer":
		return "int"
	}
	return s
}

// splitTuple splits "(K, V)" or "tuple(K, V)" into its two members; other
// types yield unknowns.
func splitTuple(t TypeRef) (TypeRef, TypeRef) {
	s := strings.TrimSpace(t.Text)
	switch {
	case strings.HasPrefix(s, "tuple(") && strings.HasSuffix(s, ")"):
		s = s[len("tuple(") : len(s)-1]
	case strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")"):
		s = s[1 : len(s)-1]
	default:
		return TypeRef{}, TypeRef{}
	}
	parts := splitTop(s)
	if len(parts) != 2 {
		return TypeRef{}, TypeRef{}
	}
	return TypeRef{Text: strings.TrimSpace(parts[0]), Pos: t.Pos}, TypeRef{Text: strings.TrimSpace(parts[1]), Pos: t.Pos}
}

// listElem returns T of "[T]" or "list(T)".
func listElem(t TypeRef) TypeRef {
	s := strings.TrimSpace(t.Text)
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		return TypeRef{Text: strings.TrimSpace(s[1 : len(s)-1]), Pos: t.Pos}
	case strings.HasPrefix(s, "list(") && strings.HasSuffix(s, ")"):
		return TypeRef{Text: strings.TrimSpace(s[5 : len(s)-1]), Pos: t.Pos}
	}
	return TypeRef{}
}

// splitTop splits s at commas that are not nested in brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// ---- sinks ----

// parseSink reads the sink of a pipeline or branch. Without any sink key a
// pipeline gets an implicit `as: <name>`; a branch element without sink
// simply ends.
func (p *parser) parseSink(o *obj, path, pipelineName string, cur Flow, inBranch bool) *Sink {
	var present []string
	for _, f := range []string{"as", "branch", "forEach", "print", "to", "toTopicNameExtractor"} {
		if o.has(f) {
			present = append(present, f)
		}
	}
	if len(present) > 1 {
		p.d.Add(o.keyPos(present[1]), "a pipeline has one sink, but both %s and %s are given", present[0], present[1])
	}
	if len(present) == 0 {
		if inBranch {
			return nil
		}
		return &Sink{Type: SinkAs, As: pipelineName, Implicit: true, Pos: p.pos(o.n), DerivedName: path, Input: cur}
	}
	kind := present[0]
	s := &Sink{Type: SinkType(kind), Pos: o.keyPos(kind), DerivedName: path + "_" + kind, Input: cur}
	streamOnly := func() {
		if cur.Kind != FlowUnknown && cur.Kind != FlowStream {
			hint := ""
			if cur.Kind == FlowTable {
				hint = "; add a toStream operation first"
			}
			p.d.Add(s.Pos, "%s cannot be applied to %s; it needs a stream%s", kind, kindNames[cur.Kind], hint)
		}
	}
	switch kind {
	case "as":
		s.As = o.str("as")
	case "forEach":
		s.ForEach = p.functionRef(o, "forEach", FuncForEach, path)
		streamOnly()
	case "print":
		po := p.object(o.node("print"), printSpec, "print")
		if po != nil {
			s.Print = &PrintSink{Filename: po.str("filename"), Label: po.str("label"), Mapper: p.functionRef(po, "mapper", FuncKeyValuePrinter, path+"_print")}
		}
		streamOnly()
	case "to":
		s.To = p.topicRef(o, "to", toTopicSpec, KindStream, path, false)
		if s.To != nil && s.To.Def != nil {
			s.Partitioner = s.To.Def.Partitioner
			if cur.Kind == FlowStream {
				p.checkAssignable(s.To.Pos, "key", s.To.Def.KeyType, cur.Key, s.To.Def.Topic)
				p.checkAssignable(s.To.Pos, "value", s.To.Def.ValueType, cur.Value, s.To.Def.Topic)
			}
		}
		streamOnly()
	case "toTopicNameExtractor":
		n := o.node("toTopicNameExtractor")
		if n.Kind == yaml.MappingNode && hasKey(n, "topicNameExtractor") {
			to := p.object(n, toTopicNameExtractorSpec, "toTopicNameExtractor")
			if to != nil {
				s.TopicNameExtractor = p.functionRef(to, "topicNameExtractor", FuncTopicNameExtractor, path+"_toTopicNameExtractor")
				s.Partitioner = p.functionRef(to, "partitioner", FuncStreamPartitioner, path+"_toTopicNameExtractor")
			}
		} else {
			s.TopicNameExtractor = p.functionRef(o, "toTopicNameExtractor", FuncTopicNameExtractor, path)
		}
		streamOnly()
	case "branch":
		streamOnly()
		n := o.node("branch")
		if n.Kind != yaml.SequenceNode {
			p.d.Add(p.pos(n), "branch must be a list of branches, not %s", yamlspec.KindName(n))
			break
		}
		for i, c := range n.Content {
			bpath := path + "_branch_branch" + strconv.Itoa(i+1)
			bo := p.object(c, branchSpec, "branch "+strconv.Itoa(i+1))
			if bo == nil {
				continue
			}
			b := &Branch{Pos: p.pos(bo.n)}
			b.If = p.functionRef(bo, "if", FuncPredicate, bpath)
			p.checkResultShape(b.If, "if", FuncPredicate)
			var bflow Flow
			b.Via, bflow = p.parseVia(bo, bpath, Flow{Kind: FlowStream, Key: cur.Key, Value: cur.Value})
			b.Sink = p.parseSink(bo, bpath, "", bflow, true)
			if b.Sink != nil && b.Sink.Type == SinkAs {
				if p.resultTaken(b.Sink.As, b.Sink.Pos) {
					p.def.branchIndex[b.Sink.As] = b
					p.resultKinds[b.Sink.As] = bflow
				}
			}
			s.Branches = append(s.Branches, b)
		}
	}
	return s
}

func hasKey(n *yaml.Node, key string) bool {
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value == key {
			return true
		}
	}
	return false
}
