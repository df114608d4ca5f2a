package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/bench/events"
	"github.com/ksml-dev/ksml/bench/workload"
)

const (
	inputTopic = "peers-events"
	// scalingTopic holds the same events in two partitions (by key, as
	// Kafka's default partitioner places them): two tasks, so two stream
	// threads each get one.
	scalingTopic = "peers-events-2p"
)

// scalingWorkloads are the workloads of the scaling runs (-scaling): one
// without Python, the Python one, and the stateful one.
var scalingWorkloads = map[string]bool{"passthrough": true, "python_map": true, "count": true}

// threadSystems are the systems of the scaling runs: ksml and Kafka Streams
// (tuned) with num.stream.threads 1 and 2, on scalingTopic.
var threadSystems = []string{"ksml_t1", "ksml_t2", "kafka_streams_tuned_t1", "kafka_streams_tuned_t2"}

// splitThreads splits a scaling system name into the system and its
// num.stream.threads (0 for the single-partition runs).
func splitThreads(sys string) (string, int) {
	for _, n := range []int{1, 2} {
		if base, ok := strings.CutSuffix(sys, fmt.Sprintf("_t%d", n)); ok {
			return base, n
		}
	}
	return sys, 0
}

// env is one benchmark session: the broker, the built systems and the
// scratch directory.
type env struct {
	cfg       config
	root      string // repository root
	work      string // scratch directory
	bootstrap string
	adm       *kadm.Client
	cl        *kgo.Client
	ksmlBin   string
	javaCP    string // classpath of the Kafka Streams apps; "" when not built
	self      string // this executable, for the raw worker
	pythonLib string // python of the Quix Streams venv; "" when absent
	expected  map[string]int
	seq       int
	leftOut   map[string]string
}

func (e *env) say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "peers: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	e := &env{cfg: cfg, leftOut: map[string]string{}}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return fmt.Errorf("run from inside the ksml module (go env GOMOD: %v)", err)
	}
	e.root = filepath.Dir(strings.TrimSpace(string(out)))
	if e.work, err = os.MkdirTemp("", "ksml-peers-"); err != nil {
		return err
	}
	defer os.RemoveAll(e.work)
	if e.self, err = os.Executable(); err != nil {
		return err
	}
	if err := e.build(ctx); err != nil {
		return err
	}
	if err := e.startBroker(ctx); err != nil {
		return err
	}
	defer e.stopBroker()
	if err := e.fill(ctx); err != nil {
		return err
	}

	// One unmeasured run of each system first, so no system pays for a
	// cold page cache (its binary, jars, Python modules) in round 1: ksml
	// runs first in every round and would otherwise pay alone.
	for _, w := range workloads {
		if cfg.only != nil && !cfg.only[w] {
			continue
		}
		for _, sys := range e.systemsFor(w) {
			if _, n := splitThreads(sys); n > 0 || ctx.Err() != nil {
				continue
			}
			e.say("warm-up: %s on %s", sys, w)
			if _, err := e.measure(ctx, w, sys); err != nil {
				e.say("  warm-up failed: %v", err)
			}
		}
		break
	}

	rounds := map[string]map[string][]metrics{}
	failed := map[string]string{}
	for r := 1; r <= cfg.rounds; r++ {
		for _, w := range workloads {
			if cfg.only != nil && !cfg.only[w] {
				continue
			}
			for _, sys := range e.systemsFor(w) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				e.say("round %d: %s on %s", r, sys, w)
				m, err := e.measure(ctx, w, sys)
				if err != nil {
					e.say("  failed: %v", err)
					failed[w+"/"+sys] = err.Error()
					continue
				}
				e.say("  %.0f records/s, %.1f µs CPU/record, %.1f MiB peak RSS, first output after %.0f ms", m.RPS, m.CPUus, m.RSSMB, m.StartupMS)
				if rounds[w] == nil {
					rounds[w] = map[string][]metrics{}
				}
				rounds[w][sys] = append(rounds[w][sys], m)
			}
		}
	}
	res := summarize(rounds)
	if !cfg.json {
		writeTable(os.Stdout, res)
		fmt.Println()
	}
	return writeJSON(os.Stdout, report{Records: cfg.records, Rounds: cfg.rounds, Results: res, Ratios: ratios(res),
		Scaling: scaling(res), Failed: failed, LeftOut: e.leftOut})
}

// build builds the ksml binary and the Kafka Streams apps, and finds the
// Python library's venv.
func (e *env) build(ctx context.Context) error {
	built := filepath.Join(e.work, "ksml-build-output")
	e.say("building %s", built)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", built, "./cmd/ksml")
	cmd.Dir = e.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building ksml: %w\n%s", err, out)
	}
	// Measured as users run it: installed, not where the linker left it
	// (workload.InstallBinary says why that differs).
	e.ksmlBin = filepath.Join(e.work, "ksml")
	if err := workload.InstallBinary(built, e.ksmlBin); err != nil {
		return err
	}
	if e.wants("kafka_streams") || e.wants("kafka_streams_tuned") {
		dir := filepath.Join(e.root, "bench/peers/kstreams")
		e.say("building the Kafka Streams apps (mvn package in %s)", dir)
		cmd = exec.CommandContext(ctx, "mvn", "-q", "-B", "package", "-DskipTests")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building the Kafka Streams apps: %w\n%s", err, out)
		}
		cp, err := os.ReadFile(filepath.Join(dir, "target/classpath.txt"))
		if err != nil {
			return err
		}
		e.javaCP = filepath.Join(dir, "target/classes") + ":" + strings.TrimSpace(string(cp))
	}
	e.leftOut["upstream_ksml"] = "not built: see docs/performance.md (upstream KSML needs GraalPy/GraalVM artifacts and repositories beyond Maven Central)"
	py := pythonLibPython()
	if _, err := os.Stat(py); err == nil {
		e.pythonLib = py
	} else if e.wants("python_lib") {
		e.leftOut["python_lib"] = "no venv at " + filepath.Dir(filepath.Dir(py)) + " (see docs/performance.md to create it)"
	}
	return nil
}

func (e *env) wants(sys string) bool { return e.cfg.peers == nil || e.cfg.peers[sys] }

// systemsFor lists the systems that run workload w, ksml first.
func (e *env) systemsFor(w string) []string {
	var out []string
	for _, s := range []string{self, "kafka_streams", "kafka_streams_tuned", "raw", "python_lib"} {
		if !e.wants(s) {
			continue
		}
		switch s {
		case "kafka_streams", "kafka_streams_tuned":
			if e.javaCP == "" {
				continue
			}
		case "python_lib":
			if e.pythonLib == "" || w != "python_map" {
				continue
			}
		}
		out = append(out, s)
	}
	if e.cfg.scaling && scalingWorkloads[w] {
		for _, s := range threadSystems {
			if base, _ := splitThreads(s); base != self && e.javaCP == "" {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

func (e *env) startBroker(ctx context.Context) error {
	e.say("starting Apache Kafka with scripts/kafka start")
	cmd := exec.CommandContext(ctx, filepath.Join(e.root, "scripts/kafka"), "start")
	cmd.Env = e.kafkaEnv()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("scripts/kafka start: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	e.bootstrap = strings.TrimSpace(lines[len(lines)-1])
	if e.bootstrap == "" {
		return errors.New("scripts/kafka start printed no bootstrap servers")
	}
	e.say("broker at %s", e.bootstrap)
	if e.cl, err = kgo.NewClient(kgo.SeedBrokers(e.bootstrap)); err != nil {
		return err
	}
	e.adm = kadm.NewClient(e.cl)
	return nil
}

// kafkaEnv gives scripts/kafka a state directory of this run's own (unless
// KSML_KAFKA_STATE is set), so a cluster other tests run is left alone.
func (e *env) kafkaEnv() []string {
	env := os.Environ()
	if os.Getenv("KSML_KAFKA_STATE") == "" {
		env = append(env, "KSML_KAFKA_STATE="+filepath.Join(e.work, "kafka"))
	}
	return env
}

func (e *env) stopBroker() {
	if e.cl != nil {
		e.cl.Close()
	}
	cmd := exec.Command(filepath.Join(e.root, "scripts/kafka"), "stop")
	cmd.Env = e.kafkaEnv()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		e.say("scripts/kafka stop: %v", err)
	}
}

// fill creates the input topic (one partition, as in bench/) and writes the
// events to it once; every run reads it from the start with a fresh
// application id. Record timestamps advance by 1µs, as in bench/.
func (e *env) fill(ctx context.Context) error {
	if err := e.createTopic(ctx, inputTopic); err != nil {
		return err
	}
	evs := events.Make(e.cfg.records)
	e.expected = map[string]int{"passthrough": len(evs), "python_map": len(evs), "count": len(evs), "window_count": len(evs)}
	now := time.Now()
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		recs[i] = &kgo.Record{Topic: inputTopic, Key: ev.Key, Value: ev.Value, Timestamp: now.Add(time.Duration(i) * time.Microsecond)}
		var v struct {
			EventType string `json:"eventType"`
		}
		if err := json.Unmarshal(ev.Value, &v); err != nil {
			return err
		}
		if v.EventType != "USER_SUSPENDED" {
			e.expected["filter_map"]++
		}
	}
	e.say("writing %d events to %s", len(recs), inputTopic)
	if err := e.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return err
	}
	if e.cfg.scaling {
		res, err := e.adm.CreateTopics(ctx, 2, 1, nil, scalingTopic)
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			return err
		}
		for _, r := range recs {
			r.Topic = scalingTopic
		}
		e.say("writing %d events to %s (2 partitions)", len(recs), scalingTopic)
		if err := e.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
	}
	// Looking up a group coordinator makes the broker create its offsets
	// topic now, so the first system measured does not pay for it.
	return waitCoordinator(ctx, e.adm)
}

func waitCoordinator(ctx context.Context, adm *kadm.Client) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := adm.FindGroupCoordinators(ctx, "peers-warmup")
		var err error
		for _, r := range res {
			err = r.Err
		}
		if err == nil && len(res) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no group coordinator within 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // polling the broker, not synchronising tests
	}
}

func (e *env) createTopic(ctx context.Context, topic string) error {
	res, err := e.adm.CreateTopics(ctx, 1, 1, nil, topic)
	if err != nil {
		return err
	}
	return res.Error()
}

// proc is a started system under measurement.
type proc struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

// start starts the process of system sys for workload w, reading the input
// topic and writing out.
// startApp is start that also returns the application id, which is the
// consumer group of every system.
func (e *env) startApp(w, sys, out string) (*proc, string, error) {
	e.seq++
	appID := fmt.Sprintf("peers-%s-%s-%d", strings.ReplaceAll(w, "_", "-"), strings.ReplaceAll(sys, "_", "-"), e.seq)
	dir := filepath.Join(e.work, appID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	var cmd *exec.Cmd
	base, threads := splitThreads(sys)
	in := inputTopic
	if threads > 0 {
		in = scalingTopic
	}
	switch base {
	case self:
		def, err := workload.KSML(w, in, out)
		if err != nil {
			return nil, "", err
		}
		defPath, cfgPath := filepath.Join(dir, w+".yaml"), filepath.Join(dir, "ksml-runner.yaml")
		cfg := fmt.Sprintf("ksml:\n  configDirectory: %q\n  schemaDirectory: %q\n  storageDirectory: %q\nkafka:\n  bootstrap.servers: %q\n  application.id: %q\n",
			dir, dir, dir, e.bootstrap, appID)
		if threads > 0 {
			cfg += fmt.Sprintf("  num.stream.threads: \"%d\"\n", threads)
		}
		if err := os.WriteFile(defPath, []byte(def), 0o644); err != nil {
			return nil, "", err
		}
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return nil, "", err
		}
		cmd = exec.Command(e.ksmlBin, "run", "-c", cfgPath, defPath)
		cmd.Env = append(os.Environ(), "KSML_LOG_LEVEL=warn")
	case "kafka_streams", "kafka_streams_tuned":
		args := []string{"-cp", e.javaCP, "ksml.peers." + javaApps[w], e.bootstrap, appID, in, out, dir}
		if base == "kafka_streams_tuned" {
			args = append(args, tunedKafkaStreams...)
		}
		if threads > 0 {
			args = append(args, fmt.Sprintf("num.stream.threads=%d", threads))
		}
		cmd = exec.Command(javaBin(), args...)
	case "raw":
		cmd = exec.Command(e.self, rawWorkerArg, w, e.bootstrap, inputTopic, out, appID)
	case "python_lib":
		script := filepath.Join(dir, "quix_map.py")
		if err := os.WriteFile(script, []byte(quixScript), 0o644); err != nil {
			return nil, "", err
		}
		cmd = exec.Command(e.pythonLib, script, e.bootstrap, appID, inputTopic, out, dir)
	default:
		return nil, "", fmt.Errorf("unknown system %q", sys)
	}
	cmd.Dir = dir
	p := &proc{cmd: cmd, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", sys, err)
	}
	go func() { p.exited <- cmd.Wait() }()
	return p, appID, nil
}

// stop sends SIGTERM and waits, then kills.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// javaApps names the Kafka Streams app of each workload.
var javaApps = map[string]string{"passthrough": "Passthrough", "python_map": "PythonMap", "filter_map": "FilterMap",
	"count": "Count", "window_count": "WindowCount"}

// tunedKafkaStreams are the settings of kafka_streams_tuned: no record
// cache (every update is forwarded, as ksml does) and a short commit
// interval, so stateful results leave as soon as they are computed.
var tunedKafkaStreams = []string{"statestore.cache.max.bytes=0", "commit.interval.ms=100"}

func javaBin() string {
	for _, j := range []string{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "/usr/lib/jvm/openjdk-17/bin/java"} {
		if _, err := os.Stat(j); err == nil {
			return j
		}
	}
	return "java"
}

// measure runs system sys on workload w once. The output topic is new, so
// every record on it is this run's; it stamps records with the broker's
// append time, so when output was written does not depend on when the
// harness fetched it. Completion: all expected records for the stateless
// workloads; for the counts, when the latest count per output key adds up
// to the number of input records (this also works when a record cache
// folds several updates into one). See clock for what is timed.
func (e *env) measure(ctx context.Context, w, sys string) (metrics, error) {
	out := fmt.Sprintf("peers-out-%d", e.seq+1)
	appendTime := "LogAppendTime"
	res, err := e.adm.CreateTopics(ctx, 1, 1, map[string]*string{"message.timestamp.type": &appendTime}, out)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return metrics{}, err
	}
	watch, err := kgo.NewClient(kgo.SeedBrokers(e.bootstrap),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{out: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(20*time.Millisecond))
	if err != nil {
		return metrics{}, err
	}
	defer watch.Close()
	t0 := time.Now()
	p, group, err := e.startApp(w, sys, out)
	if err != nil {
		return metrics{}, err
	}
	defer p.stop()
	pid := p.cmd.Process.Pid
	fail := func(err error) (metrics, error) {
		return metrics{}, fmt.Errorf("%w\n%s output:\n%s", err, sys, tail(p.out.String(), 15))
	}
	assigned := e.watchAssignment(ctx, group, pid)

	n := e.cfg.records
	want := e.expected[w]
	counting := w == "count" || w == "window_count"
	latest := map[string]int64{}
	// progress counts the input records accounted for by the output so
	// far: output records for the stateless workloads, the sum of the
	// latest counts for the counting ones.
	var progress int64
	var first, done time.Time
	seen := 0
	deadline := t0.Add(120*time.Second + time.Duration(n)*time.Millisecond)
	for done.IsZero() {
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("timed out with %d output records (progress %d) of %d", seen, progress, want))
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fail(fmt.Errorf("exited early: %v", err))
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := watch.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return metrics{}, ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			if first.IsZero() {
				first = r.Timestamp
			}
			if counting {
				c, err := countValue(r.Value)
				if err != nil {
					return
				}
				k := string(r.Key)
				progress += c - latest[k]
				latest[k] = c
			} else {
				progress++
			}
			if done.IsZero() && progress >= int64(want) {
				done = r.Timestamp
			}
		})
	}
	cpuDone, err := cpuTicks(pid)
	if err != nil {
		return fail(err)
	}
	hwm, err := peakRSSKB(pid)
	if err != nil {
		return fail(err)
	}
	var a assignment
	select {
	case a = <-assigned:
	case <-time.After(5 * time.Second):
		return fail(fmt.Errorf("group %s was never seen stable with members", group))
	}
	if a.err != nil {
		return fail(a.err)
	}
	m := clock(t0, a.at, first, done, a.cpu, cpuDone, int64(n))
	m.RSSMB = float64(hwm) / 1024
	return m, nil
}

// assignment is when a system's consumer group first had its partitions,
// with the process's CPU ticks at that moment.
type assignment struct {
	at  time.Time
	cpu int64
	err error
}

// watchAssignment polls the group until it is Stable with members (the
// classic protocol's state once every member has its assignment) and
// reports that moment once.
func (e *env) watchAssignment(ctx context.Context, group string, pid int) <-chan assignment {
	ch := make(chan assignment, 1)
	go func() {
		deadline := time.Now().Add(120 * time.Second)
		for ctx.Err() == nil && time.Now().Before(deadline) {
			dg, err := e.adm.DescribeGroups(ctx, group)
			if err == nil {
				if g, ok := dg[group]; ok && g.Err == nil && g.State == "Stable" && len(g.Members) > 0 {
					cpu, err := cpuTicks(pid)
					ch <- assignment{at: time.Now(), cpu: cpu, err: err}
					return
				}
			}
			time.Sleep(10 * time.Millisecond) // polling the broker
		}
		ch <- assignment{err: fmt.Errorf("group %s not stable within 120s", group)}
	}()
	return ch
}

// clock computes a run's metrics. Every system is timed the same way,
// whatever it does before it consumes and however it batches its output:
//   - RPS: the n input records ÷ the time from the moment its consumer
//     group first had its partitions (assigned: JVM or interpreter start,
//     connecting and joining excluded) to the broker's append time of the
//     output record that completed the work (done);
//   - CPUus: the process's CPU ticks over the same span, per input record;
//   - StartupMS: from starting the process (t0) to the broker's append time
//     of the first output record.
func clock(t0, assigned, first, done time.Time, cpuAssigned, cpuDone, n int64) metrics {
	var m metrics
	if !first.IsZero() {
		m.StartupMS = float64(first.Sub(t0).Microseconds()) / 1000
	}
	if d := done.Sub(assigned); d > 0 && n > 0 && !assigned.IsZero() {
		m.RPS = float64(n) / d.Seconds()
		m.CPUus = float64(cpuDone-cpuAssigned) * (1e6 / clockTicks) / float64(n)
	}
	return m
}

// countValue decodes a count: 8-byte big-endian (Kafka's LongSerializer) or
// decimal text.
func countValue(v []byte) (int64, error) {
	if len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	return strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// cpuTicks returns utime+stime of a running process, all threads.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + st, nil
}

// peakRSSKB returns VmHWM of a running process in kB.
func peakRSSKB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the peak RSS of process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
