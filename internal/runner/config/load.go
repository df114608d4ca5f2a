package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/yamlspec"
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
	root, syntax := yamlspec.Parse(file, src)
	root = yamlspec.Deref(root)
	switch {
	case syntax != nil:
		d.errs.List = append(d.errs.List, *syntax)
	case yamlspec.IsNull(root):
		d.errs.Add(Pos{File: file}, "the runner configuration is empty; it needs a ksml and a kafka section")
	default:
		yamlspec.CheckDuplicates(&d.errs, file, root)
		d.top(root, opts)
	}
	if d.errs.Len() > 0 {
		d.errs.List.Sort()
		return nil, d.errs.List
	}
	d.warns.List.Sort()
	d.cfg.Warnings = d.warns.List
	return d.cfg, nil
}

// decoder walks the YAML node tree, filling cfg and collecting problems.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	cfg    *Config
	errs   yamlspec.Collector
	warns  yamlspec.Collector
}

func (d *decoder) pos(n *yaml.Node) Pos { return yamlspec.At(d.file, n) }

// mapping returns the entries of a mapping value; a null value yields no
// entries (the key is treated as absent); anything else is an error.
func (d *decoder) mapping(n *yaml.Node, path string) ([]yamlspec.Pair, bool) {
	n = yamlspec.Deref(n)
	if yamlspec.IsNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errs.Add(d.pos(n), "%s must be a mapping, not %s", path, yamlspec.Describe(n))
		return nil, false
	}
	return yamlspec.Pairs(n), true
}

// setter decodes the value of one key; path is the key's dotted path.
type setter func(key, value *yaml.Node, path string)

// fields decodes a mapping whose keys spec lists, calling the setter of
// each key present; unknown keys are errors with a suggestion. It
// returns the keys present. Every key of spec needs a setter and every
// setter a key of spec: a mismatch is a bug here, and panics.
func (d *decoder) fields(n *yaml.Node, path string, spec *yamlspec.Spec, set map[string]setter) map[string]*yaml.Node {
	if len(set) != len(spec.Fields) {
		panic(fmt.Sprintf("config: %s has %d setters for %d keys", spec.Name, len(set), len(spec.Fields)))
	}
	for name := range set {
		if spec.Field(name) == nil {
			panic(fmt.Sprintf("config: %s has a setter for %s, which it does not list", spec.Name, name))
		}
	}
	ps, _ := d.mapping(n, path)
	present := map[string]*yaml.Node{}
	for _, p := range ps {
		k := yamlspec.Deref(p.Key)
		if k.Kind != yaml.ScalarNode {
			d.errs.Add(d.pos(k), "%s: keys must be names, not %s", path, yamlspec.Describe(k))
			continue
		}
		f, ok := set[k.Value]
		if !ok {
			yamlspec.UnknownKey(&d.errs, d.file, k, path, spec.Names())
			continue
		}
		present[k.Value] = k
		d.record(joinPath(path, k.Value), p.Value)
		f(k, p.Value, joinPath(path, k.Value))
	}
	return present
}

// record remembers where the value at a dotted path is written, for
// KSML.Pos and Kafka.Pos.
func (d *decoder) record(path string, v *yaml.Node) {
	p := d.pos(yamlspec.Deref(v))
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
	n = yamlspec.Deref(n)
	if yamlspec.IsNull(n) {
		return "", true, true
	}
	if n.Kind != yaml.ScalarNode {
		d.errs.Add(d.pos(n), "%s must be a single value, not %s", path, yamlspec.Describe(n))
		return "", false, false
	}
	v, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.errs.Add(d.pos(n), "%s: %v", path, err)
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
		d.errs.Add(d.pos(yamlspec.Deref(n)), "%s must not be empty", path)
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
		d.errs.Add(d.pos(yamlspec.Deref(n)), "%s must be true or false, not %q", path, s)
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
		d.errs.Add(d.pos(yamlspec.Deref(n)), "%s must be a port number, not %q", path, s)
		return
	}
	if p < 1 || p > 65535 {
		d.errs.Add(d.pos(yamlspec.Deref(n)), "%s must be between 1 and 65535, not %d", path, p)
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
		k := yamlspec.Deref(p.Key)
		if k.Kind != yaml.ScalarNode {
			d.errs.Add(d.pos(k), "%s: keys must be names, not %s", path, yamlspec.Describe(k))
			continue
		}
		v := yamlspec.Deref(p.Value)
		kp := path + "." + k.Value
		if yamlspec.IsNull(v) {
			d.errs.Add(d.pos(k), "%s has no value; give one or remove the key", kp)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			d.errs.Add(d.pos(v), "%s must be a string, number or boolean, not %s", kp, yamlspec.Describe(v))
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
		d.errs.Add(d.pos(root), "the runner configuration must be a mapping with ksml and kafka sections, not %s", yamlspec.Describe(root))
		return
	}
	present := d.fields(root, "", runnerSpec, map[string]setter{
		"ksml":  func(k, v *yaml.Node, path string) { ksmlKey = true; d.ksml(k, v, opts) },
		"kafka": func(k, v *yaml.Node, path string) { kafkaKey = true; d.kafka(k, v) },
	})
	_ = present
	if !ksmlKey {
		d.errs.Add(d.pos(root), "missing required section ksml")
	}
	if !kafkaKey {
		d.errs.Add(d.pos(root), "missing required section kafka")
	}
}

func (d *decoder) ksml(key, n *yaml.Node, opts Options) {
	k := &d.cfg.KSML
	var defsSeen bool
	d.fields(n, "ksml", ksmlSpec, map[string]setter{
		"configDirectory":        func(_, v *yaml.Node, p string) { d.str(v, p, &k.ConfigDirectory, true) },
		"schemaDirectory":        func(_, v *yaml.Node, p string) { d.str(v, p, &k.SchemaDirectory, true) },
		"storageDirectory":       func(_, v *yaml.Node, p string) { d.str(v, p, &k.StorageDirectory, true) },
		"createStorageDirectory": func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.CreateStorageDirectory) },
		"enableProducers":        func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.EnableProducers) },
		"enablePipelines":        func(_, v *yaml.Node, p string) { d.boolean(v, p, &k.EnablePipelines) },
		"definitions":            func(dk, v *yaml.Node, p string) { defsSeen = true; d.definitions(dk, v, p, opts) },
		"errorHandling":          func(_, v *yaml.Node, p string) { d.errorHandling(v, p) },
		"prometheus":             func(_, v *yaml.Node, p string) { d.prometheus(v, p) },
		"applicationServer":      func(_, v *yaml.Node, p string) { d.applicationServer(v, p) },
		"pythonContext":          func(_, v *yaml.Node, p string) { d.pythonContext(v, p) },
		"notations":              func(_, v *yaml.Node, p string) { d.notations(v, p) },
		"schemaRegistries":       func(_, v *yaml.Node, p string) { d.schemaRegistries(v, p) },
		"properties":             func(_, v *yaml.Node, p string) { k.Properties = d.stringMap(v, p) },
	})
	if yamlspec.IsNull(yamlspec.Deref(n)) || yamlspec.Deref(n).Kind == yaml.MappingNode {
		if !defsSeen && !opts.DefinitionsOptional {
			d.errs.Add(d.pos(key), "ksml.definitions is required: name at least one definition, as <namespace>: <file>")
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
		k := yamlspec.Deref(p.Key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.Add(d.pos(k), "%s: a namespace must be a non-empty name", path)
			continue
		}
		def := Definition{Namespace: k.Value, Pos: d.pos(k)}
		v := yamlspec.Deref(p.Value)
		kp := path + "." + k.Value
		switch {
		case yamlspec.IsNull(v):
			d.warns.Add(d.pos(k), "%s has no definition file or inline definition; it is skipped", kp)
			continue
		case v.Kind == yaml.MappingNode:
			def.Inline = v
		case v.Kind == yaml.ScalarNode:
			d.str(v, kp, &def.File, true)
			if def.File == "" {
				continue
			}
		default:
			d.errs.Add(d.pos(v), "%s must be a definition file name or an inline definition (a mapping), not %s", kp, yamlspec.Describe(v))
			continue
		}
		d.cfg.KSML.Definitions = append(d.cfg.KSML.Definitions, def)
	}
	if len(d.cfg.KSML.Definitions) == 0 && !opts.DefinitionsOptional && len(ps) == 0 {
		d.errs.Add(d.pos(key), "%s is empty: name at least one definition, as <namespace>: <file>", path)
	}
}

func (d *decoder) errorHandling(n *yaml.Node, path string) {
	eh := &d.cfg.KSML.ErrorHandling
	d.fields(n, path, errorHandlingSpec, map[string]setter{
		"consume": func(_, v *yaml.Node, p string) {
			d.errorHandler(v, p, errorHandlingSpec.Field("consume").Object, &eh.Consume, false)
		},
		"process": func(_, v *yaml.Node, p string) {
			d.errorHandler(v, p, errorHandlingSpec.Field("process").Object, &eh.Process, false)
		},
		"produce": func(_, v *yaml.Node, p string) {
			d.errorHandler(v, p, errorHandlingSpec.Field("produce").Object, &eh.Produce, true)
		},
	})
}

func (d *decoder) errorHandler(n *yaml.Node, path string, spec *yamlspec.Spec, h *ErrorHandler, retry bool) {
	d.fields(n, path, spec, map[string]setter{
		"log":        func(_, v *yaml.Node, p string) { d.boolean(v, p, &h.Log) },
		"logPayload": func(_, v *yaml.Node, p string) { d.boolean(v, p, &h.LogPayload) },
		"loggerName": func(_, v *yaml.Node, p string) { d.str(v, p, &h.LoggerName, true) },
		"handler": func(_, v *yaml.Node, p string) {
			s, null, ok := d.text(v, p)
			if !ok || null {
				return
			}
			switch Handler(s) {
			case StopOnFail, ContinueOnFail:
				h.Handler = Handler(s)
			case RetryOnFail:
				if !retry {
					d.errs.Add(d.pos(yamlspec.Deref(v)), "%s: retryOnFail is only supported for produce errors; use stopOnFail or continueOnFail", p)
					return
				}
				h.Handler = RetryOnFail
			default:
				valid := []string{string(StopOnFail), string(ContinueOnFail), string(RetryOnFail)}
				if hint := suggest(s, valid); hint != "" {
					d.errs.Add(d.pos(yamlspec.Deref(v)), "%s: unknown handler %q (did you mean %q?)", p, s, hint)
				} else {
					d.errs.Add(d.pos(yamlspec.Deref(v)), "%s: unknown handler %q (valid: %s)", p, s, strings.Join(valid, ", "))
				}
			}
		},
		"deadLetterTopic": func(_, v *yaml.Node, p string) {
			d.str(v, p, &h.DeadLetterTopic, true)
			if msg := topicNameProblem(h.DeadLetterTopic); msg != "" {
				d.errs.Add(d.pos(yamlspec.Deref(v)), "%s: %s", p, msg)
				h.DeadLetterTopic = ""
			}
		},
	})
}

func (d *decoder) prometheus(n *yaml.Node, path string) {
	pr := &d.cfg.KSML.Prometheus
	d.fields(n, path, prometheusSpec, map[string]setter{
		"enabled": func(_, v *yaml.Node, p string) { d.boolean(v, p, &pr.Enabled) },
		"host":    func(_, v *yaml.Node, p string) { d.str(v, p, &pr.Host, true) },
		"port":    func(_, v *yaml.Node, p string) { d.port(v, p, &pr.Port) },
		"configFile": func(_, v *yaml.Node, p string) {
			d.str(v, p, &pr.ConfigFile, false)
			if pr.ConfigFile != "" {
				d.warns.Add(d.pos(yamlspec.Deref(v)), "%s is a JMX exporter rule file, which ksml does not use: its metrics have upstream's names already", p)
			}
		},
	})
}

func (d *decoder) applicationServer(n *yaml.Node, path string) {
	as := &d.cfg.KSML.ApplicationServer
	d.fields(n, path, applicationServerSpec, map[string]setter{
		"enabled": func(_, v *yaml.Node, p string) { d.boolean(v, p, &as.Enabled) },
		"host":    func(_, v *yaml.Node, p string) { d.str(v, p, &as.Host, true) },
		"port":    func(_, v *yaml.Node, p string) { d.port(v, p, &as.Port) },
	})
}

func (d *decoder) pythonContext(n *yaml.Node, path string) {
	pc := &d.cfg.KSML.PythonContext
	d.fields(n, path, pythonContextSpec, map[string]setter{
		"allowHostFileAccess":         func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowHostFileAccess) },
		"allowHostSocketAccess":       func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowHostSocketAccess) },
		"allowNativeAccess":           func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowNativeAccess) },
		"allowCreateProcess":          func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowCreateProcess) },
		"allowCreateThread":           func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.AllowCreateThread) },
		"inheritEnvironmentVariables": func(_, v *yaml.Node, p string) { d.boolean(v, p, &pc.InheritEnvironmentVariables) },
		"modulePath":                  func(_, v *yaml.Node, p string) { d.str(v, p, &pc.ModulePath, false) },
		"venv":                        func(_, v *yaml.Node, p string) { d.str(v, p, &pc.Venv, false) },
		"functionTimeout":             func(_, v *yaml.Node, p string) { d.functionTimeout(v, p, pc) },
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
		d.errs.Add(d.pos(yamlspec.Deref(n)), "%s must be a duration such as 10s or 500ms, 0 or off (no timeout), not %q", path, s)
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
		k := yamlspec.Deref(p.Key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.Add(d.pos(k), "%s: a notation name must be a non-empty name", path)
			continue
		}
		kp := path + "." + k.Value
		nt := Notation{Name: k.Value, Pos: d.pos(k), Config: map[string]string{}}
		v := yamlspec.Deref(p.Value)
		if yamlspec.IsNull(v) {
			d.errs.Add(d.pos(k), "%s needs a type (one of %s)", kp, notationTypeList())
			continue
		}
		present := d.fields(v, kp, notationSpec, map[string]setter{
			"type": func(_, tv *yaml.Node, tp string) {
				s, null, ok := d.text(tv, tp)
				if !ok {
					return
				}
				if null {
					d.errs.Add(d.pos(yamlspec.Deref(tv)), "%s must be one of %s", tp, notationTypeList())
					return
				}
				for _, t := range notationTypes {
					if string(t) == s {
						nt.Type = t
						return
					}
				}
				if hint := suggest(s, notationTypeNames()); hint != "" {
					d.errs.Add(d.pos(yamlspec.Deref(tv)), "%s: unknown notation type %q (did you mean %q?)", tp, s, hint)
				} else {
					d.errs.Add(d.pos(yamlspec.Deref(tv)), "%s: unknown notation type %q (valid: %s)", tp, s, notationTypeList())
				}
			},
			"schemaRegistry": func(_, sv *yaml.Node, sp string) { d.str(sv, sp, &nt.SchemaRegistry, true) },
			"config":         func(_, cv *yaml.Node, cp string) { nt.Config = d.stringMap(cv, cp) },
		})
		if _, ok := present["type"]; !ok && yamlspec.Deref(v).Kind == yaml.MappingNode {
			d.errs.Add(d.pos(k), "%s needs a type (one of %s)", kp, notationTypeList())
		}
		d.cfg.KSML.Notations = append(d.cfg.KSML.Notations, nt)
	}
}

func notationTypeList() string { return strings.Join(notationTypeNames(), ", ") }

func notationTypeNames() []string {
	names := make([]string, len(notationTypes))
	for i, t := range notationTypes {
		names[i] = string(t)
	}
	return names
}

func (d *decoder) schemaRegistries(n *yaml.Node, path string) {
	ps, _ := d.mapping(n, path)
	for _, p := range ps {
		k := yamlspec.Deref(p.Key)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errs.Add(d.pos(k), "%s: a schema registry name must be a non-empty name", path)
			continue
		}
		kp := path + "." + k.Value
		sr := SchemaRegistry{Name: k.Value, Pos: d.pos(k), Config: map[string]string{}}
		d.fields(p.Value, kp, schemaRegistrySpec, map[string]setter{
			"config": func(_, cv *yaml.Node, cp string) { sr.Config = d.stringMap(cv, cp) },
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
		d.warns.Add(nt.Pos, "%s", msg)
	}
}

func (d *decoder) kafka(key, n *yaml.Node) {
	kf := &d.cfg.Kafka
	n = yamlspec.Deref(n)
	if yamlspec.IsNull(n) {
		d.errs.Add(d.pos(key), "kafka must set %s", ApplicationIDKey)
		return
	}
	props := d.stringMap(n, "kafka")
	for k, v := range props {
		kf.Properties[k] = v
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for _, p := range yamlspec.Pairs(n) {
		if hint := misspeltKafkaKey(p.Key.Value); hint != "" {
			d.errs.Add(d.pos(p.Key), "unknown Kafka property kafka.%s; did you mean %s? (a misspelt property would be ignored)", p.Key.Value, hint)
		}
	}
	if id, ok := props[ApplicationIDKey]; !ok {
		if _, written := findKey(n, ApplicationIDKey); !written {
			d.errs.Add(d.pos(key), "kafka.%s is required", ApplicationIDKey)
		}
	} else if strings.TrimSpace(id) == "" {
		d.errs.Add(kf.pos[ApplicationIDKey], "kafka.%s must not be empty", ApplicationIDKey)
	}
	if bs, ok := props[BootstrapServersKey]; ok && strings.TrimSpace(bs) == "" {
		d.errs.Add(kf.pos[BootstrapServersKey], "kafka.%s must not be empty (leave it out to use the embedded broker)", BootstrapServersKey)
	}
}

// findKey reports whether mapping n writes key (even with a bad value).
func findKey(n *yaml.Node, key string) (*yaml.Node, bool) {
	for _, p := range yamlspec.Pairs(n) {
		if p.Key.Value == key {
			return p.Value, true
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
