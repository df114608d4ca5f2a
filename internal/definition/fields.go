package definition

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// obj is a mapping node checked against an objSpec: unknown keys and missing
// required fields are reported when it is created, and the typed accessors
// report values of the wrong shape. Accessors return zero values after
// reporting, so parsing continues and every problem of a file is found.
type obj struct {
	p    *parser
	n    *yaml.Node
	spec *yamlspec.Spec
	what string // "stream \"s\"", used in messages
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

// object checks n against spec. extra lists keys accepted besides the
// spec's. It returns nil (after reporting) when n is not a mapping.
func (p *parser) object(n *yaml.Node, spec *yamlspec.Spec, what string, extra ...string) *obj {
	return p.objectRenamed(n, spec, what, nil, extra...)
}

// objectRenamed is object for dialects that spell some keys differently:
// rename maps a written key to the spec's key.
func (p *parser) objectRenamed(n *yaml.Node, spec *yamlspec.Spec, what string, rename map[string]string, extra ...string) *obj {
	n = yamlspec.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.d.Add(p.pos(n), "%s must be a mapping, not %s", what, yamlspec.KindName(n))
		return nil
	}
	o := &obj{p: p, n: n, spec: spec, what: what, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	allowed := append(spec.Names(), extra...)
	for _, e := range yamlspec.Pairs(n) {
		k := e.Key.Value
		if r, ok := rename[k]; ok {
			k = r
		}
		if _, dup := o.vals[k]; dup {
			continue // reported by checkDuplicates
		}
		if !contains(allowed, k) {
			p.d.Add(p.pos(e.Key), "unknown key %q in %s%s", k, what, didYouMean(k, allowed))
			continue
		}
		o.vals[k] = e.Value
		o.keys[k] = e.Key
	}
	for _, f := range spec.Fields {
		if f.Required {
			if _, ok := o.vals[f.Name]; !ok {
				p.d.Add(p.pos(n), "%s is missing required field %q", what, f.Name)
			}
		}
	}
	return o
}

func (o *obj) has(name string) bool {
	v, ok := o.vals[name]
	return ok && !yamlspec.IsNull(v)
}

func (o *obj) node(name string) *yaml.Node { return yamlspec.Deref(o.vals[name]) }

// keyPos is the position of a field's key, or of the object when absent.
func (o *obj) keyPos(name string) Pos {
	if k, ok := o.keys[name]; ok {
		return o.p.pos(k)
	}
	return o.p.pos(o.n)
}

func (o *obj) scalar(name, want string) (*yaml.Node, bool) {
	n := o.node(name)
	if n == nil || yamlspec.IsNull(n) {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		o.p.d.Add(o.p.pos(n), "%s in %s must be %s, not %s", name, o.what, want, yamlspec.KindName(n))
		return nil, false
	}
	return n, true
}

func (o *obj) str(name string) string {
	n, ok := o.scalar(name, "a string")
	if !ok {
		return ""
	}
	return n.Value
}

func (o *obj) boolean(name string) bool {
	n, ok := o.scalar(name, "true or false")
	if !ok {
		return false
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	o.p.d.Add(o.p.pos(n), "%s in %s must be true or false, not %q", name, o.what, n.Value)
	return false
}

func (o *obj) integer(name string, min int64) (int64, bool) {
	n, ok := o.scalar(name, "an integer")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	if err != nil {
		o.p.d.Add(o.p.pos(n), "%s in %s must be an integer, not %q", name, o.what, n.Value)
		return 0, false
	}
	if v < min {
		o.p.d.Add(o.p.pos(n), "%s in %s must be at least %d, not %d", name, o.what, min, v)
		return 0, false
	}
	return v, true
}

func (o *obj) duration(name string) time.Duration {
	n, ok := o.scalar(name, "a duration")
	if !ok {
		return 0
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		o.p.d.Add(o.p.pos(n), "%s in %s: %v", name, o.what, err)
		return 0
	}
	return d
}

func (o *obj) typ(name string) TypeRef {
	n, ok := o.scalar(name, "a type string")
	if !ok {
		return TypeRef{}
	}
	t := TypeRef{Text: n.Value, Pos: o.p.codePos(n)}
	o.p.checkType(t, name)
	return t
}

// code reads Python source. Like upstream, a YAML boolean becomes True or
// False, and a list (an expression whose brackets YAML took for a list) is
// rebuilt as "[a,b]".
func (o *obj) code(name string) *Code {
	n := o.node(name)
	if n != nil && n.Kind == yaml.SequenceNode {
		var parts []string
		for _, c := range n.Content {
			c = yamlspec.Deref(c)
			if c.Kind != yaml.ScalarNode {
				o.p.d.Add(o.p.pos(c), "%s in %s must be Python code, not a nested %s", name, o.what, yamlspec.KindName(c))
				return nil
			}
			parts = append(parts, c.Value)
		}
		return &Code{Text: "[" + strings.Join(parts, ",") + "]", Pos: o.p.pos(n)}
	}
	n, ok := o.scalar(name, "Python code")
	if !ok {
		return nil
	}
	text := n.Value
	if n.Tag == "!!bool" {
		switch strings.ToLower(text) {
		case "true":
			text = "True"
		case "false":
			text = "False"
		}
	}
	return &Code{Text: text, Pos: o.p.codePos(n)}
}

func (o *obj) strings(name string) ([]string, []Pos) {
	n := o.node(name)
	if n == nil || yamlspec.IsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		o.p.d.Add(o.p.pos(n), "%s in %s must be a list of names, not %s", name, o.what, yamlspec.KindName(n))
		return nil, nil
	}
	var out []string
	var pos []Pos
	for _, c := range n.Content {
		c = yamlspec.Deref(c)
		if c.Kind != yaml.ScalarNode {
			o.p.d.Add(o.p.pos(c), "%s in %s must be a list of names; found %s", name, o.what, yamlspec.KindName(c))
			continue
		}
		out = append(out, c.Value)
		pos = append(pos, o.p.pos(c))
	}
	return out, pos
}

func (o *obj) enum(name string) string {
	n, ok := o.scalar(name, "a string")
	if !ok {
		return ""
	}
	f := o.spec.Field(name)
	if f != nil && len(f.Enum) > 0 && !contains(f.Enum, n.Value) {
		o.p.d.Add(o.p.pos(n), "%s in %s must be one of %s, not %q%s", name, o.what, strings.Join(f.Enum, ", "), n.Value, didYouMean(n.Value, f.Enum))
		return ""
	}
	return n.Value
}

// ParseDuration reads a KSML duration: an integer (milliseconds) or
// "<n><unit>" with unit ms, s, m, h, d or w, case-insensitive, surrounding
// whitespace ignored. The number may carry a sign, as upstream allows.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	unit := time.Millisecond
	num := t
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			unit, num = u.d, strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			break
		}
	}
	// Like Java's Long.parseLong, an explicit sign is allowed; a negative
	// grace means "no grace" upstream.
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || num == "" {
		return 0, &durationError{s}
	}
	if v > int64(1<<62)/int64(unit) || v < -int64(1<<62)/int64(unit) {
		return 0, &durationError{s}
	}
	return time.Duration(v) * unit, nil
}

type durationError struct{ s string }

func (e *durationError) Error() string {
	return "invalid duration " + strconv.Quote(e.s) + " (use a number of milliseconds or <n>ms, s, m, h, d or w, e.g. 5m)"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// didYouMean suggests the closest candidate to a misspelled word.
// Candidates are compared in sorted order, so ties resolve the same way on
// every run.
func didYouMean(word string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestD := "", 1<<30
	for _, c := range sorted {
		d := yamlspec.EditDistance(strings.ToLower(word), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(word) / 3
	if limit < 2 {
		limit = 2
	}
	if best != "" && bestD <= limit && bestD < len(word) {
		return "; did you mean \"" + best + "\"?"
	}
	return ""
}
