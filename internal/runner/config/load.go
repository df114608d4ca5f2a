package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/definition"
)

// Options tune Load and Parse.
type Options struct {
	// LookupEnv reads environment variables for ${NAME} substitution; nil
	// means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DefinitionsOptional accepts a configuration without
	// ksml.definitions, for callers that take definitions from elsewhere
	// (command-line arguments).
	DefinitionsOptional bool
}

// Load reads and parses the runner configuration at path. The error is
// Errors (every problem, with positions) or a file-system error.
func Load(path string, opts Options) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("runner configuration: %w", err)
	}
	return Parse(path, src, opts)
}

// Parse parses a runner configuration; file names it in positions. The
// error, if any, is Errors.
func Parse(file string, src []byte, opts Options) (*Config, error) {
	d := &decoder{file: file, lookup: opts.LookupEnv, cfg: Default()}
	if d.lookup == nil {
		d.lookup = os.LookupEnv
	}
	d.cfg.File = file
	root := d.parseYAML(src)
	if root != nil {
		d.checkDuplicates(root, 0)
		d.top(root, opts)
	} else if len(d.errs.list) == 0 {
		d.errs.add(Pos{File: file}, "the runner configuration is empty; it needs a ksml and a kafka section")
	}
	if len(d.errs.list) > 0 {
		sortDiagnostics(d.errs.list)
		return nil, Errors(d.errs.list)
	}
	sortDiagnostics(d.warns.list)
	d.cfg.Warnings = d.warns.list
	return d.cfg, nil
}

// decoder walks the YAML node tree, filling cfg and collecting problems.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	cfg    *Config
	errs   diagList
	warns  diagList
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) parseYAML(src []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		msg, line := err.Error(), 1
		for _, part := range strings.Split(msg, "\n") {
			part = strings.TrimSpace(part)
			if m := yamlLineRe.FindStringSubmatch(part); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
				break
			}
			msg = strings.TrimPrefix(part, "yaml: ")
		}
		d.errs.add(Pos{File: d.file, Line: line, Col: 1}, "YAML syntax error: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return nil
	}
	return root
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// deref follows alias nodes.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// checkDuplicates reports every key written twice in one mapping, anywhere
// in the file, inline definitions included.
func (d *decoder) checkDuplicates(n *yaml.Node, depth int) {
	if n == nil || depth > 200 {
		return
	}
	if n.Kind == yaml.MappingNode {
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || isMergeKey(k) {
				continue
			}
			if prev, ok := first[k.Value]; ok {
				d.errs.add(d.pos(k), "duplicate key %q (first defined at line %d)", k.Value, prev.Line)
				continue
			}
			first[k.Value] = k
		}
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, c := range n.Content {
		d.checkDuplicates(c, depth+1)
	}
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge"
}

type pair struct{ key, value *yaml.Node }

// pairs lists the entries of mapping n, expanding << merge keys (explicit
// entries win over merged ones).
func pairs(n *yaml.Node, depth int) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 20 {
		return nil
	}
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			src := deref(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					merged = append(merged, pairs(s, depth+1)...)
				}
			} else {
				merged = append(merged, pairs(src, depth+1)...)
			}
			continue
		}
		own = append(own, pair{k, v})
	}
	seen := map[string]bool{}
	for _, p := range own {
		seen[p.key.Value] = true
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			own = append(own, p)
		}
	}
	return own
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	n = deref(n)
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// mapping returns the entries of a mapping value; a null value yields no
// entries (the key is treated as absent); anything else is an error.
func (d *decoder) mapping(n *yaml.Node, path string) ([]pair, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errs.add(d.pos(n), "%s must be a mapping, not %s", path, kindName(n))
		return nil, false
	}
	return pairs(n, 0), true
}

// field describes one known key of a mapping.
type field struct {
	name string
	set  func(key, value *yaml.Node, path string)
}

// fields decodes a mapping with a fixed set of keys; unknown keys are
// errors with a suggestion. It returns the keys present.
func (d *decoder) fields(n *yaml.Node, path string, known []field) map[string]*yaml.Node {
	ps, _ := d.mapping(n, path)
	present := map[string]*yaml.Node{}
	names := make([]string, len(known))
	for i, f := range known {
		names[i] = f.name
	}
	for _, p := range ps {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode {
			d.errs.add(d.pos(k), "%s: keys must be names, not %s", path, kindName(k))
			continue
		}
		var f *field
		for i := range known {
			if known[i].name == k.Value {
				f = &known[i]
				break
			}
		}
		if f == nil {
			d.unknownKey(k, path, names)
			continue
		}
		present[k.Value] = k
		d.record(joinPath(path, k.Value), p.value)
		f.set(k, p.value, joinPath(path, k.Value))
	}
	return present
}

func (d *decoder) unknownKey(k *yaml.Node, path string, names []string) {
	where := "in " + path
	if path == "" {
		where = "at the top level"
	}
	if s := suggest(k.Value, names); s != "" {
		d.errs.add(d.pos(k), "unknown key %q %s (did you mean %q?)", k.Value, where, s)
		return
	}
	d.errs.add(d.pos(k), "unknown key %q %s (known keys: %s)", k.Value, where, strings.Join(names, ", "))
}

// record remembers where the value at a dotted path is written, for
// KSML.Pos and Kafka.Pos.
func (d *decoder) record(path string, v *yaml.Node) {
	p := d.pos(deref(v))
	if rest, ok := strings.CutPrefix(path, "ksml."); ok {
		d.cfg.KSML.pos[rest] = p
	} else if rest, ok := strings.CutPrefix(path, "kafka."); ok {
		d.cfg.Kafka.pos[rest] = p
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// text returns a scalar's value with environment variables substituted.
// ok is false (and an error recorded) for non-scalars and failed
// substitutions; null yields "", ok with null true.
func (d *decoder) text(n *yaml.Node, path string) (s string, null, ok bool) {
	n = deref(n)
	if isNull(n) {
		return "", true, true
	}
	if n.Kind != yaml.ScalarNode {
		d.errs.add(d.pos(n), "%s must be a single value, not %s", path, kindName(n))
		return "", false, false
	}
	v, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.errs.add(d.pos(n), "%s: %v", path, err)
		return "", false, false
	}
	return v, false, true
}

// str decodes an optional string; null leaves *dst unchanged (the default
// applies, as upstream). nonBlank rejects empty and whitespace-only values.
func (d *decoder) str(n *yaml.Node, path string, dst *string, nonBlank bool) {
	s, null, ok := d.text(n, path)
	if !ok || null {
		return
	}
	if nonBlank && strings.TrimSpace(s) == "" {
		d.errs.add(d.pos(deref(n)), "%s must not be empty", path)
		return
	}
	*dst = s
}

// boolean decodes true/false (any case, quoted or not, as Jackson does).
func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	s, null, ok := d.text(n, path)
	if !ok || null {
		return
	}
	switch strings.ToLower(s) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.errs.add(d.pos(deref(n)), "%s must be true or false, not %q", path, s)
	}
}

// port decodes an integer in 1..65535.
func (d *decoder) port(n *yaml.Node, path string, dst *int) {
	s, null, ok := d.text(n, path)
	if !ok || null {
		return
	}
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		d.errs.add(d.pos(deref(n)), "%s must be a port number, not %q", path, s)
		return
	}
	if p < 1 || p > 65535 {
		d.errs.add(d.pos(deref(n)), "%s must be between 1 and 65535, not %d", path, p)
		return
	}
	*dst = p
}

// stringMap decodes a mapping of names to scalar values (strings, numbers,
// booleans, kept as written).
func (d *decoder) stringMap(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	ps, _ := d.mapping(n, path)
	for _, p := range ps {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode {
			d.errs.add(d.pos(k), "%s: keys must be names, not %s", path, kindName(k))
			continue
		}
		v := deref(p.value)
		kp := path + "." + k.Value
		if isNull(v) {
			d.errs.add(d.pos(k), "%s has no value; give one or remove the key", kp)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			d.errs.add(d.pos(v), "%s must be a string, number or boolean, not %s", kp, kindName(v))
			continue
		}
		s, _, ok := d.text(v, kp)
		if !ok {
			continue
		}
		out[k.Value] = s
		d.record(kp, v)
	}
	return out
}

// top decodes the document root.
func (d *decoder) top(root *yaml.Node, opts Options) {
	var ksmlKey, kafkaKey bool
	if root.Kind != yaml.MappingNode {
		d.errs.add(d.pos(root), "the runner configuration must be a mapping with ksml and kafka sections, not %s", kindName(root))
		return
	}
	present := d.fields(root, "", []field{
		{"ksml", func(k, v *yaml.Node, path string) { ksmlKey = true; d.ksml(k, v, opts) }},
		{"kafka", func(k, v *yaml.Node, path string) { kafkaKey = true; d.kafka(k, v) }},
	})
	_ = present
	if !ksmlKey {
		d.errs.add(d.pos(root), "missing required section ksml")
	}
	if !kafkaKey {
		d.errs.add(d.pos(root), "missing required section kafka")
	}
}

func (d *decoder) ksml(key, n *yaml.Node, opts Options) {
	k := &d.cfg.KSML
	var defsSeen bool
	d.fields(n, "ksml", []field{
		{"configDirectory", func(_, v *yaml.Node, p string) { d.str(v, p, &k.ConfigDirectory, true) }},
		{"schemaDirectory", func(_, v *yaml.Node, p string) { d.str(v, p, &k.SchemaDirectory, true) }},
		{"storageDirectory", func(_, v *yaml.Node, p string) { d.str(v, p, &k.StorageDirectory, true) }},
		{"createStorageDirectory", func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.CreateStorageDirectory) }},
		{"enableProducers", func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.EnableProducers) }},
		{"enablePipelines", func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.EnablePipelines) }},
		{"definitions", func(dk, v *yaml.Node, p string) { defsSeen = true; d.definitions(dk, v, p, opts) }},
		{"errorHandling", func(_, v *yaml.Node, p string) { d.errorHandling(v, p) }},
		{"prometheus", func(_, v *yaml.Node, p string) { d.prometheus(v, p) }},
		{"applicationServer", func(_, v *yaml.Node, p string) { d.applicationServer(v, p) }},
		{"pythonContext", func(_, v *yaml.Node, p string) { d.pythonContext(v, p) }},
		{"notations", func(_, v *yaml.Node, p string) { d.notations(v, p) }},
		{"schemaRegistries", func(_, v *yaml.Node, p string) { d.schemaRegistries(v, p) }},
		{"properties", func(_, v *yaml.Node, p string) { k.Properties = d.stringMap(v, p) }},
	})
	if isNull(deref(n)) || deref(n).Kind == yaml.MappingNode {
		if !defsSeen && !opts.DefinitionsOptional {
			d.errs.add(d.pos(key), "ksml.definitions is required: name at least one definition, as <namespace>: <file>")
		}
	}
	d.checkRegistryRefs()
}

func (d *decoder) definitions(key, n *yaml.Node, path string, opts Options) {
	ps, ok := d.mapping(n, path)
	if !ok {
		return
	}
	for _, p := range ps {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.add(d.pos(k), "%s: a namespace must be a non-empty name", path)
			continue
		}
		def := Definition{Namespace: k.Value, Pos: d.pos(k)}
		v := deref(p.value)
		kp := path + "." + k.Value
		switch {
		case isNull(v):
			d.warns.add(d.pos(k), "%s has no definition file or inline definition; it is skipped", kp)
			continue
		case v.Kind == yaml.MappingNode:
			def.Inline = v
		case v.Kind == yaml.ScalarNode:
			d.str(v, kp, &def.File, true)
			if def.File == "" {
				continue
			}
		default:
			d.errs.add(d.pos(v), "%s must be a definition file name or an inline definition (a mapping), not %s", kp, kindName(v))
			continue
		}
		d.cfg.KSML.Definitions = append(d.cfg.KSML.Definitions, def)
	}
	if len(d.cfg.KSML.Definitions) == 0 && !opts.DefinitionsOptional && len(ps) == 0 {
		d.errs.add(d.pos(key), "%s is empty: name at least one definition, as <namespace>: <file>", path)
	}
}

func (d *decoder) errorHandling(n *yaml.Node, path string) {
	eh := &d.cfg.KSML.ErrorHandling
	d.fields(n, path, []field{
		{"consume", func(_, v *yaml.Node, p string) { d.errorHandler(v, p, &eh.Consume, false) }},
		{"process", func(_, v *yaml.Node, p string) { d.errorHandler(v, p, &eh.Process, false) }},
		{"produce", func(_, v *yaml.Node, p string) { d.errorHandler(v, p, &eh.Produce, true) }},
	})
}

func (d *decoder) errorHandler(n *yaml.Node, path string, h *ErrorHandler, retry bool) {
	d.fields(n, path, []field{
		{"log", func(_, v *yaml.Node, p string) { d.boolean(v, p, &h.Log) }},
		{"logPayload", func(_, v *yaml.Node, p string) { d.boolean(v, p, &h.LogPayload) }},
		{"loggerName", func(_, v *yaml.Node, p string) { d.str(v, p, &h.LoggerName, true) }},
		{"handler", func(_, v *yaml.Node, p string) {
			s, null, ok := d.text(v, p)
			if !ok || null {
				return
			}
			switch Handler(s) {
			case StopOnFail, ContinueOnFail:
				h.Handler = Handler(s)
			case RetryOnFail:
				if !retry {
					d.errs.add(d.pos(deref(v)), "%s: retryOnFail is only supported for produce errors; use stopOnFail or continueOnFail", p)
					return
				}
				h.Handler = RetryOnFail
			default:
				valid := []string{string(StopOnFail), string(ContinueOnFail), string(RetryOnFail)}
				if hint := suggest(s, valid); hint != "" {
					d.errs.add(d.pos(deref(v)), "%s: unknown handler %q (did you mean %q?)", p, s, hint)
				} else {
					d.errs.add(d.pos(deref(v)), "%s: unknown handler %q (valid: %s)", p, s, strings.Join(valid, ", "))
				}
			}
		}},
		{"deadLetterTopic", func(_, v *yaml.Node, p string) {
			d.str(v, p, &h.DeadLetterTopic, true)
			if msg := topicNameProblem(h.DeadLetterTopic); msg != "" {
				d.errs.add(d.pos(deref(v)), "%s: %s", p, msg)
				h.DeadLetterTopic = ""
			}
		}},
	})
}

func (d *decoder) prometheus(n *yaml.Node, path string) {
	pr := &d.cfg.KSML.Prometheus
	d.fields(n, path, []field{
		{"enabled", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pr.Enabled) }},
		{"host", func(_, v *yaml.Node, p string) { d.str(v, p, &pr.Host, true) }},
		{"port", func(_, v *yaml.Node, p string) { d.port(v, p, &pr.Port) }},
		{"configFile", func(_, v *yaml.Node, p string) {
			d.str(v, p, &pr.ConfigFile, false)
			if pr.ConfigFile != "" {
				d.warns.add(d.pos(deref(v)), "%s is a JMX exporter rule file, which ksml does not use: its metrics have upstream's names already", p)
			}
		}},
	})
}

func (d *decoder) applicationServer(n *yaml.Node, path string) {
	as := &d.cfg.KSML.ApplicationServer
	d.fields(n, path, []field{
		{"enabled", func(_, v *yaml.Node, p string) { d.boolean(v, p, &as.Enabled) }},
		{"host", func(_, v *yaml.Node, p string) { d.str(v, p, &as.Host, true) }},
		{"port", func(_, v *yaml.Node, p string) { d.port(v, p, &as.Port) }},
	})
}

func (d *decoder) pythonContext(n *yaml.Node, path string) {
	pc := &d.cfg.KSML.PythonContext
	d.fields(n, path, []field{
		{"allowHostFileAccess", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowHostFileAccess) }},
		{"allowHostSocketAccess", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowHostSocketAccess) }},
		{"allowNativeAccess", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowNativeAccess) }},
		{"allowCreateProcess", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowCreateProcess) }},
		{"allowCreateThread", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowCreateThread) }},
		{"inheritEnvironmentVariables", func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.InheritEnvironmentVariables) }},
		{"modulePath", func(_, v *yaml.Node, p string) { d.str(v, p, &pc.ModulePath, false) }},
		{"venv", func(_, v *yaml.Node, p string) { d.str(v, p, &pc.Venv, false) }},
		{"functionTimeout", func(_, v *yaml.Node, p string) { d.functionTimeout(v, p, pc) }},
	})
}

// functionTimeout decodes a KSML duration (an integer is milliseconds);
// 0 turns the timeout off, as does "off".
func (d *decoder) functionTimeout(n *yaml.Node, path string, pc *PythonContext) {
	s, null, ok := d.text(n, path)
	if !ok || null {
		return
	}
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		pc.FunctionTimeout = -1
		return
	}
	v, err := definition.ParseDuration(s)
	if err != nil || v < 0 {
		d.errs.add(d.pos(deref(n)), "%s must be a duration such as 10s or 500ms, 0 or off (no timeout), not %q", path, s)
		return
	}
	if v == 0 {
		v = -1
	}
	pc.FunctionTimeout = v
}

func (d *decoder) notations(n *yaml.Node, path string) {
	ps, _ := d.mapping(n, path)
	for _, p := range ps {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.add(d.pos(k), "%s: a notation name must be a non-empty name", path)
			continue
		}
		kp := path + "." + k.Value
		nt := Notation{Name: k.Value, Pos: d.pos(k), Config: map[string]string{}}
		v := deref(p.value)
		if isNull(v) {
			d.errs.add(d.pos(k), "%s needs a type (one of %s)", kp, notationTypeList())
			continue
		}
		present := d.fields(v, kp, []field{
			{"type", func(_, tv *yaml.Node, tp string) {
				s, null, ok := d.text(tv, tp)
				if !ok {
					return
				}
				if null {
					d.errs.add(d.pos(deref(tv)), "%s must be one of %s", tp, notationTypeList())
					return
				}
				for _, t := range notationTypes {
					if string(t) == s {
						nt.Type = t
						return
					}
				}
				names := make([]string, len(notationTypes))
				for i, t := range notationTypes {
					names[i] = string(t)
				}
				if hint := suggest(s, names); hint != "" {
					d.errs.add(d.pos(deref(tv)), "%s: unknown notation type %q (did you mean %q?)", tp, s, hint)
				} else {
					d.errs.add(d.pos(deref(tv)), "%s: unknown notation type %q (valid: %s)", tp, s, notationTypeList())
				}
			}},
			{"schemaRegistry", func(_, sv *yaml.Node, sp string) { d.str(sv, sp, &nt.SchemaRegistry, true) }},
			{"config", func(_, cv *yaml.Node, cp string) { nt.Config = d.stringMap(cv, cp) }},
		})
		if _, ok := present["type"]; !ok && deref(v).Kind == yaml.MappingNode {
			d.errs.add(d.pos(k), "%s needs a type (one of %s)", kp, notationTypeList())
		}
		d.cfg.KSML.Notations = append(d.cfg.KSML.Notations, nt)
	}
}

func notationTypeList() string {
	names := make([]string, len(notationTypes))
	for i, t := range notationTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func (d *decoder) schemaRegistries(n *yaml.Node, path string) {
	ps, _ := d.mapping(n, path)
	for _, p := range ps {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.add(d.pos(k), "%s: a schema registry name must be a non-empty name", path)
			continue
		}
		kp := path + "." + k.Value
		sr := SchemaRegistry{Name: k.Value, Pos: d.pos(k), Config: map[string]string{}}
		d.fields(p.value, kp, []field{
			{"config", func(_, cv *yaml.Node, cp string) { sr.Config = d.stringMap(cv, cp) }},
		})
		d.cfg.KSML.SchemaRegistries = append(d.cfg.KSML.SchemaRegistries, sr)
	}
}

// checkRegistryRefs warns about notations that name a schema registry that
// is not configured; upstream starts anyway and fails when the notation is
// used.
func (d *decoder) checkRegistryRefs() {
	known := map[string]bool{}
	var names []string
	for _, r := range d.cfg.KSML.SchemaRegistries {
		known[r.Name] = true
		names = append(names, r.Name)
	}
	for _, nt := range d.cfg.KSML.Notations {
		if nt.SchemaRegistry == "" || known[nt.SchemaRegistry] {
			continue
		}
		msg := fmt.Sprintf("notation %s uses schema registry %q, which ksml.schemaRegistries does not define", nt.Name, nt.SchemaRegistry)
		if hint := suggest(nt.SchemaRegistry, names); hint != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", hint)
		}
		d.warns.add(nt.Pos, "%s", msg)
	}
}

func (d *decoder) kafka(key, n *yaml.Node) {
	kf := &d.cfg.Kafka
	n = deref(n)
	if isNull(n) {
		d.errs.add(d.pos(key), "kafka must set %s", ApplicationIDKey)
		return
	}
	props := d.stringMap(n, "kafka")
	for k, v := range props {
		kf.Properties[k] = v
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for _, p := range pairs(n, 0) {
		if hint := misspeltKafkaKey(p.key.Value); hint != "" {
			d.errs.add(d.pos(p.key), "unknown Kafka property kafka.%s; did you mean %s? (a misspelt property would be ignored)", p.key.Value, hint)
		}
	}
	if id, ok := props[ApplicationIDKey]; !ok {
		if _, written := findKey(n, ApplicationIDKey); !written {
			d.errs.add(d.pos(key), "kafka.%s is required", ApplicationIDKey)
		}
	} else if strings.TrimSpace(id) == "" {
		d.errs.add(kf.pos[ApplicationIDKey], "kafka.%s must not be empty", ApplicationIDKey)
	}
	if bs, ok := props[BootstrapServersKey]; ok && strings.TrimSpace(bs) == "" {
		d.errs.add(kf.pos[BootstrapServersKey], "kafka.%s must not be empty (leave it out to use the embedded broker)", BootstrapServersKey)
	}
}

// findKey reports whether mapping n writes key (even with a bad value).
func findKey(n *yaml.Node, key string) (*yaml.Node, bool) {
	for _, p := range pairs(n, 0) {
		if p.key.Value == key {
			return p.value, true
		}
	}
	return nil, false
}

// topicNameProblem checks a Kafka topic name the way brokers do; it
// returns "" for a valid name.
func topicNameProblem(name string) string {
	switch {
	case name == "":
		return ""
	case name == "." || name == "..":
		return fmt.Sprintf("%q is not a valid topic name", name)
	case len(name) > 249:
		return fmt.Sprintf("topic name is %d characters long; Kafka allows 249", len(name))
	}
	for _, c := range name {
		if !(c == '.' || c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Sprintf("topic name %q has %q; Kafka allows letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return ""
}
