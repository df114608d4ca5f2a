package testrunner

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/types"
	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Suite is one parsed test-suite file (ksml-test-spec).
type Suite struct {
	File            string
	Name            string // name: or the file name without extension
	Definition      string // as written; resolved relative to the suite file
	SchemaDirectory string
	ModuleDirectory string
	Streams         []*StreamBinding // in file order
	Tests           []*TestCase      // in file order
}

// StreamBinding binds a logical stream name to a topic and its types.
type StreamBinding struct {
	Key       string
	Topic     string
	KeyType   string
	ValueType string
}

// TestCase is one entry under tests:.
type TestCase struct {
	Key         string
	Description string
	Produce     []*ProduceBlock
	Assert      []*AssertBlock
}

// Label is the description, or the key when there is none.
func (t *TestCase) Label() string {
	if t.Description != "" {
		return t.Description
	}
	return t.Key
}

// ProduceBlock writes messages, or the results of a generator, to a stream.
type ProduceBlock struct {
	To        string
	Messages  []*Message
	Generator *Generator
	Count     int64
}

// Message is one record to produce. Key and Value are plain YAML data
// (nil, bool, int64, float64, string, []any, *types.Struct).
type Message struct {
	Key          any
	Value        any
	Timestamp    int64
	HasTimestamp bool
}

// Generator is Python code whose result is a list of (key, value) tuples.
type Generator struct {
	Name       string
	GlobalCode string
	Code       string
	Expression string
	Line       int            // line of the generator block in the suite file
	Lines      map[string]int // suite-file line of each code field's first line
}

// AssertBlock runs Python assertion code with records and/or stores.
type AssertBlock struct {
	On     string
	Stores []string
	Code   string
	Line   int // line of the code in the suite file
}

// DefinitionError is a malformed suite; the whole suite reports one ERROR.
type DefinitionError struct{ Msg string }

func (e *DefinitionError) Error() string { return e.Msg }

var identifier = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)

var suiteFields = map[string]bool{"name": true, "definition": true, "schemaDirectory": true,
	"moduleDirectory": true, "streams": true, "tests": true}

// suiteParser carries the file name so every message can point into it.
type suiteParser struct{ file string }

func (p *suiteParser) errf(n *yaml.Node, format string, args ...any) error {
	d := yamlspec.Diagnostic{Pos: yamlspec.At(p.file, n), Msg: fmt.Sprintf(format, args...)}
	return &DefinitionError{Msg: d.Error()}
}

// ParseSuite reads and validates a suite file. Problems are returned as a
// *DefinitionError naming file:line:col.
func ParseSuite(file string) (*Suite, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &DefinitionError{Msg: err.Error()}
	}
	return ParseSuiteBytes(file, data)
}

// ParseSuiteBytes parses suite content read from file.
func ParseSuiteBytes(file string, data []byte) (*Suite, error) {
	p := &suiteParser{file: file}
	root, syntax := yamlspec.Parse(file, data)
	if syntax != nil {
		return nil, &DefinitionError{Msg: syntax.Error()}
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, p.errf(nil, "top-level YAML node must be an object")
	}
	if err := p.checkDuplicates(root); err != nil {
		return nil, err
	}
	s := &Suite{File: file}
	var ok bool
	var err error
	if s.Name, _, err = p.optString(root, "name"); err != nil {
		return nil, err
	}
	if s.Name == "" {
		base := filepath.Base(file)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if s.Definition, ok, err = p.optString(root, "definition"); err != nil {
		return nil, err
	} else if !ok {
		return nil, p.errf(root, "Missing required field 'definition'")
	}
	if s.SchemaDirectory, _, err = p.optString(root, "schemaDirectory"); err != nil {
		return nil, err
	}
	if s.ModuleDirectory, _, err = p.optString(root, "moduleDirectory"); err != nil {
		return nil, err
	}
	if err := p.parseStreams(root, s); err != nil {
		return nil, err
	}
	if err := p.parseTests(root, s); err != nil {
		return nil, err
	}
	return s, nil
}

// checkDuplicates rejects duplicate keys at any depth, as upstream does;
// the first one found is reported.
func (p *suiteParser) checkDuplicates(n *yaml.Node) error {
	var err error
	yamlspec.Duplicates(n, func(k, first *yaml.Node) {
		if err == nil {
			err = p.errf(k, "Duplicate key '%s' (first defined at line %d)", k.Value, first.Line)
		}
	})
	return err
}

func lookup(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// optString returns a scalar field; present but not a scalar is an error.
func (p *suiteParser) optString(m *yaml.Node, key string) (string, bool, error) {
	_, v := lookup(m, key)
	if yamlspec.IsNull(v) {
		return "", false, nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", false, p.errf(v, "field '%s' must be a string", key)
	}
	return v.Value, true, nil
}

func (p *suiteParser) parseStreams(root *yaml.Node, s *Suite) error {
	k, v := lookup(root, "streams")
	if yamlspec.IsNull(v) {
		return p.errf(root, "Missing required 'streams' map")
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v, "'streams' must be a map")
	}
	if len(v.Content) == 0 {
		return p.errf(k, "'streams' map must contain at least one entry")
	}
	topics := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		key, entry := v.Content[i], v.Content[i+1]
		if !identifier.MatchString(key.Value) {
			return p.errf(key, "Invalid stream key '%s': must match %s (alphanumeric and underscore, starting with a letter)", key.Value, identifier)
		}
		if entry.Kind != yaml.MappingNode {
			return p.errf(entry, "stream entry '%s' must be an object", key.Value)
		}
		b := &StreamBinding{Key: key.Value, KeyType: "string", ValueType: "string"}
		topic, ok, err := p.optString(entry, "topic")
		if err != nil {
			return err
		}
		if !ok {
			return p.errf(entry, "stream '%s' is missing required field 'topic'", key.Value)
		}
		b.Topic = topic
		for _, f := range []struct {
			name string
			dst  *string
		}{{"keyType", &b.KeyType}, {"valueType", &b.ValueType}} {
			val, ok, err := p.optString(entry, f.name)
			if err != nil {
				return err
			}
			if ok {
				*f.dst = val
			}
		}
		if first, dup := topics[topic]; dup {
			return p.errf(key, "streams '%s' and '%s' both reference topic '%s'; each topic may appear at most once in 'streams'", first, key.Value, topic)
		}
		topics[topic] = key.Value
		s.Streams = append(s.Streams, b)
	}
	return nil
}

// Stream returns the binding with the given key.
func (s *Suite) Stream(key string) *StreamBinding {
	for _, b := range s.Streams {
		if b.Key == key {
			return b
		}
	}
	return nil
}

func (p *suiteParser) parseTests(root *yaml.Node, s *Suite) error {
	k, v := lookup(root, "tests")
	if yamlspec.IsNull(v) {
		return p.errf(root, "Missing required 'tests' map")
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v, "'tests' must be a map")
	}
	if len(v.Content) == 0 {
		return p.errf(k, "'tests' map must contain at least one entry")
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		key, entry := v.Content[i], v.Content[i+1]
		if !identifier.MatchString(key.Value) {
			return p.errf(key, "Invalid test key '%s': must match %s (alphanumeric and underscore, starting with a letter)", key.Value, identifier)
		}
		if entry.Kind != yaml.MappingNode {
			return p.errf(entry, "test entry '%s' must be an object", key.Value)
		}
		for j := 0; j+1 < len(entry.Content); j += 2 {
			if f := entry.Content[j]; suiteFields[f.Value] {
				return p.errf(f, "field '%s' is a suite-level field and cannot appear under test '%s'", f.Value, key.Value)
			}
		}
		tc := &TestCase{Key: key.Value}
		var err error
		if tc.Description, _, err = p.optString(entry, "description"); err != nil {
			return err
		}
		_, produce := lookup(entry, "produce")
		if produce == nil {
			return p.errf(key, "test '%s' is missing required field 'produce'", key.Value)
		}
		if produce.Kind != yaml.SequenceNode {
			return p.errf(produce, "test '%s' field 'produce' must be an array", key.Value)
		}
		_, asserts := lookup(entry, "assert")
		if asserts == nil {
			return p.errf(key, "test '%s' is missing required field 'assert'", key.Value)
		}
		if asserts.Kind != yaml.SequenceNode {
			return p.errf(asserts, "test '%s' field 'assert' must be an array", key.Value)
		}
		for _, b := range produce.Content {
			pb, err := p.parseProduce(b, s, tc.Key)
			if err != nil {
				return err
			}
			tc.Produce = append(tc.Produce, pb)
		}
		for _, b := range asserts.Content {
			ab, err := p.parseAssert(b, s, tc.Key)
			if err != nil {
				return err
			}
			tc.Assert = append(tc.Assert, ab)
		}
		s.Tests = append(s.Tests, tc)
	}
	return nil
}

func (p *suiteParser) parseProduce(n *yaml.Node, s *Suite, test string) (*ProduceBlock, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "produce block in test '%s' must be an object", test)
	}
	for _, f := range []string{"topic", "keyType", "valueType"} {
		if k, _ := lookup(n, f); k != nil {
			return nil, p.errf(k, "produce block in test '%s' may not set '%s'; declare the stream under 'streams:' and reference it with 'to:'", test, f)
		}
	}
	to, ok, err := p.optString(n, "to")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.errf(n, "produce block in test '%s' is missing required field 'to'", test)
	}
	toKey, _ := lookup(n, "to")
	if s.Stream(to) == nil {
		return nil, p.errf(toKey, "produce block in test '%s' references stream '%s' that is not declared in 'streams:'", test, to)
	}
	pb := &ProduceBlock{To: to, Count: 1}
	_, msgs := lookup(n, "messages")
	_, gen := lookup(n, "generator")
	if msgs != nil && msgs.Kind != yaml.SequenceNode {
		return nil, p.errf(msgs, "'messages' must be a list")
	}
	hasMsgs := msgs != nil && msgs.Kind == yaml.SequenceNode
	hasGen := gen != nil && gen.Kind == yaml.MappingNode
	if !hasMsgs && !hasGen {
		return nil, p.errf(n, "produce block targeting stream '%s' must have either 'messages' or 'generator'", to)
	}
	if hasMsgs && hasGen {
		return nil, p.errf(n, "produce block targeting stream '%s' must have either 'messages' or 'generator', not both", to)
	}
	if hasMsgs {
		for _, m := range msgs.Content {
			if m.Kind != yaml.MappingNode {
				return nil, p.errf(m, "message must be an object with key, value and optional timestamp")
			}
			msg := &Message{}
			_, kn := lookup(m, "key")
			_, vn := lookup(m, "value")
			if msg.Key, err = p.plain(kn); err != nil {
				return nil, err
			}
			if msg.Value, err = p.plain(vn); err != nil {
				return nil, err
			}
			if _, tn := lookup(m, "timestamp"); !yamlspec.IsNull(tn) {
				ts, err := strconv.ParseInt(tn.Value, 10, 64)
				if err != nil || tn.Kind != yaml.ScalarNode {
					return nil, p.errf(tn, "timestamp must be epoch milliseconds, got %q", tn.Value)
				}
				msg.Timestamp, msg.HasTimestamp = ts, true
			}
			pb.Messages = append(pb.Messages, msg)
		}
	}
	if hasGen {
		g := &Generator{Name: "test_generator", Expression: "result", Line: gen.Line, Lines: map[string]int{}}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"name", &g.Name}, {"globalCode", &g.GlobalCode}, {"code", &g.Code}, {"expression", &g.Expression}} {
			_, v := lookup(gen, f.name)
			if yamlspec.IsNull(v) {
				continue
			}
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
				return nil, p.errf(v, "generator field '%s' must be a string, got: %s", f.name, yamlKind(v))
			}
			*f.dst = v.Value
			g.Lines[f.name] = codeLine(v)
		}
		pb.Generator = g
		if _, cn := lookup(n, "count"); !yamlspec.IsNull(cn) {
			c, err := strconv.ParseInt(cn.Value, 10, 64)
			if err != nil || c < 0 {
				return nil, p.errf(cn, "'count' must be a non-negative integer, got %q", cn.Value)
			}
			pb.Count = c
		}
	}
	return pb, nil
}

// codeLine is the line of the first line of a scalar's text: block scalars
// (| and >) start on the line after the indicator.
func codeLine(n *yaml.Node) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + 1
	}
	return n.Line
}

func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	}
	switch n.Tag {
	case "!!int":
		return "integer"
	case "!!float":
		return "float"
	case "!!bool":
		return "boolean"
	}
	return strings.TrimPrefix(n.Tag, "!!")
}

func (p *suiteParser) parseAssert(n *yaml.Node, s *Suite, test string) (*AssertBlock, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "assert block in test '%s' must be an object", test)
	}
	if k, _ := lookup(n, "topic"); k != nil {
		return nil, p.errf(k, "assert block in test '%s' may not set 'topic'; declare the stream under 'streams:' and reference it with 'on:'", test)
	}
	ab := &AssertBlock{}
	on, hasOn, err := p.optString(n, "on")
	if err != nil {
		return nil, err
	}
	if hasOn {
		onKey, _ := lookup(n, "on")
		if s.Stream(on) == nil {
			return nil, p.errf(onKey, "assert block in test '%s' references stream '%s' that is not declared in 'streams:'", test, on)
		}
		ab.On = on
	}
	if _, st := lookup(n, "stores"); !yamlspec.IsNull(st) {
		if st.Kind != yaml.SequenceNode {
			return nil, p.errf(st, "'stores' must be a list of store names")
		}
		for _, e := range st.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, p.errf(e, "store name must be a string")
			}
			ab.Stores = append(ab.Stores, e.Value)
		}
	}
	_, code := lookup(n, "code")
	if yamlspec.IsNull(code) {
		return nil, p.errf(n, "assert block in test '%s' is missing required field 'code'", test)
	}
	if code.Kind != yaml.ScalarNode {
		return nil, p.errf(code, "'code' must be a string")
	}
	ab.Code = code.Value
	ab.Line = codeLine(code)
	if !hasOn && len(ab.Stores) == 0 {
		return nil, p.errf(n, "assert block in test '%s' must have at least 'on' or non-empty 'stores'", test)
	}
	return ab, nil
}

// plain converts YAML data to data-model values, keeping map order.
// Aliases are followed, with a budget so alias bombs fail instead of
// exhausting memory.
func (p *suiteParser) plain(n *yaml.Node) (any, error) {
	budget := maxValueNodes
	return p.plainNode(n, 0, &budget)
}

const (
	maxValueNodes = 100000
	maxValueDepth = 200
)

func (p *suiteParser) plainNode(n *yaml.Node, depth int, budget *int) (any, error) {
	if yamlspec.IsNull(n) {
		return nil, nil
	}
	*budget--
	if *budget < 0 || depth > maxValueDepth {
		return nil, p.errf(n, "value is too large or too deeply nested")
	}
	switch n.Kind {
	case yaml.AliasNode:
		return p.plainNode(n.Alias, depth+1, budget)
	case yaml.MappingNode:
		st := types.NewStruct(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := p.plainNode(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			st.Set(n.Content[i].Value, v)
		}
		return st, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := p.plainNode(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.errf(n, "invalid value: %v", err)
	}
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return float64(x), nil
		}
		return int64(x), nil
	case []byte:
		return x, nil
	}
	return v, nil
}
