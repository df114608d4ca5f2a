package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// metrics is what one run of one system on one workload measured (see
// clock).
//   - RPS: input records per second from the group's assignment to the
//     append time of the output record that completed the work.
//   - CPUus: CPU time (user+system, /proc/PID/stat, all threads) over the
//     same span, per input record, in microseconds.
//   - RSSMB: peak resident set size (VmHWM) in MiB.
//   - StartupMS: from starting the process to the first output record.
type metrics struct {
	RPS       float64 `json:"rps"`
	CPUus     float64 `json:"cpu_us"`
	RSSMB     float64 `json:"rss_mb"`
	StartupMS float64 `json:"startup_ms"`
}

// The system every ratio compares with, and the peers the ratios name.
const self = "ksml"

// ratioPeers are the peers of the ratios map, in report order.
var ratioPeers = []string{"kafka_streams", "kafka_streams_tuned", "python_lib", "upstream_ksml", "raw"}

// workloads in report order.
var workloads = []string{"passthrough", "python_map", "filter_map", "count", "window_count"}

// median of the samples; 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summarize reduces the rounds of every (workload, system) to the median of
// each metric, taken per metric.
func summarize(rounds map[string]map[string][]metrics) map[string]map[string]metrics {
	out := map[string]map[string]metrics{}
	for w, bySys := range rounds {
		for sys, ms := range bySys {
			if len(ms) == 0 {
				continue
			}
			var rps, cpu, rss, st []float64
			for _, m := range ms {
				rps, cpu, rss, st = append(rps, m.RPS), append(cpu, m.CPUus), append(rss, m.RSSMB), append(st, m.StartupMS)
			}
			if out[w] == nil {
				out[w] = map[string]metrics{}
			}
			out[w][sys] = metrics{RPS: median(rps), CPUus: median(cpu), RSSMB: median(rss), StartupMS: median(st)}
		}
	}
	return out
}

// round3 keeps three decimals, so the JSON is stable and readable.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// ratios compares ksml with each peer measured on the same workload. Keys are
// <workload>/<peer>/<metric>; rps is ksml ÷ peer, cpu_us, rss_mb and
// startup_ms are peer ÷ ksml, so above 1 always means ksml is better. A ratio
// whose divisor is zero (not measured) is left out rather than reported as
// infinite.
func ratios(res map[string]map[string]metrics) map[string]float64 {
	out := map[string]float64{}
	for w, bySys := range res {
		k, ok := bySys[self]
		if !ok {
			continue
		}
		for _, p := range ratioPeers {
			m, ok := bySys[p]
			if !ok {
				continue
			}
			put := func(metric string, num, den float64) {
				if den > 0 && num > 0 {
					out[w+"/"+p+"/"+metric] = round3(num / den)
				}
			}
			put("rps", k.RPS, m.RPS)
			put("cpu_us", m.CPUus, k.CPUus)
			put("rss_mb", m.RSSMB, k.RSSMB)
			put("startup_ms", m.StartupMS, k.StartupMS)
		}
	}
	return out
}

// scaling compares the stream-thread runs: for ksml and Kafka Streams
// (tuned), <workload>/<system>/speedup is the throughput with 2 threads ÷
// with 1; <workload>/ksml÷kafka_streams_tuned/t<n> is ksml's throughput ÷
// Kafka Streams' with n threads each. Unmeasured values give no entry.
func scaling(res map[string]map[string]metrics) map[string]float64 {
	out := map[string]float64{}
	for w, bySys := range res {
		put := func(key string, num, den float64) {
			if num > 0 && den > 0 {
				out[w+"/"+key] = round3(num / den)
			}
		}
		for _, s := range []string{self, "kafka_streams_tuned"} {
			put(s+"/speedup", bySys[s+"_t2"].RPS, bySys[s+"_t1"].RPS)
		}
		for _, n := range []string{"t1", "t2"} {
			put("ksml÷kafka_streams_tuned/"+n, bySys[self+"_"+n].RPS, bySys["kafka_streams_tuned_"+n].RPS)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// report is the JSON object printed last.
type report struct {
	Records int                           `json:"records"`
	Rounds  int                           `json:"rounds"`
	Results map[string]map[string]metrics `json:"results"`
	Ratios  map[string]float64            `json:"ratios"`
	Scaling map[string]float64            `json:"scaling,omitempty"`
	Failed  map[string]string             `json:"failed,omitempty"`
	LeftOut map[string]string             `json:"left_out,omitempty"`
}

func writeJSON(w io.Writer, r report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// systems lists ksml first, then the peers in report order, then anything
// else measured, sorted.
func systems(res map[string]map[string]metrics) []string {
	seen := map[string]bool{}
	for _, bySys := range res {
		for s := range bySys {
			seen[s] = true
		}
	}
	var out []string
	for _, s := range append([]string{self}, ratioPeers...) {
		if seen[s] {
			out = append(out, s)
			delete(seen, s)
		}
	}
	var rest []string
	for s := range seen {
		rest = append(rest, s)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// writeTable prints one row per (workload, system) with the medians and,
// for peers, ksml's advantage in throughput (ksml ÷ peer; a thread run
// against ksml with as many threads).
func writeTable(w io.Writer, res map[string]map[string]metrics) {
	fmt.Fprintf(w, "%-13s %-24s %12s %10s %9s %11s %12s\n", "workload", "system", "records/s", "cpu µs/rec", "rss MiB", "startup ms", "ksml÷peer rps")
	fmt.Fprintln(w, strings.Repeat("-", 98))
	for _, wl := range workloads {
		bySys := res[wl]
		for _, s := range systems(map[string]map[string]metrics{wl: bySys}) {
			m := bySys[s]
			adv := ""
			if base, n := splitThreads(s); n > 0 {
				// A thread run compares with ksml at the same thread count.
				if k := bySys[fmt.Sprintf("%s_t%d", self, n)]; base != self && m.RPS > 0 && k.RPS > 0 {
					adv = fmt.Sprintf("%.2f", k.RPS/m.RPS)
				}
			} else if s != self && m.RPS > 0 && bySys[self].RPS > 0 {
				adv = fmt.Sprintf("%.2f", bySys[self].RPS/m.RPS)
			}
			fmt.Fprintf(w, "%-13s %-24s %12.0f %10.1f %9.1f %11.0f %12s\n", wl, s, m.RPS, m.CPUus, m.RSSMB, m.StartupMS, adv)
		}
	}
}
