package definition

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Load reads, parses, resolves and validates the definition file at path.
// On failure the error is a Diagnostics list (every problem of the file,
// sorted by position) or, when the file cannot be read, the I/O error.
func Load(path string, opts Options) (*Definition, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(opts.SchemaDirs) == 0 {
		opts.SchemaDirs = []string{filepath.Dir(path)}
	}
	return Parse(path, src, opts)
}

// Parse is Load on source already in memory; file names the source in
// positions. When the result is not usable the error is a Diagnostics list;
// the returned Definition is then partial and must not be run.
func Parse(file string, src []byte, opts Options) (def *Definition, err error) {
	p := &parser{file: file, opts: opts, lines: strings.Split(string(src), "\n")}
	ns := opts.Namespace
	if ns == "" {
		ns = namespaceFromFile(file)
	}
	p.def = &Definition{
		File:          file,
		Namespace:     ns,
		topicIndex:    map[string]*TopicDef{},
		storeIndex:    map[string]*StoreDef{},
		functionIndex: map[string]*FunctionDef{},
		pipelineIndex: map[string]*Pipeline{},
		branchIndex:   map[string]*Branch{},
	}
	root, syntax := yamlspec.Parse(file, src)
	switch {
	case syntax != nil:
		p.d.List = append(p.d.List, *syntax)
	case root != nil:
		yamlspec.CheckDuplicates(&p.d, file, root)
		p.parseRoot(root)
		p.checkAllCode()
	default:
		p.d.Add(Pos{File: file, Line: 1, Col: 1}, "the definition is empty")
	}
	if p.d.Len() > 0 {
		p.d.List.Sort()
		return p.def, p.d.List
	}
	return p.def, nil
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

func namespaceFromFile(file string) string {
	base := filepath.Base(file)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return nonIdent.ReplaceAllString(base, "_")
}

type parser struct {
	file  string
	lines []string
	opts  Options
	d     yamlspec.Collector
	def   *Definition

	// pipeline kinds by registered name, filled while pipelines are built
	resultKinds map[string]Flow
	// misapplied is set by need when the current operation does not apply
	// to the stream kind at hand.
	misapplied bool
}

func (p *parser) parseRoot(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		p.d.Add(p.pos(root), "a definition must be a mapping of sections (streams, functions, pipelines, ...), not %s", yamlspec.KindName(root))
		return
	}
	// The seed dialect writes pipelines as a list.
	for _, e := range yamlspec.Pairs(root) {
		if e.Key.Value == "pipelines" && yamlspec.Deref(e.Value) != nil && yamlspec.Deref(e.Value).Kind == yaml.SequenceNode {
			p.def.Dialect = DialectSeed
		}
		if e.Key.Value == "configuration" {
			p.def.Dialect = DialectSeed
		}
	}
	if p.def.Dialect == DialectSeed {
		p.parseSeed(root)
		return
	}
	if hint := otherFileKind(root); hint != "" {
		p.d.Add(p.pos(root), "this is not a KSML definition: %s", hint)
		return
	}
	o := p.object(root, rootSpec, "the definition")
	if o == nil {
		return
	}
	p.def.Name = o.str("name")
	p.def.Version = o.str("version")
	p.def.Description = o.str("description")

	// Resources first (stores, functions, topics), then pipelines and
	// producers, so references resolve regardless of section order.
	p.forEachEntry(o, "stores", func(name string, k, v *yaml.Node) {
		if s := p.parseStore(v, "", "stores_"+name, name, true); s != nil {
			p.def.Stores = append(p.def.Stores, s)
			p.def.storeIndex[name] = s
		}
	})
	p.forEachEntry(o, "functions", func(name string, k, v *yaml.Node) {
		if f := p.parseNamedFunction(name, v); f != nil {
			p.def.Functions = append(p.def.Functions, f)
			p.def.functionIndex[name] = f
		}
	})
	topicSections := []struct {
		key  string
		kind TopicKind
		spec *yamlspec.Spec
		list *[]*TopicDef
	}{
		{"streams", KindStream, streamSpec, &p.def.Streams},
		{"tables", KindTable, tableSpec, &p.def.Tables},
		{"globalTables", KindGlobalTable, globalTableSpec, &p.def.GlobalTables},
	}
	for _, sec := range topicSections {
		p.forEachEntry(o, sec.key, func(name string, k, v *yaml.Node) {
			t := p.parseTopic(v, sec.spec, sec.kind, sec.key+"_"+name, sec.kind.String()+" \""+name+"\"")
			if t == nil {
				return
			}
			t.Name = name
			if prev := p.def.topicIndex[name]; prev != nil {
				p.d.Add(p.pos(k), "%s %q is already defined as a %s at line %d", sec.kind, name, prev.Kind, prev.Pos.Line)
				return
			}
			*sec.list = append(*sec.list, t)
			p.def.topicIndex[name] = t
		})
	}
	p.checkSharedTopics()
	p.resultKinds = map[string]Flow{}
	p.forEachEntry(o, "pipelines", func(name string, k, v *yaml.Node) {
		if pl := p.parsePipeline(name, v); pl != nil {
			p.def.Pipelines = append(p.def.Pipelines, pl)
		}
	})
	p.forEachEntry(o, "producers", func(name string, k, v *yaml.Node) {
		if pr := p.parseProducer(name, v); pr != nil {
			p.def.Producers = append(p.def.Producers, pr)
		}
	})
	p.resolveAllFunctionStores()
}

// resolveAllFunctionStores resolves the stores: lists of all functions.
// Functions may name top-level stores and stores declared (with a name)
// inline in tables and operations.
func (p *parser) resolveAllFunctionStores() {
	named := map[string]*StoreDef{}
	for _, s := range p.def.InlineStores {
		named[s.Name] = s
	}
	for k, s := range p.def.storeIndex {
		named[k] = s
	}
	for _, f := range p.def.AllFunctions() {
		for i := range f.Stores {
			r := &f.Stores[i]
			r.Def = named[r.Name]
			if r.Def == nil {
				hint := didYouMean(r.Name, keys(named))
				if t := p.def.topicIndex[r.Name]; t != nil && t.Store != nil && t.Store.Def != nil {
					hint = fmt.Sprintf("; %s %q keeps its records in store %q", t.Kind, t.Name, t.Store.Def.Name)
				}
				p.d.Add(r.Pos, "function %q uses unknown state store %q%s", f.Name, r.Name, hint)
			}
		}
	}
}

// forEachEntry calls fn for every entry of the mapping section key.
func (p *parser) forEachEntry(o *obj, key string, fn func(name string, k, v *yaml.Node)) {
	n := o.node(key)
	if n == nil || yamlspec.IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a mapping of names to definitions, not %s", key, yamlspec.KindName(n))
		return
	}
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Kind != yaml.ScalarNode || e.Key.Value == "" {
			p.d.Add(p.pos(e.Key), "%s entries need a name", key)
			continue
		}
		fn(e.Key.Value, e.Key, e.Value)
	}
}

// ---- stores ----

// parseStore reads a store definition. expected is the store type the
// context requires ("" = any); named stores (top-level) must state key and
// value types for window and session stores.
func (p *parser) parseStore(n *yaml.Node, expected StoreType, path, name string, topLevel bool) *StoreDef {
	n = yamlspec.Deref(n)
	what := "store \"" + name + "\""
	if !topLevel {
		what = "inline store"
	}
	if n == nil || n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a mapping, not %s", what, yamlspec.KindName(n))
		return nil
	}
	st := expected
	var typeNode *yaml.Node
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value == "type" {
			typeNode = yamlspec.Deref(e.Value)
		}
	}
	if typeNode != nil && typeNode.Kind == yaml.ScalarNode {
		t := StoreType(typeNode.Value)
		if _, ok := storeSpecs[t]; !ok {
			p.d.Add(p.pos(typeNode), "%s has unknown type %q; use keyValue, window or session%s", what, typeNode.Value,
				didYouMean(typeNode.Value, []string{"keyValue", "window", "session"}))
			return nil
		}
		if expected != "" && t != expected {
			p.d.Add(p.pos(typeNode), "%s is a %s store, but a %s store is needed here", what, t, expected)
		}
		st = t
	} else if st == "" || topLevel {
		p.d.Add(p.pos(n), "%s is missing required field \"type\" (keyValue, window or session)", what)
		return nil
	}
	spec := storeSpecs[st]
	if !topLevel {
		spec = inlineStoreSpecs[st]
	}
	// An inline store may leave out `type` when the context implies it.
	o := p.object(n, optionalType(spec, typeNode == nil), what)
	if o == nil {
		return nil
	}
	s := &StoreDef{Name: name, Type: st, Inline: !topLevel, Pos: p.pos(n)}
	if o.has("name") {
		s.Name = o.str("name")
	} else if !topLevel {
		s.Name = path
	}
	s.KeyType = o.typ("keyType")
	s.ValueType = o.typ("valueType")
	s.Persistent = o.boolean("persistent")
	s.Caching = o.boolean("caching")
	s.Logging = o.boolean("logging")
	s.Timestamped = o.boolean("timestamped")
	s.Versioned = o.boolean("versioned")
	s.HistoryRetention = o.duration("historyRetention")
	s.SegmentInterval = o.duration("segmentInterval")
	s.WindowSize = o.duration("windowSize")
	s.Retention = o.duration("retention")
	s.RetainDuplicates = o.boolean("retainDuplicates")
	return s
}

// optionalType returns spec without its `type` requirement when drop is set.
func optionalType(spec *yamlspec.Spec, drop bool) *yamlspec.Spec {
	if !drop {
		return spec
	}
	c := *spec
	c.Fields = append([]yamlspec.Field(nil), spec.Fields...)
	for i := range c.Fields {
		if c.Fields[i].Name == "type" {
			c.Fields[i].Required = false
		}
	}
	return &c
}

// storeRef reads a store field: a name of a top-level store or an inline
// store.
func (p *parser) storeRef(o *obj, fieldName string, expected StoreType, path string) *StoreRef {
	n := o.node(fieldName)
	if n == nil || yamlspec.IsNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		s := p.def.storeIndex[n.Value]
		if s == nil {
			p.d.Add(p.pos(n), "unknown state store %q%s", n.Value, didYouMean(n.Value, keys(p.def.storeIndex)))
			return &StoreRef{Name: n.Value, Pos: p.pos(n)}
		}
		if expected != "" && s.Type != expected {
			p.d.Add(p.pos(n), "state store %q is a %s store, but %s needs a %s store", n.Value, s.Type, fieldName, expected)
		}
		return &StoreRef{Name: n.Value, Def: s, Pos: p.pos(n)}
	}
	s := p.parseStore(n, expected, path+"_"+fieldName, "", false)
	if s == nil {
		return nil
	}
	p.def.InlineStores = append(p.def.InlineStores, s)
	return &StoreRef{Name: s.Name, Def: s, Inline: true, Pos: p.pos(n)}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ---- functions ----

func (p *parser) parseNamedFunction(name string, n *yaml.Node) *FunctionDef {
	n = yamlspec.Deref(n)
	what := "function \"" + name + "\""
	if n == nil || n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a mapping, not %s", what, yamlspec.KindName(n))
		return nil
	}
	ft := FuncGeneric
	badType := false
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value != "type" {
			continue
		}
		v := yamlspec.Deref(e.Value)
		if v == nil || v.Kind != yaml.ScalarNode {
			p.d.Add(p.pos(v), "type of %s must be a function type", what)
			return nil
		}
		t := FunctionType(v.Value)
		if !validFunctionType(t) {
			// Keep the function (as generic) so references to it do not
			// cascade into more errors.
			p.d.Add(p.pos(v), "%s has unknown type %q%s", what, v.Value, didYouMean(v.Value, functionTypeNames()))
			badType = true
			continue
		}
		ft = t
	}
	spec := functionSpec(ft, true)
	if badType {
		spec = optionalType(spec, true)
		spec = &yamlspec.Spec{Name: spec.Name, Doc: spec.Doc, Fields: append([]yamlspec.Field{{Name: "type", Kind: yamlspec.String}}, spec.Fields[1:]...)}
	}
	o := p.object(n, spec, what)
	if o == nil {
		return nil
	}
	f := p.functionBody(o, ft, name)
	f.Pos = p.pos(n)
	return f
}

func validFunctionType(t FunctionType) bool {
	for _, x := range allFunctionTypes {
		if x == t {
			return true
		}
	}
	return false
}

func functionTypeNames() []string {
	out := make([]string, len(allFunctionTypes))
	for i, t := range allFunctionTypes {
		out[i] = string(t)
	}
	return out
}

func (p *parser) functionBody(o *obj, ft FunctionType, name string) *FunctionDef {
	f := &FunctionDef{Name: name, Type: ft, Pos: p.pos(o.n)}
	f.GlobalCode = o.code("globalCode")
	f.Code = o.code("code")
	f.Expression = o.code("expression")
	f.ResultType = o.typ("resultType")
	sig := ft.Signature()
	if sig.NoResult && !f.ResultType.IsZero() {
		// forEach returns nothing; upstream rejects a result type.
		t := strings.TrimSpace(strings.ToLower(f.ResultType.Text))
		if t != "none" && t != "null" {
			p.d.Add(f.ResultType.Pos, "a %s function returns nothing; remove resultType %q", ft, f.ResultType.Text)
		}
	}
	if pn := o.node("parameters"); pn != nil && !yamlspec.IsNull(pn) {
		if pn.Kind != yaml.SequenceNode {
			p.d.Add(p.pos(pn), "parameters of %s must be a list, not %s", o.what, yamlspec.KindName(pn))
		} else {
			for _, c := range pn.Content {
				po := p.object(c, paramSpec, "parameter of "+o.what)
				if po == nil {
					continue
				}
				prm := Parameter{Name: po.str("name"), Type: po.typ("type"), Pos: p.pos(yamlspec.Deref(c))}
				if po.has("defaultValue") {
					v := po.str("defaultValue")
					prm.DefaultValue = &v
				}
				if prm.Name != "" && !isPythonIdent(prm.Name) {
					p.d.Add(po.keyPos("name"), "parameter name %q is not a valid Python identifier", prm.Name)
				}
				f.Parameters = append(f.Parameters, prm)
			}
		}
	}
	names, pos := o.strings("stores")
	for i, s := range names {
		f.Stores = append(f.Stores, StoreRef{Name: s, Pos: pos[i]})
	}
	return f
}

var pyIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func isPythonIdent(s string) bool { return pyIdent.MatchString(s) }

// signatureFamily groups function types that upstream accepts in each
// other's place: same built-in parameters and a result the operation
// converts (it checks only the parameter count and the result type).
// Predicates and forEach functions stay apart, so a predicate where a
// mapper is needed is an error.
var signatureFamily = map[FunctionType]string{
	FuncKeyTransformer: "mapper", FuncValueTransformer: "mapper", FuncKeyValueTransformer: "mapper",
	FuncKeyValueToKeyValueListTransformer: "mapper", FuncKeyValueToValueListTransformer: "mapper",
	FuncKeyValueMapper: "mapper", FuncKeyValuePrinter: "mapper",
	FuncMerger: "joiner", FuncValueJoiner: "joiner",
}

// compatibleFunction reports whether a function of type have may be used
// where want is expected.
func compatibleFunction(have, want FunctionType) bool {
	if have == want || have == FuncGeneric || want == FuncGeneric {
		return true
	}
	f := signatureFamily[have]
	return f != "" && f == signatureFamily[want]
}

// functionRef reads a function field: the name of a declared function or an
// inline function whose type is implied by the field.
func (p *parser) functionRef(o *obj, fieldName string, want FunctionType, path string) *FunctionRef {
	n := o.node(fieldName)
	if n == nil || yamlspec.IsNull(n) {
		return nil
	}
	return p.functionRefNode(n, fieldName, want, path+"_"+fieldName)
}

func (p *parser) functionRefNode(n *yaml.Node, fieldName string, want FunctionType, inlineName string) *FunctionRef {
	n = yamlspec.Deref(n)
	if n.Kind == yaml.ScalarNode {
		f := p.def.functionIndex[n.Value]
		if f == nil {
			p.d.Add(p.pos(n), "unknown function %q%s", n.Value, didYouMean(n.Value, keys(p.def.functionIndex)))
			return &FunctionRef{Name: n.Value, Pos: p.pos(n)}
		}
		if !compatibleFunction(f.Type, want) {
			p.d.Add(p.pos(n), "function %q is a %s, but %s needs a %s", n.Value, f.Type, fieldName, want)
		}
		return &FunctionRef{Name: n.Value, Def: f, Pos: p.pos(n)}
	}
	if n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a function name or an inline function, not %s", fieldName, yamlspec.KindName(n))
		return nil
	}
	what := "inline " + string(want) + " function (" + fieldName + ")"
	ft := want
	// Inline functions may repeat their type; it must fit the field.
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value == "type" {
			v := yamlspec.Deref(e.Value)
			if v != nil && v.Kind == yaml.ScalarNode {
				t := FunctionType(v.Value)
				if !validFunctionType(t) {
					p.d.Add(p.pos(v), "%s has unknown type %q%s", what, v.Value, didYouMean(v.Value, functionTypeNames()))
				} else if !compatibleFunction(t, want) {
					p.d.Add(p.pos(v), "%s: a %s does not fit here; %s needs a %s", what, t, fieldName, want)
				} else if t != FuncGeneric {
					ft = t
				}
			}
		}
	}
	o := p.object(n, functionSpec(want, false), what, "type")
	if o == nil {
		return nil
	}
	name := inlineName
	if o.has("name") {
		name = o.str("name")
	}
	f := p.functionBody(o, ft, name)
	f.Inline = true
	if f.GlobalCode == nil && f.Code == nil && f.Expression == nil {
		p.d.Add(p.pos(n), "%s has no code, expression or globalCode", what)
	}
	p.def.InlineFunctions = append(p.def.InlineFunctions, f)
	return &FunctionRef{Name: name, Def: f, Inline: true, Pos: p.pos(n)}
}

// ---- topics ----

func (p *parser) parseTopic(n *yaml.Node, spec *yamlspec.Spec, kind TopicKind, path, what string) *TopicDef {
	o := p.object(n, spec, what)
	if o == nil {
		return nil
	}
	t := &TopicDef{Kind: kind, Pos: p.pos(o.n), Name: path}
	t.Topic = o.str("topic")
	if o.has("topic") && strings.TrimSpace(t.Topic) == "" {
		p.d.Add(o.keyPos("topic"), "topic of %s must not be empty", what)
	}
	t.KeyType = o.typ("keyType")
	t.ValueType = o.typ("valueType")
	if o.has("offsetResetPolicy") {
		t.OffsetResetPolicy = p.offsetReset(o)
	}
	t.TimestampExtractor = p.functionRef(o, "timestampExtractor", FuncTimestampExtractor, path)
	t.Partitioner = p.functionRef(o, "partitioner", FuncStreamPartitioner, path)
	if spec.Field("store") != nil {
		t.Store = p.storeRef(o, "store", StoreKeyValue, path)
		// An unnamed table store is named after the topic, as upstream does,
		// so interactive queries find it by topic name.
		if t.Store != nil && t.Store.Inline && t.Store.Def != nil && !hasKey(yamlspec.Deref(o.node("store")), "name") && t.Topic != "" {
			t.Store.Def.Name = t.Topic
			t.Store.Name = t.Topic
		}
	}
	return t
}

func (p *parser) offsetReset(o *obj) *OffsetResetPolicy {
	v := o.str("offsetResetPolicy")
	pos := p.pos(o.node("offsetResetPolicy"))
	lv := strings.ToLower(strings.TrimSpace(v))
	switch lv {
	case "earliest", "latest", "none":
		return &OffsetResetPolicy{Policy: lv, Pos: pos}
	}
	if strings.HasPrefix(lv, "by_duration:") {
		ds := strings.TrimSpace(v[len("by_duration:"):])
		d, err := ParseDuration(ds)
		if err != nil {
			d, err = parseISODuration(ds)
		}
		if err != nil {
			p.d.Add(pos, "offsetResetPolicy %q: invalid duration %q", v, ds)
			return nil
		}
		return &OffsetResetPolicy{Policy: "by_duration", Duration: d, Pos: pos}
	}
	p.d.Add(pos, "offsetResetPolicy must be earliest, latest, none or by_duration:<duration>, not %q%s", v,
		didYouMean(lv, []string{"earliest", "latest", "none"}))
	return nil
}

// topicRef reads a topic field: a name or an inline definition. Names may
// also be earlier pipeline results when allowPipelines is set.
func (p *parser) topicRef(o *obj, fieldName string, spec *yamlspec.Spec, kind TopicKind, path string, allowPipelines bool) *TopicRef {
	n := o.node(fieldName)
	if n == nil || yamlspec.IsNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		ref := &TopicRef{Name: n.Value, Pos: p.pos(n)}
		if t := p.def.topicIndex[n.Value]; t != nil {
			ref.Def = t
			return ref
		}
		if allowPipelines {
			if pl := p.def.pipelineIndex[n.Value]; pl != nil {
				ref.Pipeline = pl
				return ref
			}
			if b := p.def.branchIndex[n.Value]; b != nil {
				ref.Branch = b
				return ref
			}
		}
		cands := keys(p.def.topicIndex)
		what := "stream, table or globalTable"
		if allowPipelines {
			cands = append(cands, keys(p.def.pipelineIndex)...)
			cands = append(cands, keys(p.def.branchIndex)...)
			what = "stream, table, globalTable or pipeline"
		}
		p.d.Add(p.pos(n), "unknown %s %q%s", what, n.Value, didYouMean(n.Value, cands))
		return ref
	}
	t := p.parseTopic(n, spec, kind, path+"_"+fieldName, "inline topic ("+fieldName+")")
	if t == nil {
		return nil
	}
	t.Inline = true
	return &TopicRef{Name: t.Name, Def: t, Inline: true, Pos: p.pos(n)}
}

// ---- producers ----

func (p *parser) parseProducer(name string, n *yaml.Node) *Producer {
	what := "producer \"" + name + "\""
	o := p.object(n, producerSpec, what)
	if o == nil {
		return nil
	}
	path := "producers_" + name
	pr := &Producer{Name: name, Pos: p.pos(o.n)}
	pr.Generator = p.functionRef(o, "generator", FuncGenerator, path)
	p.checkResultShape(pr.Generator, "generator", FuncGenerator)
	pr.Condition = p.functionRef(o, "condition", FuncPredicate, path)
	p.checkResultShape(pr.Condition, "condition", FuncPredicate)
	pr.Until = p.functionRef(o, "until", FuncPredicate, path)
	p.checkResultShape(pr.Until, "until", FuncPredicate)
	pr.To = p.topicRef(o, "to", toTopicSpec, KindStream, path, false)
	pr.Interval = o.duration("interval")
	if v, ok := o.integer("count", 1); ok {
		pr.Count = v
	}
	// Upstream accepts any batchSize and falls back to 1 outside 1..1000.
	if v, ok := o.integer("batchSize", -1<<62); ok {
		pr.BatchSize = 1
		if v >= 1 && v <= 1000 {
			pr.BatchSize = int(v)
		}
	}
	return pr
}

// checkSharedTopics: several definitions of one topic read the same
// records, so their key and value types must agree (one must be able to
// hold the other's).
func (p *parser) checkSharedTopics() {
	first := map[string]*TopicDef{}
	all := append(append(append([]*TopicDef{}, p.def.Streams...), p.def.Tables...), p.def.GlobalTables...)
	for _, t := range all {
		prev, ok := first[t.Topic]
		if !ok {
			first[t.Topic] = t
			continue
		}
		for _, kv := range []struct {
			what string
			a, b TypeRef
		}{{"key", prev.KeyType, t.KeyType}, {"value", prev.ValueType, t.ValueType}} {
			a, b := parsed(kv.a), parsed(kv.b)
			if a == nil || b == nil || a.IsAssignableFrom(b) || b.IsAssignableFrom(a) {
				continue
			}
			p.d.Add(t.Pos, "%s %q reads topic %q with %s type %q, but %s %q (line %d) reads it with %q",
				t.Kind, t.Name, t.Topic, kv.what, kv.b.Text, prev.Kind, prev.Name, prev.Pos.Line, kv.a.Text)
		}
	}
}

// otherFileKind recognizes YAML files that users commonly pass by mistake:
// runner configurations and test-runner suites.
func otherFileKind(root *yaml.Node) string {
	has := map[string]bool{}
	for _, e := range yamlspec.Pairs(root) {
		has[e.Key.Value] = true
	}
	if has["definition"] && has["tests"] {
		// Suites declare streams: too; definition: and tests: decide.
		return "it is a test-runner suite (definition: and tests:); run it with ksml test"
	}
	for _, f := range rootSpec.Fields {
		if has[f.Name] && f.Kind != yamlspec.String {
			return "" // has definition sections: report its keys normally
		}
	}
	switch {
	case has["ksml"] || has["kafka"]:
		return "it is a runner configuration (ksml: / kafka:); pass it to ksml run -c"
	}
	return ""
}
