package python

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/sharedtest"
	"github.com/ksml-dev/ksml/internal/types"
)

const seedPath = "../../../shared/seed/000_debca998e81e9b39.txt"

// seedBlock is a code or expression block of the seed document with the
// document line its text starts on.
type seedBlock struct {
	Key  string // "code" or "expression"
	Text string
	Line int
}

// seedBlocks extracts every code and expression block from the YAML
// examples of the seed document.
func seedBlocks(t *testing.T) []seedBlock {
	t.Helper()
	f, err := os.Open(seedPath)
	if err != nil {
		sharedtest.Missing(t, seedPath)
	}
	defer f.Close()
	var blocks []seedBlock
	var yamlText []string
	start, inYAML, lineNo := 0, false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case !inYAML && strings.HasPrefix(line, "```yaml"):
			inYAML, start, yamlText = true, lineNo+1, nil
		case inYAML && strings.HasPrefix(line, "```"):
			inYAML = false
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(strings.Join(yamlText, "\n")), &doc); err != nil {
				t.Fatalf("seed YAML at line %d: %v", start, err)
			}
			collect(&doc, start-1, &blocks)
		case inYAML:
			yamlText = append(yamlText, line)
		}
	}
	return blocks
}

func collect(n *yaml.Node, offset int, out *[]seedBlock) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if (k.Value == "code" || k.Value == "expression") && v.Kind == yaml.ScalarNode {
				line := v.Line
				if v.Style == yaml.LiteralStyle || v.Style == yaml.FoldedStyle {
					line++ // block scalar text starts below the indicator
				}
				*out = append(*out, seedBlock{Key: k.Value, Text: v.Value, Line: line + offset})
			}
		}
	}
	for _, c := range n.Content {
		collect(c, offset, out)
	}
}

func TestSeedDocumentCodeBlocks(t *testing.T) {
	blocks := seedBlocks(t)
	if len(blocks) != 9 {
		t.Fatalf("found %d code blocks in the seed, want 9", len(blocks))
	}
	env := setup(t, Options{})
	m, err := env.in.NewModule("seed", filepath.Base(seedPath), map[string]any{"service.discovery.url": "http://service-registry:8500"})
	if err != nil {
		t.Fatal(err)
	}
	user := rawJSON(`{"eventType": "USER_CREATED", "entityId": "e1", "data": {"username": "ann", "email": "ann@example.com"}}`)
	cdc := rawJSON(`{"op": "u", "after": {"id": 7, "name": "Bo"}}`)
	cases := []struct {
		line  int
		typ   string
		value any
		want  string // with the timestamp replaced by TS
	}{
		{28, "valueTransformer", structOf("orderId", "o1", "customerId", "c1"), `{orderId: "o1", customerId: "c1", processingTimestamp: TS}`},
		{57, "predicate", user, "true"},
		{60, "predicate", user, "false"},
		{63, "predicate", rawJSON(`{"eventType": "PAYMENT_DONE"}`), "true"},
		{89, "valueTransformer", user, `{id: "e1", timestamp: TS, type: "USER_CREATED", username: "ann", email: "ann@example.com"}`},
		{138, "valueTransformer", structOf("a", int64(1)), `{error: true, originalMessage: {a: 1}, errorMessage: "name 'transformed_value' is not defined", timestamp: TS}`},
		{180, "valueTransformer", rawJSON(`{"path": "/x", "method": "GET", "body": null, "requestId": "r1"}`), `{eventType: "API_REQUEST", path: "/x", method: "GET", payload: None, requestId: "r1", timestamp: TS}`},
		{209, "predicate", cdc, "true"},
		{213, "valueTransformer", cdc, `{eventType: "CUSTOMER_UPDATED", customerId: 7, customerData: {id: 7, name: "Bo"}, timestamp: TS}`},
	}
	for i, b := range blocks {
		c := cases[i]
		if b.Line != c.line {
			t.Errorf("block %d starts at line %d, want %d", i, b.Line, c.line)
		}
		spec := FunctionSpec{Name: "block" + itoa(i), Type: c.typ}
		s := Source{Text: b.Text, File: filepath.Base(seedPath), Line: b.Line}
		if b.Key == "code" {
			spec.Code = s
		} else {
			spec.Expression = s
		}
		if se := CheckSyntax(b.Text, map[string]CodeKind{"code": FunctionBody, "expression": Expression}[b.Key]); se != nil {
			t.Errorf("block %d: CheckSyntax: %v", i, se)
		}
		f := define(t, m, spec)
		before := time.Now().UnixMilli()
		got := call(t, f, nil, "key", c.value)
		after := time.Now().UnixMilli()
		if s, ok := got.(*types.Struct); ok {
			if ts, ok := s.Get("timestamp"); ok {
				checkTS(t, i, ts, before, after)
				s.Set("timestamp", "TS")
			}
			if ts, ok := s.Get("processingTimestamp"); ok {
				checkTS(t, i, ts, before, after)
				s.Set("processingTimestamp", "TS")
			}
		}
		if g := strings.ReplaceAll(show(got), `"TS"`, "TS"); g != c.want {
			t.Errorf("block %d (line %d): got %s, want %s", i, b.Line, g, c.want)
		}
	}
}

func checkTS(t *testing.T, i int, ts any, before, after int64) {
	t.Helper()
	n, ok := ts.(int64)
	if !ok || n < before || n > after {
		t.Errorf("block %d: timestamp %v not within [%d, %d]", i, ts, before, after)
	}
}
