package runner_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/runner"
	"github.com/ksml-dev/ksml/internal/schemaregistry"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/testrunner"
	"github.com/ksml-dev/ksml/internal/topology"
	"github.com/ksml-dev/ksml/internal/types"
)

// TestSeedDefinitionsOnKafka runs every seed definition with the runner
// against the embedded broker, feeds it the inputs of the matching
// acceptance suite over Kafka and runs the suite's assertions on what the
// output topics hold.
func TestSeedDefinitionsOnKafka(t *testing.T) {
	kafkatest.Parallel(t)
	shared := needShared(t)
	suites, err := filepath.Glob(filepath.Join(shared, "acceptance/seed/*-test.yaml"))
	if err != nil || len(suites) == 0 {
		t.Fatalf("no seed suites: %v", err)
	}
	covered := map[string]bool{}
	for _, file := range suites {
		suite, err := testrunner.ParseSuite(file)
		if err != nil {
			t.Fatal(err)
		}
		covered[filepath.Base(suite.Definition)] = true
		for _, tc := range suite.Tests {
			t.Run(strings.TrimSuffix(filepath.Base(file), "-test.yaml")+"/"+tc.Key, func(t *testing.T) {
				kafkatest.Parallel(t) // each case has its own broker and registry
				runSeedCase(t, suite, tc)
			})
		}
	}
	defs, _ := filepath.Glob(filepath.Join(shared, "acceptance/seed/definitions/*.yaml"))
	for _, d := range defs {
		if !covered[filepath.Base(d)] {
			t.Errorf("seed definition %s has no suite, so it is not run", filepath.Base(d))
		}
	}
}

func runSeedCase(t *testing.T, suite *testrunner.Suite, tc *testrunner.TestCase) {
	b := startBroker(t)
	mem, url := startRegistry(t)
	rr := startSeedRunner(t, b.Bootstrap, url, "seed-"+strings.ReplaceAll(tc.Key, " ", "_"), suite)
	feedAndAssert(t, rr, b.Bootstrap, mem, suite, tc)
	if err := rr.stop(t); err != nil {
		t.Fatalf("runner stopped with: %v", err)
	}
	if st := rr.r.State(); st != runner.Stopped {
		t.Errorf("state after stop = %s, want STOPPED", st)
	}
}

func suiteSchemaDir(suite *testrunner.Suite) string {
	dir := filepath.Dir(suite.File)
	if suite.SchemaDirectory != "" {
		return filepath.Join(dir, suite.SchemaDirectory)
	}
	return dir
}

// startSeedRunner runs the definitions of suites (one namespace each, one
// topology) from a runner configuration.
func startSeedRunner(t *testing.T, bootstrap, registryURL, appID string, suites ...*testrunner.Suite) *running {
	t.Helper()
	work := t.TempDir()
	var defs strings.Builder
	schemaDir := suiteSchemaDir(suites[0])
	for i, suite := range suites {
		if suite.SchemaDirectory != "" {
			schemaDir = suiteSchemaDir(suite)
		}
		fmt.Fprintf(&defs, "    seed%d: %q\n", i, filepath.Join(filepath.Dir(suite.File), suite.Definition))
	}
	cfg := runnerConfig(t, work, fmt.Sprintf(
		"  configDirectory: %q\n  schemaDirectory: %q\n  storageDirectory: %q\n  definitions:\n%s",
		filepath.Dir(suites[0].File), schemaDir, work, defs.String()),
		map[string]string{"bootstrap.servers": bootstrap, "application.id": appID,
			"schema.registry.url": registryURL, "commit.interval.ms": "100"})
	return startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work})
}

// feedAndAssert produces a test case's messages over Kafka, waits until the
// runner consumed them and runs the case's assertions on the output topics.
func feedAndAssert(t *testing.T, rr *running, bootstrap string, mem *schemaregistry.Memory, suite *testrunner.Suite, tc *testrunner.TestCase) {
	t.Helper()
	serdes := testSerdes(t, mem, suiteSchemaDir(suite))
	cl := newClient(t, bootstrap)
	now := time.Now().UnixMilli()
	inputs := map[string]int64{}
	for _, pb := range tc.Produce {
		if pb.Generator != nil {
			t.Skip("generator inputs are exercised by the producer tests")
		}
		bind := suite.Stream(pb.To)
		ks, vs := bindingSerdes(t, serdes, bind)
		for _, m := range pb.Messages {
			ts := now
			if m.HasTimestamp {
				ts = m.Timestamp
			}
			kb, err := ks.Serialize(bind.Topic, nil, m.Key)
			if err != nil {
				t.Fatal(err)
			}
			vb, err := vs.Serialize(bind.Topic, nil, m.Value)
			if err != nil {
				t.Fatal(err)
			}
			produce(t, cl, &kgo.Record{Topic: bind.Topic, Partition: 0, Key: kb, Value: vb, Timestamp: time.UnixMilli(ts)})
			inputs[bind.Topic]++
		}
	}
	// Offsets are committed only after the output they caused is flushed,
	// so committed inputs mean complete outputs.
	for topic, n := range inputs {
		waitFor(t, "the runner to commit "+topic, 20*time.Second, func() bool {
			return committedOffset(t, cl, rr.r.ApplicationID(), topic, 0) >= n
		})
	}
	for _, ab := range tc.Assert {
		if len(ab.Stores) > 0 {
			t.Fatalf("store assertions are not supported by this test")
		}
		var records []any
		if ab.On != "" {
			bind := suite.Stream(ab.On)
			ks, vs := bindingSerdes(t, serdes, bind)
			for _, r := range readAll(t, bootstrap, bind.Topic, 0, 700*time.Millisecond) {
				k, err := ks.Deserialize(bind.Topic, nil, r.Key)
				if err != nil {
					t.Fatalf("%s offset %d: key: %v", bind.Topic, r.Offset, err)
				}
				v, err := vs.Deserialize(bind.Topic, nil, r.Value)
				if err != nil {
					t.Fatalf("%s offset %d: value: %v", bind.Topic, r.Offset, err)
				}
				rec := types.NewStruct(3)
				rec.Set("key", k)
				rec.Set("value", v)
				rec.Set("timestamp", r.Timestamp.UnixMilli())
				records = append(records, rec)
			}
		}
		if err := runAssertion(suite.File, ab, records); err != nil {
			t.Errorf("%s: assertion on %s failed: %v", suite.Name, ab.On, err)
		}
	}
}

// TestSeedDefinitionsInOneRunner runs several seed definitions as one
// application (one topology, a namespace each), as a runner configuration
// with several definitions does, and checks each suite on it.
func TestSeedDefinitionsInOneRunner(t *testing.T) {
	kafkatest.Parallel(t)
	shared := needShared(t)
	var suites []*testrunner.Suite
	for _, name := range []string{"cqrs", "cdc", "service-discovery", "service-to-service", "error-handling"} {
		s, err := testrunner.ParseSuite(filepath.Join(shared, "acceptance/seed", name+"-test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		suites = append(suites, s)
	}
	b := startBroker(t)
	mem, url := startRegistry(t)
	rr := startSeedRunner(t, b.Bootstrap, url, "seeds", suites...)
	for _, s := range suites {
		for _, tc := range s.Tests {
			feedAndAssert(t, rr, b.Bootstrap, mem, s, tc)
		}
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
}

func testSerdes(t *testing.T, mem *schemaregistry.Memory, schemaDir string) topology.NotationSerdes {
	reg, err := environment.New(environment.Config{Notations: environment.TestRunnerNotations(mem), SchemaDirs: []string{schemaDir}})
	if err != nil {
		t.Fatal(err)
	}
	return topology.NotationSerdes{Registry: reg}
}

func bindingSerdes(t *testing.T, p topology.NotationSerdes, b *testrunner.StreamBinding) (streams.Serde, streams.Serde) {
	t.Helper()
	kt, err := types.ParseUserType(b.KeyType)
	if err != nil {
		t.Fatal(err)
	}
	vt, err := types.ParseUserType(b.ValueType)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := p.Serde(kt, true)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := p.Serde(vt, false)
	if err != nil {
		t.Fatal(err)
	}
	return ks, vs
}

// runAssertion runs a suite's assertion code with the records read from
// Kafka, as the test runner runs it with the driver's output.
func runAssertion(file string, ab *testrunner.AssertBlock, records []any) error {
	in, err := python.Init(python.Options{})
	if err != nil {
		return err
	}
	m, err := in.NewModule("assertions", file, nil)
	if err != nil {
		return err
	}
	spec := python.FunctionSpec{Name: "assertions", Type: "generic", ResultType: "null",
		Code: python.Source{Text: ab.Code, File: file, Line: ab.Line}}
	var args []any
	if ab.On != "" {
		spec.Parameters = []python.Parameter{{Name: "records", Type: "?"}}
		args = append(args, records)
	}
	f, err := m.Define(spec)
	if err != nil {
		return err
	}
	_, err = f.Call(nil, args...)
	var fe *python.FunctionError
	if errors.As(err, &fe) && fe.Type == "AssertionError" {
		return fmt.Errorf("AssertionError: %s (records: %s)", fe.Message, topology.Format(records))
	}
	return err
}
