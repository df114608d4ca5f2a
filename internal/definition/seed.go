package definition

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// The seed dialect: pipelines as a list of {name, inputs, operations,
// outputs} plus a top-level configuration block. It is translated into the
// KSML model:
//
//   - every input becomes a stream named after the input; the first is the
//     pipeline's source and further inputs are merged into it;
//   - operations become via steps (`predicate` is the seed's name for `if`);
//   - a final `branch` operation becomes a branch sink whose branches write
//     to the output named like their predicate;
//   - otherwise one output becomes a `to` sink, and several outputs make the
//     pipeline register its result (as) and feed one synthesized pipeline
//     per output, so every output receives every record.

func (p *parser) parseSeed(root *yaml.Node) {
	o := p.object(root, seedRootSpec, "the definition")
	if o == nil {
		return
	}
	p.def.Name = o.str("name")
	p.def.Version = o.str("version")
	p.def.Description = o.str("description")
	p.resultKinds = map[string]Flow{}
	if o.has("configuration") {
		p.def.Configuration = p.parseSeedConfiguration(o.node("configuration"))
	}
	n := o.node("pipelines")
	if n == nil || yamlspec.IsNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.d.Add(p.pos(n), "pipelines must be a list of {name, inputs, operations, outputs}, not %s", yamlspec.KindName(n))
		return
	}
	names := map[string]int{}
	for _, c := range n.Content {
		po := p.object(c, seedPipelineSpec, "pipeline")
		if po == nil {
			continue
		}
		name := po.str("name")
		if name == "" {
			name = "pipeline" + strconv.Itoa(len(p.def.Pipelines)+1)
		}
		if line, dup := names[name]; dup {
			p.d.Add(po.keyPos("name"), "pipeline name %q is already used at line %d", name, line)
			continue
		}
		names[name] = po.keyPos("name").Line
		p.parseSeedPipeline(po, name)
	}
	p.resolveAllFunctionStores()
}

func (p *parser) parseSeedConfiguration(n *yaml.Node) *Configuration {
	o := p.object(n, seedConfigSpec, "configuration")
	if o == nil {
		return nil
	}
	c := &Configuration{Properties: map[string]string{}, Pos: p.pos(o.n)}
	if pn := o.node("properties"); pn != nil && !yamlspec.IsNull(pn) {
		c.Properties, c.PropertyOrder = p.scalarMap(pn, "configuration properties")
	}
	if mn := o.node("metrics"); mn != nil && !yamlspec.IsNull(mn) {
		mo := p.object(mn, seedMetricsSpec, "configuration metrics")
		if mo != nil {
			m := &MetricsConfig{Enabled: mo.boolean("enabled"), Reporter: mo.str("reporter"), Pos: p.pos(mo.n)}
			if tn := mo.node("tags"); tn != nil && !yamlspec.IsNull(tn) {
				m.Tags, _ = p.scalarMap(tn, "metrics tags")
			}
			c.Metrics = m
		}
	}
	return c
}

// scalarMap reads a mapping of scalar values.
func (p *parser) scalarMap(n *yaml.Node, what string) (map[string]string, []string) {
	out := map[string]string{}
	var order []string
	if n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a mapping, not %s", what, yamlspec.KindName(n))
		return out, nil
	}
	for _, e := range yamlspec.Pairs(n) {
		v := yamlspec.Deref(e.Value)
		if v == nil || v.Kind != yaml.ScalarNode {
			p.d.Add(p.pos(e.Value), "%s: %q must have a single value, not %s", what, e.Key.Value, yamlspec.KindName(v))
			continue
		}
		if _, dup := out[e.Key.Value]; !dup {
			order = append(order, e.Key.Value)
		}
		out[e.Key.Value] = v.Value
	}
	return out, order
}

// seedType turns a seed type (STRING, JSON, AVRO + schema, or any KSML
// type) into a KSML type.
func seedType(o *obj, typeField, schemaField string) TypeRef {
	n, ok := o.scalar(typeField, "a type")
	if !ok {
		if o.has(schemaField) {
			sn := o.node(schemaField)
			o.p.d.Add(o.p.pos(sn), "%s needs %s (e.g. AVRO)", schemaField, typeField)
		}
		return TypeRef{}
	}
	t := TypeRef{Text: n.Value, Pos: o.p.pos(n)}
	low := strings.ToLower(strings.TrimSpace(n.Value))
	if seedPlain[low] {
		t.Text = low
	}
	if o.has(schemaField) {
		schema := o.str(schemaField)
		if !schemaNotations[t.Text] {
			o.p.d.Add(o.keyPos(schemaField), "%s %q needs a schema-based %s such as AVRO, not %q", schemaField, schema, typeField, n.Value)
		} else {
			t.Text = t.Text + ":" + schema
			t.Pos = o.p.pos(o.node(schemaField))
		}
	}
	o.p.checkType(t, typeField)
	return t
}

// seedPlain are type names the seed dialect may write in any case.
var seedPlain = map[string]bool{
	"string": true, "json": true, "avro": true, "boolean": true, "byte": true, "short": true, "int": true,
	"integer": true, "long": true, "float": true, "double": true, "bytes": true, "null": true, "none": true,
	"xml": true, "csv": true, "jsonschema": true, "protobuf": true, "binary": true, "struct": true, "any": true,
	"confluent_avro": true, "apicurio_avro": true, "apicurio_jsonschema": true, "apicurio_protobuf": true,
}

func seedIdent(s string) string { return nonIdent.ReplaceAllString(s, "_") }

func (p *parser) parseSeedPipeline(po *obj, name string) {
	path := "pipelines_" + seedIdent(name)
	pl := &Pipeline{Name: name, Pos: p.pos(po.n)}
	cur := Flow{Kind: FlowStream}

	// Inputs.
	var inputs []*TopicRef
	if in := po.node("inputs"); in != nil && !yamlspec.IsNull(in) {
		if in.Kind != yaml.SequenceNode {
			p.d.Add(p.pos(in), "inputs of pipeline %q must be a list, not %s", name, yamlspec.KindName(in))
		} else if len(in.Content) == 0 {
			p.d.Add(p.pos(in), "pipeline %q needs at least one input", name)
		} else {
			for i, c := range in.Content {
				if ref := p.parseSeedInput(c, name, i+1); ref != nil {
					inputs = append(inputs, ref)
				}
			}
		}
	}
	if len(inputs) > 0 {
		pl.From = *inputs[0]
		cur.Key, cur.Value = inputs[0].Def.KeyType, inputs[0].Def.ValueType
		pl.Source = cur
		for i, in := range inputs[1:] {
			step := path + "_via_step" + strconv.Itoa(i+1)
			pl.Via = append(pl.Via, &Operation{Type: OpMerge, Keyword: "merge", JoinKind: JoinStream, Target: in,
				Pos: in.Pos, DerivedName: step + "_merge", Result: cur})
			p.sameTypes(in.Pos, "merging inputs", cur, in.Def)
		}
	}

	// Operations.
	var branchOp *yaml.Node
	if on := po.node("operations"); on != nil && !yamlspec.IsNull(on) {
		if on.Kind != yaml.SequenceNode {
			p.d.Add(p.pos(on), "operations of pipeline %q must be a list, not %s", name, yamlspec.KindName(on))
		} else {
			for _, c := range on.Content {
				step := path + "_via_step" + strconv.Itoa(len(pl.Via)+1)
				c = yamlspec.Deref(c)
				if branchOp != nil {
					p.d.Add(p.pos(c), "no operation may follow a branch; its outputs are chosen by predicate name")
					continue
				}
				if c != nil && c.Kind == yaml.MappingNode && seedOpType(c) == "branch" {
					branchOp = c
					continue
				}
				var rename map[string]string
				if t := seedOpType(c); t == "filter" || t == "filterNot" {
					rename = map[string]string{"predicate": "if"}
				}
				op, next := p.parseOperation(c, step, cur, rename)
				if op != nil {
					pl.Via = append(pl.Via, op)
				}
				cur = next
			}
		}
	}

	// Outputs.
	type output struct {
		name string
		ref  *TopicRef
		pos  Pos
	}
	var outputs []output
	if on := po.node("outputs"); on != nil && !yamlspec.IsNull(on) {
		if on.Kind != yaml.SequenceNode {
			p.d.Add(p.pos(on), "outputs of pipeline %q must be a list, not %s", name, yamlspec.KindName(on))
		} else {
			for _, c := range on.Content {
				oo := p.object(c, seedOutputSpec, "output of pipeline \""+name+"\"")
				if oo == nil {
					continue
				}
				oname := oo.str("name")
				t := &TopicDef{Name: oname, Kind: KindStream, Topic: oo.str("topic"), Inline: true, Pos: p.pos(oo.n)}
				t.KeyType = seedType(oo, "keyType", "keySchema")
				t.ValueType = seedType(oo, "valueType", "valueSchema")
				t.SchemaRegistry = oo.str("schemaRegistry")
				outputs = append(outputs, output{name: oname, ref: &TopicRef{Name: oname, Def: t, Inline: true, Pos: p.pos(oo.n)}, pos: oo.keyPos("name")})
			}
		}
	}

	switch {
	case branchOp != nil:
		s := &Sink{Type: SinkBranch, Pos: p.pos(branchOp), DerivedName: path + "_branch", Input: cur}
		bo := p.object(branchOp, seedBranchSpec, "branch operation")
		consumed := map[string]bool{}
		predLines := map[string]int{}
		if bo != nil {
			if pn := bo.node("predicates"); pn != nil && pn.Kind == yaml.SequenceNode {
				for i, c := range pn.Content {
					bpath := path + "_branch_branch" + strconv.Itoa(i+1)
					pr := p.object(c, seedPredicateSpec, "branch predicate")
					if pr == nil {
						continue
					}
					pname := pr.str("name")
					if line, dup := predLines[pname]; dup {
						p.d.Add(pr.keyPos("name"), "branch predicate name %q is already used at line %d; each output receives one predicate", pname, line)
					} else {
						predLines[pname] = pr.keyPos("name").Line
					}
					b := &Branch{Pos: p.pos(pr.n)}
					b.If = p.functionRef(pr, "predicate", FuncPredicate, bpath)
					var target *output
					for j := range outputs {
						if outputs[j].name == pname {
							target = &outputs[j]
							break
						}
					}
					if target == nil {
						var names []string
						for _, o := range outputs {
							names = append(names, o.name)
						}
						p.d.Add(pr.keyPos("name"), "branch predicate %q has no output of that name, so its records would be lost%s", pname, didYouMean(pname, names))
					} else {
						consumed[pname] = true
						b.Sink = &Sink{Type: SinkTo, To: target.ref, Pos: target.ref.Pos, DerivedName: bpath + "_to", Input: cur}
					}
					s.Branches = append(s.Branches, b)
				}
			} else if pn != nil {
				p.d.Add(p.pos(pn), "predicates of a branch must be a list of {name, predicate}, not %s", yamlspec.KindName(pn))
			}
		}
		for _, o := range outputs {
			if !consumed[o.name] {
				p.d.Add(o.pos, "output %q receives nothing: after a branch, each output needs a predicate of the same name", o.name)
			}
		}
		pl.Sink = s
		p.def.Pipelines = append(p.def.Pipelines, pl)
	case len(outputs) == 1:
		pl.Sink = &Sink{Type: SinkTo, To: outputs[0].ref, Pos: outputs[0].ref.Pos, DerivedName: path + "_to", Input: cur}
		p.def.Pipelines = append(p.def.Pipelines, pl)
	default:
		pl.Sink = &Sink{Type: SinkAs, As: name, Implicit: len(outputs) == 0, Pos: pl.Pos, DerivedName: path + "_as", Input: cur}
		p.def.Pipelines = append(p.def.Pipelines, pl)
		if !p.resultTaken(name, pl.Pos) {
			return
		}
		p.def.pipelineIndex[name] = pl
		p.resultKinds[name] = cur
		for _, o := range outputs {
			fan := &Pipeline{Name: name + "_to_" + o.name, Pos: o.ref.Pos, Source: cur,
				From: TopicRef{Name: name, Pipeline: pl, Pos: o.ref.Pos}}
			fan.Sink = &Sink{Type: SinkTo, To: o.ref, Pos: o.ref.Pos, DerivedName: "pipelines_" + seedIdent(fan.Name) + "_to", Input: cur}
			p.def.Pipelines = append(p.def.Pipelines, fan)
		}
	}
}

func seedOpType(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for _, e := range yamlspec.Pairs(n) {
		if e.Key.Value == "type" {
			if v := yamlspec.Deref(e.Value); v != nil && v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

// parseSeedInput registers an input as a stream; inputs of several
// pipelines with the same name must read the same topic.
func (p *parser) parseSeedInput(n *yaml.Node, pipeline string, index int) *TopicRef {
	o := p.object(n, seedInputSpec, "input of pipeline \""+pipeline+"\"")
	if o == nil {
		return nil
	}
	name := o.str("name")
	if name == "" {
		name = seedIdent(pipeline) + "_input" + strconv.Itoa(index)
	}
	t := &TopicDef{Name: name, Kind: KindStream, Topic: o.str("topic"), Pos: p.pos(o.n)}
	t.KeyType = seedType(o, "keyType", "keySchema")
	t.ValueType = seedType(o, "valueType", "valueSchema")
	t.SchemaRegistry = o.str("schemaRegistry")
	if o.has("offsetResetPolicy") {
		t.OffsetResetPolicy = p.offsetReset(o)
	}
	if prev := p.def.topicIndex[name]; prev != nil {
		if prev.Topic != t.Topic {
			p.d.Add(o.keyPos("topic"), "input %q reads topic %q, but an input of that name at line %d reads %q", name, t.Topic, prev.Pos.Line, prev.Topic)
		}
		return &TopicRef{Name: name, Def: prev, Pos: p.pos(o.n)}
	}
	p.def.Streams = append(p.def.Streams, t)
	p.def.topicIndex[name] = t
	return &TopicRef{Name: name, Def: t, Pos: p.pos(o.n)}
}
