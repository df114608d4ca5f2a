// Package conformance compares ksml's stateful operations with Kafka
// Streams. A Scenario names an operation family with its parameters and
// the input records; the Kafka Streams oracle (conformance/kstreams, run in
// TopologyTestDriver) and ksml (the definition Scenario.KSML writes, run on
// the in-memory test driver) must write the same records to the output
// topic, in the same order, with the same keys, values and timestamps.
//
// Fixed scenarios with the oracle's outputs live in testdata/*.jsonl, so the
// comparison runs without Java; the oracle regenerates them in CI, and a
// seeded generator produces random scenarios per family, shrinking any
// disagreement to a minimal fixture.
package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Record is an input record. A nil Key or Value is null (a null key, a
// tombstone).
type Record struct {
	Topic string  `json:"topic"`
	Key   *string `json:"key"`
	Value *string `json:"value"`
	TS    int64   `json:"ts"`
}

// Header is an output record header.
type Header struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

// Output is a record written to the output topic. Windowed keys are
// written as "key@start/end"; counts as decimal strings.
type Output struct {
	Topic   string   `json:"topic"`
	Key     *string  `json:"key"`
	Value   *string  `json:"value"`
	TS      int64    `json:"ts"`
	Headers []Header `json:"headers"`
}

func (o Output) String() string {
	return fmt.Sprintf("%s %s=%s @%d%v", o.Topic, str(o.Key), str(o.Value), o.TS, o.Headers)
}

func str(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}

// Params are a family's parameters; each family reads the fields it
// needs (see README.md). Durations are milliseconds.
type Params struct {
	// aggregate
	Source     string `json:"source,omitempty"` // stream | table
	Group      string `json:"group,omitempty"`  // key | value (first character of the value)
	Agg        string `json:"agg,omitempty"`    // count | reduce | aggregate
	Window     string `json:"window,omitempty"` // none | tumbling | hopping | sliding | session
	Size       int64  `json:"size,omitempty"`
	Advance    int64  `json:"advance,omitempty"`
	Gap        int64  `json:"gap,omitempty"`
	Grace      int64  `json:"grace,omitempty"`
	Suppress   string `json:"suppress,omitempty"` // none | untilWindowCloses | untilTimeLimit
	Limit      int64  `json:"limit,omitempty"`
	MaxRecords int64  `json:"maxRecords,omitempty"`
	// join, fkjoin
	Left  string `json:"left,omitempty"`  // stream | table
	Right string `json:"right,omitempty"` // stream | table | globalTable (stream left side)
	Type  string `json:"type,omitempty"`  // inner | left | outer
	Diff  int64  `json:"diff,omitempty"`  // stream-stream time difference
	// repartition
	Rekey       string `json:"rekey,omitempty"`       // key | value (the value's first character)
	Repartition bool   `json:"repartition,omitempty"` // an explicit repartition operation
	Partitions  int    `json:"partitions,omitempty"`  // its numberOfPartitions
	Partitioner bool   `json:"partitioner,omitempty"` // its partitioner: the key's length modulo the partitions
	Then        string `json:"then,omitempty"`        // none | count | aggregate | join (with table b, Type)
	// every family
	Caching bool `json:"caching,omitempty"`
}

// Scenario is one comparison: a family, its parameters and the input.
type Scenario struct {
	Name    string   `json:"name"`
	Family  string   `json:"family"`
	Params  Params   `json:"params"`
	Records []Record `json:"records"`
	// Expected holds the oracle's outputs in fixtures.
	Expected []Output `json:"expected,omitempty"`
}

// Families lists the scenario families both sides implement.
var Families = []string{"aggregate", "join", "fkjoin", "cogroup", "totable", "repartition"}

func (p Params) or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// The Python functions mirror the oracle's Java lambdas exactly.
const (
	pyGroup       = `value[0] if value is not None else None`
	pyJoiner      = `("-" if value1 is None else value1) + "/" + ("-" if value2 is None else value2)`
	pyForeignKey  = `value[:value.index(":")] if ":" in value else None`
	pyPartitioner = `0 if key is None else len(key) % numPartitions`
	stringsStream = "keyType: string\n    valueType: string"
)

// KSML writes the scenario as a KSML definition reading topics a and b and
// writing topic out, and returns the output key and value types.
func (s *Scenario) KSML() (def, keyType, valueType string, err error) {
	p := s.Params
	var b strings.Builder
	keyType, valueType = "string", "string"
	switch s.Family {
	case "aggregate":
		return s.aggregateKSML()
	case "join":
		left, right := p.or(p.Left, "stream"), p.or(p.Right, "stream")
		typ := joinOp(p.or(p.Type, "inner"))
		if left == "table" && right != "table" {
			return "", "", "", fmt.Errorf("join: a table left side needs a table right side")
		}
		b.WriteString(declare(map[string]string{"a": left, "b": right, "out": "stream"}, "string", "string"))
		b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n")
		fmt.Fprintf(&b, "      - type: %s\n        %s: b\n        valueJoiner:\n          expression: '%s'\n          resultType: string\n", typ, right, pyJoiner)
		if right == "globalTable" {
			b.WriteString("        mapper:\n          expression: key\n          resultType: string\n")
		}
		if right == "stream" {
			d := p.Diff
			fmt.Fprintf(&b, "        timeDifference: %d\n        grace: %d\n", d, p.Grace)
			for _, st := range []string{"thisStore", "otherStore"} {
				fmt.Fprintf(&b, "        %s:\n          name: %s\n          type: window\n          windowSize: %d\n          retention: %d\n          retainDuplicates: true\n          logging: true\n",
					st, strings.TrimSuffix(st, "Store")+"_store", 2*d, 2*d+p.Grace)
			}
		}
		if left == "table" {
			b.WriteString("      - type: toStream\n")
		}
		b.WriteString("    to: out\n")
	case "fkjoin":
		b.WriteString(declare(map[string]string{"a": "table", "b": "table", "out": "stream"}, "string", "string"))
		b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n")
		fmt.Fprintf(&b, "      - type: %s\n        table: b\n        foreignKeyExtractor:\n          expression: '%s'\n          resultType: string\n", joinOp(p.or(p.Type, "inner")), pyForeignKey)
		fmt.Fprintf(&b, "        valueJoiner:\n          expression: '%s'\n          resultType: string\n", pyJoiner)
		b.WriteString("      - type: toStream\n    to: out\n")
	case "cogroup":
		return s.cogroupKSML()
	case "repartition":
		return s.repartitionKSML()
	case "totable":
		fmt.Fprintf(&b, "streams:\n  a:\n    topic: a\n    %s\n  out:\n    topic: out\n    %s\n", stringsStream, stringsStream)
		b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n      - type: toTable\n")
		b.WriteString(storeYAML("a_table", "keyValue", p.Caching))
		b.WriteString("      - type: toStream\n    to: out\n")
	default:
		return "", "", "", fmt.Errorf("unknown family %q", s.Family)
	}
	return b.String(), keyType, valueType, nil
}

// declare writes the streams and tables sections: topic name -> kind.
// Inputs are string/string; out has the given types.
func declare(topics map[string]string, outKey, outValue string) string {
	var b strings.Builder
	for _, kind := range []string{"stream", "table", "globalTable"} {
		first := true
		for _, name := range []string{"a", "b", "out"} {
			if topics[name] != kind {
				continue
			}
			if first {
				b.WriteString(kind + "s:\n")
				first = false
			}
			kt, vt := "string", "string"
			if name == "out" {
				kt, vt = outKey, outValue
			}
			fmt.Fprintf(&b, "  %s:\n    topic: %s\n    keyType: %s\n    valueType: %s\n", name, name, kt, vt)
			if kind == "table" {
				// Materialized and logged under the name the oracle's
				// Materialized.as gives it.
				fmt.Fprintf(&b, "    store:\n      name: %s_table\n      type: keyValue\n      logging: true\n", name)
			}
		}
	}
	return b.String()
}

// concat is Python for Java's a + sep + b on strings: null becomes "null".
func concat(a, sep, b string) string {
	return fmt.Sprintf(`'("null" if %s is None else %s) + "%s" + ("null" if %s is None else %s)'`, a, a, sep, b, b)
}

func joinOp(t string) string {
	switch t {
	case "left":
		return "leftJoin"
	case "outer":
		return "outerJoin"
	}
	return "join"
}

// storeYAML declares an operation's store. It is logged, as Kafka Streams'
// DSL stores are (a store declared with store: is not logged unless it says
// so), so both sides write the changelogs ChangelogsCompared compares.
func storeYAML(name, typ string, caching bool) string {
	return fmt.Sprintf("        store:\n          name: %s\n          type: %s\n          caching: %t\n          logging: true\n", name, typ, caching)
}

func (s *Scenario) aggregateKSML() (def, keyType, valueType string, err error) {
	p := s.Params
	var b strings.Builder
	source, window, agg := p.or(p.Source, "stream"), p.or(p.Window, "none"), p.or(p.Agg, "count")
	keyType, valueType = "string", "string"
	if agg == "count" {
		valueType = "long"
	}
	if window != "none" {
		if source == "table" {
			return "", "", "", fmt.Errorf("aggregate: windows need a stream source")
		}
		keyType = "json:windowed(string)"
	}
	b.WriteString(declare(map[string]string{"a": source, "out": "stream"}, keyType, valueType))
	b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n")
	switch {
	case p.Group == "value" && source == "table":
		fmt.Fprintf(&b, "      - type: groupBy\n        mapper:\n          expression: '(%s, value)'\n          resultType: (string, string)\n", pyGroup)
	case p.Group == "value":
		fmt.Fprintf(&b, "      - type: groupBy\n        mapper:\n          expression: '%s'\n          resultType: string\n", pyGroup)
	case source == "table":
		b.WriteString("      - type: groupBy\n        mapper:\n          expression: (key, value)\n          resultType: (string, string)\n")
	default:
		b.WriteString("      - type: groupByKey\n")
	}
	storeType, err := windowYAML(&b, p, window)
	if err != nil {
		return "", "", "", err
	}
	sep := "|"
	if source == "table" {
		sep = "+"
	}
	switch agg {
	case "count":
		b.WriteString("      - type: count\n")
	case "reduce":
		b.WriteString("      - type: reduce\n")
		if source == "table" {
			b.WriteString("        adder:\n          expression: " + concat("value1", "+", "value2") + "\n          resultType: string\n")
			b.WriteString("        subtractor:\n          expression: " + concat("value1", "-", "value2") + "\n          resultType: string\n")
		} else {
			b.WriteString("        reducer:\n          expression: " + concat("value1", "+", "value2") + "\n          resultType: string\n")
		}
	case "aggregate":
		b.WriteString("      - type: aggregate\n        initializer:\n          expression: '\"\"'\n          resultType: string\n")
		if source == "table" {
			b.WriteString("        adder:\n          expression: " + concat("aggregatedValue", "+", "value") + "\n          resultType: string\n")
			b.WriteString("        subtractor:\n          expression: " + concat("aggregatedValue", "-", "value") + "\n          resultType: string\n")
		} else {
			fmt.Fprintf(&b, "        aggregator:\n          expression: %s\n          resultType: string\n", concat("aggregatedValue", sep, "value"))
		}
		if window == "session" {
			b.WriteString("        merger:\n          expression: " + concat("value1", "&", "value2") + "\n          resultType: string\n")
		}
	default:
		return "", "", "", fmt.Errorf("unknown aggregation %q", agg)
	}
	if err := aggregateTail(&b, p, window, storeType); err != nil {
		return "", "", "", err
	}
	return b.String(), keyType, valueType, nil
}

// windowYAML writes the windowing operation of window (none, tumbling,
// hopping, sliding or session) and returns the type of store the
// aggregation then needs.
func windowYAML(b *strings.Builder, p Params, window string) (storeType string, err error) {
	switch window {
	case "none":
		return "keyValue", nil
	case "tumbling", "hopping":
		adv := p.Advance
		if adv == 0 || window == "tumbling" {
			adv = p.Size
		}
		fmt.Fprintf(b, "      - type: windowByTime\n        windowType: hopping\n        duration: %d\n        advanceBy: %d\n        grace: %d\n", p.Size, adv, p.Grace)
		return "window", nil
	case "sliding":
		fmt.Fprintf(b, "      - type: windowByTime\n        windowType: sliding\n        timeDifference: %d\n        grace: %d\n", p.Size, p.Grace)
		return "window", nil
	case "session":
		fmt.Fprintf(b, "      - type: windowBySession\n        inactivityGap: %d\n        grace: %d\n", p.Gap, p.Grace)
		return "session", nil
	}
	return "", fmt.Errorf("unknown window %q", window)
}

// aggregateTail writes what follows an aggregation: its store (with Kafka
// Streams' default window size and retention for windowed ones), the
// suppress operation, if any, and the sink.
func aggregateTail(b *strings.Builder, p Params, window, storeType string) error {
	b.WriteString(storeYAML("agg", storeType, p.Caching))
	if window != "none" {
		b.WriteString(windowStoreTail(p, window))
	}
	if err := suppressYAML(b, p); err != nil {
		return err
	}
	b.WriteString("      - type: toStream\n    to: out\n")
	return nil
}

// suppressYAML writes the family's suppress operation, if any.
func suppressYAML(b *strings.Builder, p Params) error {
	switch p.or(p.Suppress, "none") {
	case "none":
	case "untilWindowCloses":
		b.WriteString("      - type: suppress\n        until: windowCloses\n")
	case "untilTimeLimit":
		fmt.Fprintf(b, "      - type: suppress\n        until: timeLimit\n        duration: %d\n", p.Limit)
		if p.MaxRecords > 0 {
			fmt.Fprintf(b, "        maxRecords: %d\n        bufferFullStrategy: emitEarlyWhenFull\n", p.MaxRecords)
		}
	default:
		return fmt.Errorf("unknown suppress %q", p.Suppress)
	}
	return nil
}

// cogroupKSML groups a by key, cogroups it, optionally windows it, and
// aggregates, as the aggregate family does (suppress included).
func (s *Scenario) cogroupKSML() (def, keyType, valueType string, err error) {
	p := s.Params
	var b strings.Builder
	window := p.or(p.Window, "none")
	keyType, valueType = "string", "string"
	if window != "none" {
		keyType = "json:windowed(string)"
	}
	b.WriteString(declare(map[string]string{"a": "stream", "out": "stream"}, keyType, valueType))
	b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n      - type: groupByKey\n")
	b.WriteString("      - type: cogroup\n        aggregator:\n          expression: " + concat("aggregatedValue", "a", "value") + "\n          resultType: string\n")
	storeType, err := windowYAML(&b, p, window)
	if err != nil {
		return "", "", "", err
	}
	b.WriteString("      - type: aggregate\n        initializer:\n          expression: '\"\"'\n          resultType: string\n")
	if window == "session" {
		b.WriteString("        merger:\n          expression: " + concat("value1", "&", "value2") + "\n          resultType: string\n")
	}
	if err := aggregateTail(&b, p, window, storeType); err != nil {
		return "", "", "", err
	}
	return b.String(), keyType, valueType, nil
}

// repartitionKSML changes the key (or not), repartitions explicitly (or
// not: a grouping or join after a key change repartitions by itself), and
// writes the records out, counts or aggregates them per key, or joins them
// with table b.
func (s *Scenario) repartitionKSML() (def, keyType, valueType string, err error) {
	p := s.Params
	var b strings.Builder
	then := p.or(p.Then, "none")
	keyType, valueType = "string", "string"
	if then == "count" {
		valueType = "long"
	}
	topics := map[string]string{"a": "stream", "out": "stream"}
	if then == "join" {
		topics["b"] = "table"
	}
	b.WriteString(declare(topics, keyType, valueType))
	b.WriteString("pipelines:\n  main:\n    from: a\n    via:\n")
	if p.Rekey == "value" {
		fmt.Fprintf(&b, "      - type: transformKey\n        mapper:\n          expression: '%s'\n          resultType: string\n", pyGroup)
	}
	if p.Repartition {
		b.WriteString("      - type: repartition\n")
		if p.Partitions > 0 {
			fmt.Fprintf(&b, "        numberOfPartitions: %d\n", p.Partitions)
		}
		if p.Partitioner {
			fmt.Fprintf(&b, "        partitioner:\n          expression: '%s'\n          resultType: integer\n", pyPartitioner)
		}
	}
	switch then {
	case "none":
	case "count":
		b.WriteString("      - type: groupByKey\n      - type: count\n")
		b.WriteString(storeYAML("agg", "keyValue", p.Caching))
		b.WriteString("      - type: toStream\n")
	case "aggregate":
		b.WriteString("      - type: groupByKey\n      - type: aggregate\n        initializer:\n          expression: '\"\"'\n          resultType: string\n")
		fmt.Fprintf(&b, "        aggregator:\n          expression: %s\n          resultType: string\n", concat("aggregatedValue", "|", "value"))
		b.WriteString(storeYAML("agg", "keyValue", p.Caching))
		b.WriteString("      - type: toStream\n")
	case "join":
		fmt.Fprintf(&b, "      - type: %s\n        table: b\n        valueJoiner:\n          expression: '%s'\n          resultType: string\n", joinOp(p.or(p.Type, "inner")), pyJoiner)
	default:
		return "", "", "", fmt.Errorf("repartition: unknown then %q", then)
	}
	b.WriteString("    to: out\n")
	return b.String(), keyType, valueType, nil
}

// windowStoreTail gives a window or session store Kafka Streams' default
// size and retention for the window.
func windowStoreTail(p Params, window string) string {
	switch window {
	case "session":
		return fmt.Sprintf("          retention: %d\n", p.Gap+p.Grace)
	case "sliding":
		return fmt.Sprintf("          windowSize: %d\n          retention: %d\n", p.Size, 2*p.Size+p.Grace)
	}
	return fmt.Sprintf("          windowSize: %d\n          retention: %d\n", p.Size, p.Size+p.Grace)
}

// Marshal encodes the scenario as one JSON line.
func (s *Scenario) Marshal() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

// ChangelogsCompared reports whether a scenario's changelog topics are
// compared with Kafka Streams' as well as its output and its repartition
// topics (which always are), record by record and byte by byte (topic
// "changelog:<store>", after the output): tables, stream aggregations and
// cogroups (windowed or not) without suppression or record caches, and
// stream-stream and stream-table joins. Left out: aggregations of tables
// (Kafka Streams logs the source table's store, ksml a store of the
// previous values of its own as well), table-table joins (ksml logs a store
// of the result) and foreign-key joins (docs/stateful.md).
func ChangelogsCompared(s *Scenario) bool {
	switch s.Family {
	case "aggregate", "totable", "cogroup":
		return !s.Params.Caching && (s.Params.Suppress == "" || s.Params.Suppress == "none") && s.Params.Source != "table"
	case "join":
		return s.Params.Left == "stream" && (s.Params.Right == "stream" || s.Params.Right == "table")
	}
	return false
}
