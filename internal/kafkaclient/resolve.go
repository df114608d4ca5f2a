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

// Resolver maps the names ksml gives a consumer group and a transactional
// producer to the names on the cluster, following Axual naming patterns
// such as "{tenant}-{instance}-{environment}-{group.id}": the placeholder
// {group.id} ({transactional.id}) is ksml's name, the other placeholders
// take their values from the Kafka properties (tenant: acme), as upstream's
// resolving clients do. Without patterns every name maps to itself; a nil
// *Resolver maps every name to itself.
//
// Topic names are not resolved: axual.topic.pattern is rejected (see
// resolver), so definitions name the cluster's topics in full.
type Resolver struct {
	group, txn *namePattern
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
	parts  []patternPart // literals and fields, in order
	field  string        // the placeholder for the name itself
	values map[string]string
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
	hasField := false
	for rest := pattern; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			np.parts = append(np.parts, patternPart{literal: rest})
			break
		}
		if open > 0 {
			np.parts = append(np.parts, patternPart{literal: rest[:open]})
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
		if name == field {
			hasField = true
		} else {
			v, ok := props[name]
			if !ok {
				return nil, fmt.Errorf("pattern %q uses {%s}, but no property %s is set", pattern, name, name)
			}
			np.values[name] = v
		}
		rest = rest[open+end+1:]
	}
	if !hasField {
		return nil, fmt.Errorf("pattern %q does not contain {%s}", pattern, field)
	}
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

// resolver reads the naming patterns; deprecated keys apply when the
// current key is not set. A topic pattern is an error: ksml's clients do
// not rename topics (upstream wraps every client to do so), and a pattern
// that silently did nothing would send records to other topics than the
// configuration names.
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
	if key, pattern, ok := get(TopicPatternKey); ok {
		m.errf(key, "topic name patterns are not supported (pattern %q): ksml does not rename topics; remove %s and name the cluster's topics in full in the definitions", pattern, key)
	}
	var r Resolver
	any := false
	for _, spec := range []struct {
		key, field string
		dst        **namePattern
	}{
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
