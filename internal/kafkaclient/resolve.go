package kafkaclient

import (
	"fmt"
	"regexp"
	"strings"
)

// The Axual naming pattern properties, and the deprecated spellings
// upstream still accepts.
const (
	TopicPatternKey           = "axual.topic.pattern"
	GroupIDPatternKey         = "axual.group.id.pattern"
	TransactionalIDPatternKey = "axual.transactional.id.pattern"
)

var deprecatedPatternKeys = map[string]string{
	"topic.pattern":            TopicPatternKey,
	"group.id.pattern":         GroupIDPatternKey,
	"transactional.id.pattern": TransactionalIDPatternKey,
}

// Resolver maps the names a definition uses to the names on the cluster,
// following Axual naming patterns such as
// "{tenant}-{instance}-{environment}-{topic}": the placeholder {topic}
// ({group.id}, {transactional.id}) is the name from the definition, the
// other placeholders take their values from the Kafka properties (tenant:
// acme). Without patterns every name maps to itself. Topics starting with
// "_" (broker internal topics) are never rewritten. A nil *Resolver maps
// every name to itself.
type Resolver struct {
	topic, group, txn *namePattern
}

// Topic returns the cluster name of a topic.
func (r *Resolver) Topic(name string) string {
	if r == nil || r.topic == nil || strings.HasPrefix(name, "_") {
		return name
	}
	return r.topic.resolve(name)
}

// UnresolveTopic returns the definition's name of a cluster topic, and
// false if the topic does not match the pattern (it belongs to another
// tenant or environment).
func (r *Resolver) UnresolveTopic(name string) (string, bool) {
	if r == nil || r.topic == nil || strings.HasPrefix(name, "_") {
		return name, true
	}
	return r.topic.unresolve(name)
}

// GroupID returns the cluster name of a consumer group.
func (r *Resolver) GroupID(id string) string {
	if r == nil || r.group == nil {
		return id
	}
	return r.group.resolve(id)
}

// TransactionalID returns the cluster name of a transactional id.
func (r *Resolver) TransactionalID(id string) string {
	if r == nil || r.txn == nil {
		return id
	}
	return r.txn.resolve(id)
}

// namePattern is one parsed pattern.
type namePattern struct {
	parts    []patternPart // literals and fields, in order
	field    string        // the placeholder for the name itself
	values   map[string]string
	unres    *regexp.Regexp
	unresIdx int // capture group of field in unres
}

type patternPart struct {
	literal string
	field   string // set for {field}
}

var fieldNameRe = regexp.MustCompile(`^[a-zA-Z0-9_.]+$`)

// parseNamePattern parses pattern; field is the name placeholder, which it
// must contain; every other placeholder must be a property.
func parseNamePattern(pattern, field string, props map[string]string) (*namePattern, error) {
	if strings.TrimSpace(pattern) == "" {
		return nil, fmt.Errorf("the pattern is empty")
	}
	np := &namePattern{field: field, values: map[string]string{}}
	var re strings.Builder
	re.WriteString("^")
	group := 0
	hasField := false
	for rest := pattern; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			np.parts = append(np.parts, patternPart{literal: rest})
			re.WriteString(regexp.QuoteMeta(rest))
			break
		}
		if open > 0 {
			np.parts = append(np.parts, patternPart{literal: rest[:open]})
			re.WriteString(regexp.QuoteMeta(rest[:open]))
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("pattern %q has an unclosed {", pattern)
		}
		name := rest[open+1 : open+end]
		if !fieldNameRe.MatchString(name) {
			return nil, fmt.Errorf("pattern %q has an invalid placeholder {%s}", pattern, name)
		}
		np.parts = append(np.parts, patternPart{field: name})
		group++
		if name == field {
			hasField = true
			np.unresIdx = group
			re.WriteString(`([a-zA-Z0-9_.\-]+)`)
		} else {
			v, ok := props[name]
			if !ok {
				return nil, fmt.Errorf("pattern %q uses {%s}, but no property %s is set", pattern, name, name)
			}
			np.values[name] = v
			re.WriteString(`([a-zA-Z0-9_.]+)`)
		}
		rest = rest[open+end+1:]
	}
	if !hasField {
		return nil, fmt.Errorf("pattern %q does not contain {%s}", pattern, field)
	}
	re.WriteString("$")
	np.unres = regexp.MustCompile(re.String())
	return np, nil
}

func (p *namePattern) resolve(name string) string {
	var b strings.Builder
	for _, part := range p.parts {
		switch {
		case part.field == p.field:
			b.WriteString(name)
		case part.field != "":
			b.WriteString(p.values[part.field])
		default:
			b.WriteString(part.literal)
		}
	}
	return b.String()
}

func (p *namePattern) unresolve(name string) (string, bool) {
	m := p.unres.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	// The other placeholders must carry this configuration's values.
	i := 0
	for _, part := range p.parts {
		if part.field == "" {
			continue
		}
		i++
		if part.field != p.field && m[i] != p.values[part.field] {
			return "", false
		}
	}
	return m[p.unresIdx], true
}

// resolver reads the naming patterns; deprecated keys apply when the
// current key is not set.
func (m *mapper) resolver() {
	get := func(key string) (string, string, bool) {
		if v, ok := m.get(key); ok {
			return key, v, true
		}
		for old, cur := range deprecatedPatternKeys {
			if cur == key {
				if v, ok := m.get(old); ok {
					return old, v, true
				}
			}
		}
		return "", "", false
	}
	var r Resolver
	any := false
	for _, spec := range []struct {
		key, field string
		dst        **namePattern
	}{
		{TopicPatternKey, "topic", &r.topic},
		{GroupIDPatternKey, "group.id", &r.group},
		{TransactionalIDPatternKey, "transactional.id", &r.txn},
	} {
		key, pattern, ok := get(spec.key)
		if !ok {
			continue
		}
		np, err := parseNamePattern(pattern, spec.field, m.props)
		if err != nil {
			m.errf(key, "%v", err)
			continue
		}
		for name := range np.values {
			m.used[name] = true
		}
		*spec.dst = np
		any = true
	}
	if any {
		m.cfg.Resolver = &r
	}
}
