package main

import (
	"errors"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/python"
)

// rawPythonChunk is how many records one call of the loop function handles:
// large enough that the call itself does not count, small enough to stay
// far below the interpreter's function timeout.
const rawPythonChunk = 5000

// rawPython runs the seed's CQRS mapper over the first n records as a
// tight Python loop (json.loads, the mapper, json.dumps) in the embedded
// interpreter the runner uses. The mapper
// is compiled from the definition file exactly as a KSML function is; the
// loop is another function of the same module, so the only cost beside the
// mapper is the JSON round trip any JSON pipeline has to pay.
func (e *env) rawPython(n int) (sample, error) {
	code, err := cqrsMapperCode(e.cqrsDef)
	if err != nil {
		return sample{}, err
	}
	in, err := python.Init(python.Options{Logger: e.log})
	if err != nil {
		return sample{}, fmt.Errorf("starting Python: %w", err)
	}
	mod, err := in.NewModule(e.nextID("rawpython"), e.cqrsDef, nil)
	if err != nil {
		return sample{}, err
	}
	if _, err := mod.Define(python.FunctionSpec{Name: "cqrs_mapper", Type: "valueTransformer", Code: code}); err != nil {
		return sample{}, fmt.Errorf("compiling the CQRS mapper: %w", err)
	}
	load, err := mod.Define(python.FunctionSpec{
		Name:       "bench_load",
		Parameters: []python.Parameter{{Name: "records"}},
		Code: python.Source{Text: "global bench_records\n" +
			"bench_records = list(records)\n" +
			"return len(bench_records)\n", File: "bench", Line: 1},
	})
	if err != nil {
		return sample{}, err
	}
	loop, err := mod.Define(python.FunctionSpec{
		Name:       "bench_loop",
		Parameters: []python.Parameter{{Name: "start"}, {Name: "end"}},
		GlobalCode: python.Source{Text: "import json\n" +
			"bench_encode = json.JSONEncoder(separators=(',', ':')).encode\n", File: "bench", Line: 1},
		Code: python.Source{Text: "size = 0\n" +
			"loads, dumps, mapper = json.loads, bench_encode, cqrs_mapper\n" +
			"for raw in bench_records[start:end]:\n" +
			"    size += len(dumps(mapper(None, loads(raw))))\n" +
			"return size\n", File: "bench", Line: 1},
	})
	if err != nil {
		return sample{}, err
	}
	values := make([]any, n)
	for i := range values {
		values[i] = string(e.events[i].value)
	}
	if _, err := load.Call(nil, values); err != nil {
		return sample{}, fmt.Errorf("loading the records into Python: %w", err)
	}
	values = nil

	start := mark()
	var written int64
	for from := 0; from < n; from += rawPythonChunk {
		to := min(from+rawPythonChunk, n)
		v, err := loop.Call(nil, from, to)
		if err != nil {
			return sample{}, fmt.Errorf("records %d..%d: %w", from, to, err)
		}
		size, ok := v.(int64)
		if !ok || size <= 0 {
			return sample{}, fmt.Errorf("records %d..%d: the loop returned %v (%T), want the bytes written", from, to, v, v)
		}
		written += size
	}
	sm := start.sample(n)
	// Drop the records so the interpreter does not hold them through
	// the measurements that follow.
	if _, err := load.Call(nil, []any{}); err != nil {
		return sample{}, err
	}
	e.say("raw_python: %d bytes of JSON written", written)
	return sm, nil
}

// cqrsMapperCode reads the mapper of the seed's CQRS definition:
// pipelines[0].operations[0].mapper.code, with the YAML line its text
// starts on.
func cqrsMapperCode(path string) (python.Source, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return python.Source{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return python.Source{}, fmt.Errorf("%s: %w", path, err)
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, step := range []any{"pipelines", 0, "operations", 0, "mapper", "code"} {
		n = child(n, step)
		if n == nil {
			return python.Source{}, fmt.Errorf("%s: no pipelines[0].operations[0].mapper.code", path)
		}
	}
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return python.Source{}, errors.New(path + ": the CQRS mapper's code is not text")
	}
	line := n.Line
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		line++ // block scalar text starts below the indicator
	}
	return python.Source{Text: n.Value, File: path, Line: line}, nil
}

// child steps into a mapping by key or a sequence by index.
func child(n *yaml.Node, step any) *yaml.Node {
	switch s := step.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == s {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s < len(n.Content) {
			return n.Content[s]
		}
	}
	return nil
}
