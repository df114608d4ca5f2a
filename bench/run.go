package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/broker"
)

// Topic names. The input is the topic the seed's CQRS definition reads, so
// every measurement reads the very same records; each writes its own
// output topic.
const (
	inputTopic       = "write-events"
	rawOutTopic      = "raw-out"
	passthroughTopic = "passthrough-out"
	cqrsOutTopic     = "read-model"
	statefulTopic    = "stateful-count-out"
)

// env is what the measurements share: the broker, the input records and a
// scratch directory.
type env struct {
	cfg config
	log *slog.Logger
	say func(string, ...any)
	// bootstrap is the broker's address: the embedded broker this
	// process starts, or -bootstrap.
	bootstrap string
	admin     *kgo.Client
	adm       *kadm.Client
	events    []event
	work      string
	cqrsDef   string
	warmup    int
	runCount  int
}

// run sets up the broker and the data and runs the chosen measurements.
func run(ctx context.Context, cfg config, log *slog.Logger, say func(string, ...any)) (*results, error) {
	e := &env{cfg: cfg, log: log, say: say}
	e.warmup = max(min(cfg.records/10, 20000), min(cfg.records, 1000))

	cqrs, err := filepath.Abs(filepath.Join(cfg.shared, "acceptance/seed/definitions/cqrs.yaml"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cqrs); err != nil && (cfg.wants(mRawPython) || cfg.wants(mPythonPipeline) || cfg.wants(mStartup)) {
		return nil, fmt.Errorf("the seed's CQRS definition is needed (-shared): %w", err)
	}
	e.cqrsDef = cqrs

	if e.work, err = os.MkdirTemp("", "ksml-bench-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(e.work)

	say("generating %d events", cfg.records)
	e.events = makeEvents(cfg.records)
	res := newResults(cfg.records, meanValueSize(e.events))

	if e.bootstrap = cfg.bootstrap; e.bootstrap == "" {
		b, err := broker.Start(ctx, broker.Options{Listen: "127.0.0.1:0", MaintenanceInterval: -1, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("starting the embedded broker: %w", err)
		}
		defer b.Close()
		e.bootstrap = b.BootstrapServers()
	}
	if e.admin, err = kgo.NewClient(kgo.SeedBrokers(e.seeds()...)); err != nil {
		return nil, err
	}
	defer e.admin.Close()
	e.adm = kadm.NewClient(e.admin)
	if err := e.createTopics(ctx, inputTopic, rawOutTopic, passthroughTopic, cqrsOutTopic, statefulTopic); err != nil {
		return nil, err
	}
	say("filling %s", inputTopic)
	if err := e.fill(ctx); err != nil {
		return nil, err
	}

	// A binary to start is built first, so building does not compete with
	// the measurements.
	var built, bin string
	if cfg.wants(mStartup) || cfg.wants(mMemory) {
		if built, err = e.ksmlBinary(ctx); err != nil {
			return nil, err
		}
		if bin, err = e.install(built); err != nil {
			return nil, err
		}
	}

	// The in-process measurements run in rounds, interleaved, so a burst of
	// load from elsewhere on the machine hits one round of each rather
	// than all rounds of one; each keeps its best round.
	var passthroughDef string
	if cfg.wants(mPassthrough) {
		if passthroughDef, err = e.passthroughDefinition(); err != nil {
			return nil, err
		}
	}
	var statefulDef string
	if cfg.wants(mStatefulCount) || cfg.wants(mMemory) {
		if statefulDef, err = e.statefulCountDefinition(); err != nil {
			return nil, err
		}
	}
	steps := []struct {
		name string
		out  string // output topic, emptied after each run ("" for none)
		fn   func(n int) (sample, error)
		rps  *float64
		cpu  *float64
	}{
		{mRawKafka, rawOutTopic, e.rawKafka, &res.RawKafkaRPS, &res.RawKafkaCPU},
		{mPassthrough, passthroughTopic, func(n int) (sample, error) { return e.runPipeline(ctx, passthroughDef, passthroughTopic, n) },
			&res.PassthroughRPS, &res.PassthroughCPU},
		{mRawPython, "", e.rawPython, &res.RawPythonRPS, &res.RawPythonCPU},
		{mPythonPipeline, cqrsOutTopic, func(n int) (sample, error) { return e.runPipeline(ctx, e.cqrsDef, cqrsOutTopic, n) },
			&res.PythonPipelineRPS, &res.PythonPipelineCPU},
		{mStatefulCount, statefulTopic, func(n int) (sample, error) { return e.runPipeline(ctx, statefulDef, statefulTopic, n) },
			&res.StatefulCountRPS, &res.StatefulCountCPU},
	}
	for round := 1; round <= cfg.rounds; round++ {
		for _, st := range steps {
			if !cfg.wants(st.name) {
				continue
			}
			fn := st.fn
			if st.out != "" {
				out := st.out
				fn = func(n int) (sample, error) {
					sm, err := st.fn(n)
					if err == nil {
						err = e.truncate(ctx, out)
					}
					return sm, err
				}
			}
			sm, err := e.measure(st.name, round, fn)
			if err != nil {
				return nil, err
			}
			if sm.rps > *st.rps {
				*st.rps = sm.rps
			}
			if us := float64(sm.cpu.Nanoseconds()) / 1000; *st.cpu == 0 || us < *st.cpu {
				*st.cpu = us
			}
		}
	}
	if cfg.wants(mStartup) {
		say("startup: running %s on the CQRS definition", bin)
		st, err := e.startup(ctx, bin)
		if err != nil {
			return nil, fmt.Errorf("startup: %w", err)
		}
		res.StartupMS, res.RSSMB, res.BinaryPythonRPS = st.startupMS, st.rssMB, st.rps
		say("startup: running %s, as the build left it, on the CQRS definition", built)
		if st, err = e.startup(ctx, built); err != nil {
			return nil, fmt.Errorf("startup (build output): %w", err)
		}
		res.RSSMBBuildOutput = st.rssMB
	}
	if cfg.wants(mSoak) {
		say("soak: %v", cfg.soak)
		sk, err := e.soak(cfg.soak)
		if err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
		res.SoakCalls, res.SoakStartMB, res.SoakEndMB, res.SoakMaxMB = sk.calls, sk.startMB, sk.endMB, sk.max
	}
	if cfg.wants(mMemory) {
		points := []int{cfg.records, cfg.long}
		cq, err := e.memory(ctx, bin, e.cqrsDef, cqrsOutTopic, cfg.long, points)
		if err != nil {
			return nil, fmt.Errorf("memory (CQRS): %w", err)
		}
		sf, err := e.memory(ctx, bin, statefulDef, statefulTopic, cfg.long, points)
		if err != nil {
			return nil, fmt.Errorf("memory (stateful count): %w", err)
		}
		res.RSSMB, res.RSSAnonMB, res.RSSMBLong, res.RSSAnonMBLong = cq[0].hwmMB, cq[0].anonMB, cq[1].hwmMB, cq[1].anonMB
		res.StatefulRSSMB, res.StatefulRSSAnonMB = sf[0].hwmMB, sf[0].anonMB
		res.StatefulRSSMBLong, res.StatefulRSSAnonMBLong = sf[1].hwmMB, sf[1].anonMB
	}
	res.derive()
	return res, nil
}

// measure runs fn over all records and returns its rate. In the first
// round a run over the warm-up records comes first. With -cpuprofile the
// last round is profiled.
func (e *env) measure(name string, round int, fn func(n int) (sample, error)) (sample, error) {
	if round == 1 {
		e.say("%s: warm-up over %d records", name, e.warmup)
		if _, err := fn(e.warmup); err != nil {
			return sample{}, fmt.Errorf("%s (warm-up): %w", name, err)
		}
	}
	e.say("%s: round %d, %d records", name, round, e.cfg.records)
	if e.cfg.cpuProfile != "" && round == e.cfg.rounds {
		f, err := os.Create(e.cfg.cpuProfile + "." + name + ".pprof")
		if err != nil {
			return sample{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return sample{}, err
		}
		defer pprof.StopCPUProfile()
	}
	sm, err := fn(e.cfg.records)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", name, err)
	}
	e.say("%s: %.0f records/s, %.2f us process CPU per record", name, sm.rps, float64(sm.cpu.Nanoseconds())/1000)
	return sm, nil
}

// window is the start of a timed section: wall clock and process CPU.
type window struct {
	wall time.Time
	cpu  time.Duration
}

// sample is what one timed run over n records measured.
type sample struct {
	rps float64
	// cpu is the CPU time the whole process (broker, clients, engine,
	// Python) spent per record during the run.
	cpu time.Duration
}

func mark() window { return window{wall: time.Now(), cpu: cpuTime()} }

// sample ends the section after n records.
func (w window) sample(n int) sample {
	wall, cpu := time.Since(w.wall), cpuTime()-w.cpu
	return sample{rps: float64(n) / wall.Seconds(), cpu: cpu / time.Duration(n)}
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (e *env) createTopics(ctx context.Context, topics ...string) error {
	resp, err := e.adm.CreateTopics(ctx, 1, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil {
			return fmt.Errorf("creating topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}

// truncate deletes the records of an output topic once a run is over, so
// the broker's memory (and with it the heap the garbage collector paces
// itself by) stays the same from round to round.
func (e *env) truncate(ctx context.Context, topic string) error {
	resp, err := e.adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: kadm.Offset{Topic: topic, Partition: 0, At: -1}}})
	if err != nil {
		return fmt.Errorf("emptying %s: %w", topic, err)
	}
	if err := resp.Error(); err != nil {
		return fmt.Errorf("emptying %s: %w", topic, err)
	}
	return nil
}

// fill produces the events to the input topic and waits until all are
// acknowledged.
func (e *env) fill(ctx context.Context) error {
	return e.produceEvents(ctx, 0, len(e.events))
}

// produceEvents appends events from to to (the events repeated, the i-th
// stamped i microseconds after now) to the input topic and waits until all
// are acknowledged; the first failure is the error.
func (e *env) produceEvents(ctx context.Context, from, to int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.seeds()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	failed := make(chan error, 1)
	now := time.Now()
	for i := from; i < to; i++ {
		ev := e.events[i%len(e.events)]
		r := &kgo.Record{Topic: inputTopic, Key: ev.key, Value: ev.value, Timestamp: now.Add(time.Duration(i) * time.Microsecond)}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	select {
	case err := <-failed:
		return fmt.Errorf("filling %s: %w", inputTopic, err)
	default:
	}
	return nil
}

// nextID returns a fresh consumer group / application id, so every run
// reads the input from the start.
func (e *env) nextID(prefix string) string {
	e.runCount++
	return fmt.Sprintf("bench-%s-%d", prefix, e.runCount)
}

// waitUntil polls cond every step until it holds, fails or the deadline
// passes.
func waitUntil(deadline time.Time, step time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(step)
	}
}

// budget is how long a run over n records may take before the harness
// gives up: generous, since a stuck run is a bug to report, not a number.
func budget(n int) time.Duration {
	return 60*time.Second + time.Duration(n)*200*time.Microsecond
}

// seeds are the broker addresses for franz-go clients.
func (e *env) seeds() []string { return strings.Split(e.bootstrap, ",") }
