package conformance

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	update       = flag.Bool("update", false, "rewrite the fixtures' expected outputs with the oracle's (needs KSML_ORACLE=1)")
	seedFixtures = flag.Int("seed-fixtures", 0, "add N generated scenarios per family (seed 1) to testdata/<family>.jsonl (needs KSML_ORACLE=1)")
)

var (
	ksmlOnce sync.Once
	ksmlRun  *KSML
	ksmlErr  error
)

func ksmlRunner(t *testing.T) *KSML {
	t.Helper()
	ksmlOnce.Do(func() { ksmlRun, ksmlErr = NewKSML() })
	if ksmlErr != nil {
		t.Fatal(ksmlErr)
	}
	return ksmlRun
}

// oracle starts the Kafka Streams oracle when KSML_ORACLE=1 (.ci/oracle
// builds it first); without it the test is skipped.
func oracle(t *testing.T) *Oracle {
	t.Helper()
	if os.Getenv("KSML_ORACLE") != "1" {
		t.Skip("KSML_ORACLE=1 runs the Kafka Streams oracle (built by .ci/oracle); the fixtures are checked by TestFixtures")
	}
	cp, err := OracleClasspath("kstreams")
	if err != nil {
		t.Fatal(err)
	}
	o, err := StartOracle(cp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func fixtureFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata: %v", err)
	}
	return files
}

// TestFixtures runs every checked-in scenario through ksml and compares
// with the oracle's recorded outputs.
func TestFixtures(t *testing.T) {
	k := ksmlRunner(t)
	for _, f := range fixtureFiles(t) {
		scenarios, err := ReadFixtures(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range scenarios {
			got, err := k.Run(s)
			if err != nil {
				t.Errorf("%s %s: %v", filepath.Base(f), s.Name, err)
				continue
			}
			if d := Diff(s.Expected, got); d != "" {
				t.Errorf("%s %s %s %+v:\n%s", filepath.Base(f), s.Name, s.Family, s.Params, d)
			}
		}
	}
}

// TestOracleFixtures checks that the oracle still produces the recorded
// outputs (or rewrites them with -update).
func TestOracleFixtures(t *testing.T) {
	o := oracle(t)
	if *seedFixtures > 0 {
		rng := rand.New(rand.NewSource(1))
		for _, fam := range Families {
			path := filepath.Join("testdata", fam+".jsonl")
			existing, _ := ReadFixtures(path)
			for i := 0; i < *seedFixtures; i++ {
				existing = append(existing, Generate(rng, fam, fmt.Sprintf("%s-%03d", fam, len(existing)+1)))
			}
			if err := WriteFixtures(path, existing); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range fixtureFiles(t) {
		scenarios, err := ReadFixtures(f)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := o.Run(scenarios...)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for i, s := range scenarios {
			if d := Diff(s.Expected, outs[i]); d != "" {
				changed = true
				if !*update && *seedFixtures == 0 {
					t.Errorf("%s %s: the oracle's output differs from the fixture:\n%s", filepath.Base(f), s.Name, d)
				}
				s.Expected = outs[i]
			}
		}
		if changed && (*update || *seedFixtures > 0) {
			if err := WriteFixtures(f, scenarios); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestRandom compares ksml with the oracle on KSML_ORACLE_SCENARIOS random
// scenarios (default 500) spread over the families (KSML_ORACLE_FAMILIES,
// comma-separated, default all), seeded by
// KSML_ORACLE_SEED (default: the time, logged). Each disagreement is shrunk
// to a minimal scenario and saved in testdata/found.jsonl with the oracle's
// output, so TestFixtures keeps checking it.
func TestRandom(t *testing.T) {
	o := oracle(t)
	k := ksmlRunner(t)
	n := envInt("KSML_ORACLE_SCENARIOS", 500)
	seed := envInt("KSML_ORACLE_SEED", time.Now().UnixNano())
	t.Logf("seed %d, %d scenarios", seed, n)
	families := Families
	if v := os.Getenv("KSML_ORACLE_FAMILIES"); v != "" {
		families = strings.Split(v, ",")
	}
	rng := rand.New(rand.NewSource(seed))
	type stat struct{ run, agree int }
	stats := map[string]*stat{}
	type failure struct {
		s    *Scenario
		want []Output
	}
	var failures []failure
	const batch = 500
	gen := func(from int64) []*Scenario {
		m := min(n-from, batch)
		scenarios := make([]*Scenario, m)
		for i := range scenarios {
			fam := families[rng.Intn(len(families))]
			scenarios[i] = Generate(rng, fam, fmt.Sprintf("r%d-%d", seed, from+int64(i)))
		}
		return scenarios
	}
	type answer struct {
		outs [][]Output
		err  error
	}
	// The oracle answers the next batch while ksml runs this one.
	ask := func(scenarios []*Scenario) chan answer {
		ch := make(chan answer, 1)
		go func() {
			outs, err := o.Run(scenarios...)
			ch <- answer{outs, err}
		}()
		return ch
	}
	start := time.Now()
	scenarios := gen(0)
	pending := ask(scenarios)
	for done := int64(0); done < n; {
		a := <-pending
		if a.err != nil {
			t.Fatal(a.err)
		}
		current := scenarios
		done += int64(len(current))
		if done < n {
			scenarios = gen(done)
			pending = ask(scenarios)
		}
		for i, s := range current {
			st := stats[s.Family]
			if st == nil {
				st = &stat{}
				stats[s.Family] = st
			}
			st.run++
			got, kerr := k.Run(s)
			if kerr == nil && Diff(a.outs[i], got) == "" {
				st.agree++
			} else if len(failures) < 20 {
				failures = append(failures, failure{s, a.outs[i]})
			}
		}
	}
	var found []*Scenario
	for _, f := range failures {
		fails := func(c *Scenario) bool {
			w, err := o.Run(c)
			if err != nil {
				return false
			}
			g, err := k.Run(c)
			return err != nil || Diff(w[0], g) != ""
		}
		min := Shrink(f.s, fails)
		w, _ := o.Run(min)
		min.Expected = w[0]
		found = append(found, min)
		g, err := k.Run(min)
		t.Errorf("%s %s %+v disagrees (shrunk from %d to %d records; ksml error: %v):\n%s", min.Name, min.Family, min.Params,
			len(f.s.Records), len(min.Records), err, Diff(min.Expected, g))
	}
	fams := make([]string, 0, len(stats))
	for f := range stats {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	var b strings.Builder
	for _, f := range fams {
		fmt.Fprintf(&b, "%s %d/%d; ", f, stats[f].agree, stats[f].run)
	}
	t.Logf("agreement in %v: %s", time.Since(start).Round(time.Millisecond), b.String())
	if len(found) > 0 {
		path := filepath.Join("testdata", "found.jsonl")
		existing, _ := ReadFixtures(path)
		if err := WriteFixtures(path, append(existing, found...)); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %d shrunk scenarios to %s", len(found), path)
	}
}
