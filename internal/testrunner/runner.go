package testrunner

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/testdriver"
	"github.com/ksml-dev/ksml/internal/topology"
	"github.com/ksml-dev/ksml/internal/types"
	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Options configure a run.
type Options struct {
	// Stdout receives the output of print sinks (default os.Stdout).
	Stdout io.Writer
	// Serdes provides the serdes of declared types. Default: per test,
	// binary, json and the Avro notations over a fresh in-memory registry.
	Serdes topology.SerdeProvider
	// Now returns the wall-clock time used as the timestamp of messages
	// without one (default time.Now).
	Now func() time.Time
	// Logger receives the log calls of Python code (nil discards them).
	Logger *slog.Logger
}

// CollectFiles expands paths into suite files: files are taken as given and
// directories contribute their *.yaml and *.yml files (direct children
// only, as upstream) that are test suites, with a top-level `tests:` or
// `definition:` key; definitions and runner configurations beside them,
// the usual layout, are left out. The result is sorted. A missing path is
// an error.
func CollectFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("path not found: %s", p)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := yamlspec.DirFiles(p, func(src []byte, err error) bool {
			return err != nil || suiteKey.Match(src)
		})
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	sort.Strings(files)
	return files, nil
}

// suiteKey finds the top-level keys only a test suite has. It reads the
// text, so a suite with a YAML error is still run and reports it.
var suiteKey = regexp.MustCompile(`(?m)^(tests|definition)[ \t]*:`)

// Run runs every suite in files and returns the results in order.
func Run(files []string, opts Options) []Result {
	var out []Result
	for _, f := range files {
		out = append(out, RunFile(f, opts)...)
	}
	return out
}

func fileStem(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// RunFile runs one suite file: one result per test, or a single ERROR
// when the suite itself is invalid.
func RunFile(file string, opts Options) []Result {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	suiteErr := func(err error) []Result {
		return []Result{{Suite: fileStem(file), Test: "<parse>", Status: Error, Message: "Invalid test definition: " + err.Error()}}
	}
	suite, err := ParseSuite(file)
	if err != nil {
		return suiteErr(err)
	}
	dir := filepath.Dir(file)
	defPath, err := resolveFile(dir, suite.Definition)
	if err != nil {
		return suiteErr(err)
	}
	var schemaDirs, moduleDirs []string
	if suite.SchemaDirectory != "" {
		d, err := resolveDir(dir, suite.SchemaDirectory)
		if err != nil {
			return suiteErr(err)
		}
		schemaDirs = append(schemaDirs, d)
	}
	if suite.ModuleDirectory != "" {
		d, err := resolveDir(dir, suite.ModuleDirectory)
		if err != nil {
			return suiteErr(err)
		}
		moduleDirs = append(moduleDirs, d)
	}
	env, err := newPyEnv(moduleDirs, opts.Logger)
	if err != nil {
		return suiteErr(err)
	}
	var results []Result
	for _, tc := range suite.Tests {
		r := Result{Suite: suite.Name, Test: tc.Label()}
		r.Status, r.Message = runTest(suite, tc, defPath, schemaDirs, env, opts)
		results = append(results, r)
	}
	return results
}

func resolveFile(dir, p string) (string, error) {
	if !filepath.IsAbs(p) {
		if c := filepath.Join(dir, p); fileExists(c) {
			return c, nil
		}
	}
	if fileExists(p) {
		return p, nil
	}
	return "", fmt.Errorf("definition file not found: %s", p)
}

func resolveDir(dir, p string) (string, error) {
	for _, c := range []string{filepath.Join(dir, p), p} {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return filepath.Abs(c)
		}
	}
	return "", fmt.Errorf("directory '%s' not found (resolved from '%s')", p, dir)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// sanitize makes a topology name from suite and test names, as upstream.
func sanitize(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// streamSerdes are the serdes of one suite stream binding, with the
// declared primitive types messages are converted to before serializing.
type streamSerdes struct {
	key, value         streams.Serde
	keyPrim, valuePrim types.DataType // nil unless the type is a primitive
}

func primitive(u types.UserType) types.DataType {
	if p, ok := u.Type.(types.Primitive); ok {
		return p
	}
	return nil
}

// convertMessage converts a produced key or value to a declared primitive
// type, as upstream's producer does (a number given for a string stream is
// sent as its text).
func convertMessage(v any, to types.DataType) (any, error) {
	if to == nil || v == nil {
		return v, nil
	}
	return types.Convert(v, to)
}

func bindingSerdes(p topology.SerdeProvider, b *StreamBinding) (streamSerdes, error) {
	var s streamSerdes
	kt, err := types.ParseUserType(b.KeyType)
	if err != nil {
		return s, fmt.Errorf("stream '%s': cannot resolve key type '%s': %v", b.Key, b.KeyType, err)
	}
	vt, err := types.ParseUserType(b.ValueType)
	if err != nil {
		return s, fmt.Errorf("stream '%s': cannot resolve value type '%s': %v", b.Key, b.ValueType, err)
	}
	if err := checkBindingType(b, b.KeyType, kt); err != nil {
		return s, err
	}
	if err := checkBindingType(b, b.ValueType, vt); err != nil {
		return s, err
	}
	s.keyPrim, s.valuePrim = primitive(kt), primitive(vt)
	if s.key, err = p.Serde(kt, true); err != nil {
		return s, fmt.Errorf("stream '%s': key type '%s': %v", b.Key, b.KeyType, err)
	}
	if s.value, err = p.Serde(vt, false); err != nil {
		return s, fmt.Errorf("stream '%s': value type '%s': %v", b.Key, b.ValueType, err)
	}
	return s, nil
}

// runTest runs one hermetic test: fresh definition namespace, Python
// module, topology, stores and driver.
func runTest(suite *Suite, tc *TestCase, defPath string, schemaDirs []string, env *pyEnv, opts Options) (Status, string) {
	ns := sanitize(suite.Name + "_" + tc.Key)
	if opts.Serdes == nil {
		var err error
		if opts.Serdes, err = testSerdes(schemaDirs, suite, opts.Logger); err != nil {
			return Error, err.Error()
		}
	}
	def, err := definition.Load(defPath, definition.Options{Namespace: ns, SchemaDirs: schemaDirs, Code: codeChecker})
	if err != nil {
		return Error, err.Error()
	}
	funcs := env.functions()
	res, err := topology.Build([]*definition.Definition{def}, topology.Options{
		ApplicationID: ns, Functions: funcs, Serdes: opts.Serdes, Stdout: opts.Stdout,
	})
	if err != nil {
		return Error, err.Error()
	}
	now := opts.Now().UnixMilli()
	drv, err := testdriver.New(res.Topology, testdriver.Options{WallClockStart: now})
	if err != nil {
		return Error, err.Error()
	}
	defer drv.Close()
	serdes := map[string]streamSerdes{}
	serdesOf := func(key string) (streamSerdes, error) {
		if s, ok := serdes[key]; ok {
			return s, nil
		}
		s, err := bindingSerdes(opts.Serdes, suite.Stream(key))
		if err == nil {
			serdes[key] = s
		}
		return s, err
	}
	for _, pb := range tc.Produce {
		if err := produce(drv, suite, pb, serdesOf, env, now); err != nil {
			return Error, err.Error()
		}
	}
	records := map[string][]any{}
	for _, ab := range tc.Assert {
		var recs []any
		var pyStores map[string]python.Store
		if ab.On != "" {
			var ok bool
			if recs, ok = records[ab.On]; !ok {
				ss, err := serdesOf(ab.On)
				if err != nil {
					return Error, err.Error()
				}
				if recs, err = outputRecords(drv, suite.Stream(ab.On).Topic, ss); err != nil {
					return Error, err.Error()
				}
				records[ab.On] = recs
			}
		}
		for _, name := range ab.Stores {
			st, found := drv.Store(name)
			if !found {
				return Error, fmt.Sprintf("state store '%s' not found in topology", name)
			}
			ps, err := res.Stores.PythonStore(name, st)
			if err != nil {
				return Error, err.Error()
			}
			if pyStores == nil {
				pyStores = map[string]python.Store{}
			}
			pyStores[name] = ps
		}
		if err := env.assert(suite.File, ab, recs, pyStores); err != nil {
			var af *assertionFailure
			if errors.As(err, &af) {
				return Fail, af.msg
			}
			return Error, err.Error()
		}
	}
	return Pass, ""
}

func produce(drv *testdriver.Driver, suite *Suite, pb *ProduceBlock, serdesOf func(string) (streamSerdes, error), env *pyEnv, now int64) error {
	b := suite.Stream(pb.To)
	ss, err := serdesOf(pb.To)
	if err != nil {
		return err
	}
	send := func(key, value any, ts int64) error {
		key, err := convertMessage(key, ss.keyPrim)
		if err != nil {
			return fmt.Errorf("producing to '%s': key: %w", pb.To, err)
		}
		if value, err = convertMessage(value, ss.valuePrim); err != nil {
			return fmt.Errorf("producing to '%s': value: %w", pb.To, err)
		}
		// Serdes may add headers (the schema id in Apicurio's headers mode).
		var headers []streams.Header
		kb, err := ss.key.Serialize(b.Topic, &headers, key)
		if err != nil {
			return fmt.Errorf("producing to '%s': key: %w", pb.To, err)
		}
		vb, err := ss.value.Serialize(b.Topic, &headers, value)
		if err != nil {
			return fmt.Errorf("producing to '%s': value: %w", pb.To, err)
		}
		return drv.Pipe(b.Topic, kb, vb, ts, headers)
	}
	for _, m := range pb.Messages {
		ts := now
		if m.HasTimestamp {
			ts = m.Timestamp
		}
		if err := send(m.Key, m.Value, ts); err != nil {
			return err
		}
	}
	if pb.Generator == nil {
		return nil
	}
	gen, err := env.generator(suite.File, pb.Generator)
	if err != nil {
		return err
	}
	for i := int64(0); i < pb.Count; i++ {
		res, err := gen()
		if err != nil {
			return err
		}
		pairs, err := generatedPairs(res)
		if err != nil {
			return fmt.Errorf("generator %s: %w", pb.Generator.Name, err)
		}
		for _, p := range pairs {
			if err := send(p[0], p[1], now); err != nil {
				return err
			}
		}
	}
	return nil
}

// generatedPairs reads a generator result: a list of (key, value) tuples
// (a single tuple is accepted as a list of one).
func generatedPairs(res any) ([][2]any, error) {
	res, err := types.Resolve(res)
	if err != nil {
		return nil, err
	}
	var list []any
	switch x := res.(type) {
	case nil:
		return nil, nil
	case types.Tuple:
		list = []any{x}
	case []any:
		list = x
	default:
		return nil, fmt.Errorf("must return a list of (key, value) tuples, got %T", res)
	}
	out := make([][2]any, 0, len(list))
	for _, e := range list {
		switch t := e.(type) {
		case types.Tuple:
			if len(t) == 2 {
				out = append(out, [2]any{t[0], t[1]})
				continue
			}
		case []any:
			if len(t) == 2 {
				out = append(out, [2]any{t[0], t[1]})
				continue
			}
		}
		return nil, fmt.Errorf("list elements must be (key, value) tuples, got %v", topology.Format(e))
	}
	return out, nil
}

// outputRecords reads a topic's records as dicts {key, value, timestamp}.
func outputRecords(drv *testdriver.Driver, topic string, ss streamSerdes) ([]any, error) {
	raw := drv.ReadOutput(topic)
	out := make([]any, 0, len(raw))
	for _, r := range raw {
		k, err := ss.key.Deserialize(topic, r.Headers, r.Key)
		if err != nil {
			return nil, fmt.Errorf("reading topic '%s' (offset %d): key: %w", topic, r.Offset, err)
		}
		v, err := ss.value.Deserialize(topic, r.Headers, r.Value)
		if err != nil {
			return nil, fmt.Errorf("reading topic '%s' (offset %d): value: %w", topic, r.Offset, err)
		}
		rec := types.NewStruct(3)
		rec.Set("key", k)
		rec.Set("value", v)
		rec.Set("timestamp", r.Timestamp)
		out = append(out, rec)
	}
	return out, nil
}

// assertionFailure is an AssertionError raised by assertion code.
type assertionFailure struct{ msg string }

func (a *assertionFailure) Error() string { return a.msg }
