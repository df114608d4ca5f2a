package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// OracleClasspath returns the classpath of the built oracle (mvn package in
// conformance/kstreams writes target/classes and target/classpath.txt), or
// an error saying how to build it.
func OracleClasspath(dir string) (string, error) {
	cp, err := os.ReadFile(filepath.Join(dir, "target", "classpath.txt"))
	if err != nil {
		return "", fmt.Errorf("the oracle is not built (run mvn -q -B package in %s): %v", dir, err)
	}
	return filepath.Join(dir, "target", "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(cp)), nil
}

type oracleResult struct {
	Name    string   `json:"name"`
	Outputs []Output `json:"outputs"`
	Error   string   `json:"error"`
}

// Oracle is a running oracle JVM answering scenarios one line at a time.
type Oracle struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
}

// StartOracle starts the oracle JVM; Close stops it.
func StartOracle(classpath string) (*Oracle, error) {
	o := &Oracle{cmd: exec.Command("java", "-cp", classpath, "ksml.oracle.Oracle")}
	o.cmd.Stderr = &o.stderr
	var err error
	if o.stdin, err = o.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := o.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	o.out = bufio.NewScanner(stdout)
	o.out.Buffer(make([]byte, 1<<20), 1<<26)
	if err := o.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the oracle: %v", err)
	}
	return o, nil
}

// Close ends the JVM and waits for it.
func (o *Oracle) Close() error {
	o.stdin.Close()
	return o.cmd.Wait()
}

// Run runs scenarios and returns each one's outputs in order. Kafka
// Streams rejecting a scenario fails the batch, naming the scenario; the
// oracle dying is an error with its standard error.
func (o *Oracle) Run(scenarios ...*Scenario) ([][]Output, error) {
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(o.stdin)
		for _, s := range scenarios {
			c := *s
			c.Expected = nil
			w.Write(c.Marshal())
			w.WriteByte('\n')
		}
		werr <- w.Flush()
	}()
	res := make([][]Output, 0, len(scenarios))
	var failed error
	for range scenarios {
		if !o.out.Scan() {
			return nil, fmt.Errorf("oracle stopped after %d of %d scenarios: %v %s", len(res), len(scenarios), o.out.Err(), o.stderr.String())
		}
		var r oracleResult
		if err := json.Unmarshal(o.out.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("oracle output: %v", err)
		}
		i := len(res)
		if r.Name != scenarios[i].Name {
			return nil, fmt.Errorf("oracle output %d is for %q, out of step", i, r.Name)
		}
		if r.Error != "" && failed == nil {
			failed = fmt.Errorf("oracle on %s: %s", r.Name, r.Error)
		}
		if r.Outputs == nil {
			r.Outputs = []Output{}
		}
		if !ChangelogsCompared(scenarios[i]) {
			kept := r.Outputs[:0]
			for _, o := range r.Outputs {
				if !strings.HasPrefix(o.Topic, "changelog:") {
					kept = append(kept, o)
				}
			}
			r.Outputs = kept
		}
		res = append(res, r.Outputs)
	}
	if err := <-werr; err != nil {
		return nil, err
	}
	return res, failed
}

// Diff compares outputs exactly; it returns "" when they agree, otherwise
// both sequences with the first difference marked.
func Diff(want, got []Output) string {
	n := len(want)
	if len(got) > n {
		n = len(got)
	}
	first := -1
	for i := 0; i < n; i++ {
		if i >= len(want) || i >= len(got) || want[i].String() != got[i].String() {
			first = i
			break
		}
	}
	if first < 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at output %d\nkafka streams:\n", first)
	for i, o := range want {
		fmt.Fprintf(&b, "  %s%s\n", mark(i == first), o)
	}
	b.WriteString("ksml:\n")
	for i, o := range got {
		fmt.Fprintf(&b, "  %s%s\n", mark(i == first), o)
	}
	return b.String()
}

func mark(b bool) string {
	if b {
		return "> "
	}
	return "  "
}

// ReadFixtures reads scenarios, one JSON object per line.
func ReadFixtures(path string) ([]*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var s Scenario
		if err := json.Unmarshal(line, &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		if s.Expected == nil {
			s.Expected = []Output{}
		}
		out = append(out, &s)
	}
	return out, nil
}

// WriteFixtures writes scenarios with their expected outputs, one per line.
func WriteFixtures(path string, scenarios []*Scenario) error {
	var b bytes.Buffer
	for _, s := range scenarios {
		b.Write(s.Marshal())
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
