// Command bench measures ksml's pipelines beside the limits of the machine
// they run on, in one process and on the same data, and reports the ratios.
//
// One embedded broker (kfake) on 127.0.0.1 holds topic write-events,
// pre-filled with N JSON events of about 200 bytes. After a warm-up, each
// measurement processes all N records:
//
//   - raw_kafka: a plain franz-go consume -> produce loop with the engine's
//     client settings (the Kafka limit);
//   - passthrough: a KSML pipeline `from` -> `to` (json), run by the runner
//     exactly as `ksml run` runs it, in this process;
//   - raw_python: the seed's CQRS mapper as a tight Python loop (json.loads,
//     the function, json.dumps) in the same embedded interpreter (the Python
//     limit);
//   - python_pipeline: the seed's CQRS definition end to end, run by the
//     runner;
//   - startup_ms and rss_mb: the ksml binary started on the CQRS definition:
//     wall time to its first output record, and its peak resident memory
//     after it processed all N records.
//
// Two measurements run only when -only names them:
//
//   - memory: the ksml binary on the CQRS definition and on a stateful
//     count, each over 2,000,000 records (the input repeated): peak RSS
//     (VmHWM) and peak anonymous memory after N records (rss_mb) and after
//     2,000,000 (rss_mb_long);
//   - soak: for -soak (2m), a Python function returning a 4 MB string and a
//     1,000-item list, two forced garbage collections after each call, and
//     this process's RSS after the first tenth and at the end.
//
// The machines this runs on are shared and noisy, so absolute numbers mean
// little; the ratios of a pipeline to the limits measured in the same run are
// what the harness is for. With -json the last line of stdout is one JSON
// object with every number.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

// config is what the command line chooses.
type config struct {
	records    int
	rounds     int
	jsonOut    bool
	ksmlBin    string
	bootstrap  string // an external broker instead of the embedded one
	only       map[string]bool
	cpuProfile string
	memProfile string
	verbose    bool
	shared     string
	soak       time.Duration
	long       int // records of the memory measurement's long run
}

// measurement names, as -only takes them.
const (
	mRawKafka       = "raw_kafka"
	mPassthrough    = "passthrough"
	mRawPython      = "raw_python"
	mPythonPipeline = "python_pipeline"
	mStatefulCount  = "stateful_count"
	mStartup        = "startup"
	mMemory         = "memory"
	mSoak           = "soak"
)

var allMeasurements = []string{mRawKafka, mPassthrough, mRawPython, mPythonPipeline, mStatefulCount, mStartup, mMemory, mSoak}

// optIn are the measurements that run only when -only names them: they
// take minutes (memory runs 2,000,000 records twice; soak runs for -soak).
var optIn = []string{mMemory, mSoak}

func (c *config) wants(m string) bool {
	if len(c.only) == 0 {
		return !contains(optIn, m)
	}
	return c.only[m]
}

func main() {
	var cfg config
	var only string
	flag.IntVar(&cfg.records, "records", 200000, "number of input records")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds of the in-process measurements; each reports its best round")
	flag.BoolVar(&cfg.jsonOut, "json", false, "print the results as one JSON object on the last line")
	flag.StringVar(&cfg.ksmlBin, "ksml", "", "ksml binary for startup_ms and rss_mb (default: build ./cmd/ksml into a temporary directory)")
	flag.StringVar(&cfg.bootstrap, "bootstrap", "", "bootstrap servers of a fresh Kafka cluster to run against instead of the embedded broker (the harness creates and fills its topics there)")
	flag.StringVar(&only, "only", "", "comma-separated measurements to run: "+strings.Join(allMeasurements, ","))
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of each measured phase to PREFIX.<measurement>.pprof")
	flag.StringVar(&cfg.memProfile, "memprofile", "", "write an allocation profile of the whole run to this file (use -only to focus it)")
	flag.BoolVar(&cfg.verbose, "v", false, "log progress and the runner's warnings to stderr")
	flag.StringVar(&cfg.shared, "shared", "../shared", "directory of the shared material (acceptance/seed/definitions/cqrs.yaml)")
	flag.DurationVar(&cfg.soak, "soak", 2*time.Minute, "how long the soak measurement runs")
	flag.IntVar(&cfg.long, "long", 2_000_000, "records of the memory measurement's long run (rss_mb_long)")
	flag.Parse()
	if cfg.records <= 0 || cfg.rounds <= 0 || cfg.long < cfg.records {
		fmt.Fprintln(os.Stderr, "bench: -records and -rounds must be positive, -long at least -records")
		os.Exit(2)
	}
	if only != "" {
		cfg.only = map[string]bool{}
		for _, m := range strings.Split(only, ",") {
			m = strings.TrimSpace(m)
			if !contains(allMeasurements, m) {
				fmt.Fprintf(os.Stderr, "bench: unknown measurement %q (use %s)\n", m, strings.Join(allMeasurements, ", "))
				os.Exit(2)
			}
			cfg.only[m] = true
		}
	}
	logOut := io.Discard
	level := slog.LevelWarn
	if cfg.verbose {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log) // packages that log through the default logger

	res, err := run(context.Background(), cfg, log, progress(cfg.verbose))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if cfg.memProfile != "" {
		if err := writeAllocs(cfg.memProfile); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	res.writeTable(os.Stdout)
	if cfg.jsonOut {
		b, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Println(string(b))
	}
}

// progress returns the function that reports steps on stderr (-v) or
// nowhere.
func progress(verbose bool) func(format string, args ...any) {
	if !verbose {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }
}

// writeAllocs writes the allocation profile (every allocation since the
// start, sampled) to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
