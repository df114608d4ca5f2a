package main

import (
	"fmt"
	"io"
	"runtime"
)

// results are the numbers of one run. Rates are records per second over
// all N records; a measurement that was not run is zero.
type results struct {
	Records    int `json:"records"`
	ValueBytes int `json:"value_bytes"`
	Cores      int `json:"cores"`

	RawKafkaRPS       float64 `json:"raw_kafka_rps"`
	PassthroughRPS    float64 `json:"passthrough_rps"`
	RawPythonRPS      float64 `json:"raw_python_rps"`
	PythonPipelineRPS float64 `json:"python_pipeline_rps"`
	// StatefulCountRPS is a count per key (groupByKey + count) on a
	// persistent, changelog-logged store.
	StatefulCountRPS float64 `json:"stateful_count_rps"`

	// The CPU time of the whole process per record, in microseconds, of
	// each measurement's cheapest round: a second view that noise from
	// other processes disturbs less than the rates.
	RawKafkaCPU       float64 `json:"raw_kafka_cpu_us"`
	PassthroughCPU    float64 `json:"passthrough_cpu_us"`
	RawPythonCPU      float64 `json:"raw_python_cpu_us"`
	PythonPipelineCPU float64 `json:"python_pipeline_cpu_us"`
	StatefulCountCPU  float64 `json:"stateful_count_cpu_us"`

	// PassthroughRatio is passthrough / raw_kafka.
	PassthroughRatio float64 `json:"passthrough_ratio"`
	// PythonRatio is python_pipeline over the rate of doing both limits'
	// work one after the other: 1 / (1/raw_kafka + 1/raw_python).
	PythonRatio float64 `json:"python_ratio"`

	// PassthroughCPURatio and PythonCPURatio are the same ratios computed
	// from CPU per record instead of rates: the work the limits need per
	// record over the work the pipeline needs. They are steadier than the
	// rate ratios on a busy machine and equal them when the process gets
	// one core.
	PassthroughCPURatio float64 `json:"passthrough_cpu_ratio"`
	PythonCPURatio      float64 `json:"python_cpu_ratio"`

	// StartupMS is the wall time from starting the ksml binary to its
	// first output record.
	StartupMS float64 `json:"startup_ms"`
	// RSSMB is the peak resident memory of the ksml binary, installed
	// (see install), running the Python pipeline over all N records.
	RSSMB float64 `json:"rss_mb"`
	// RSSMBBuildOutput is the same on the binary as the build left it,
	// not installed (see install).
	RSSMBBuildOutput float64 `json:"rss_mb_build_output"`
	// BinaryPythonRPS is the rate of that binary run, from its first
	// output record to its last (it includes fetching while it starts).
	BinaryPythonRPS float64 `json:"binary_python_rps"`

	// The memory measurement (-only memory): peak RSS (VmHWM) of the
	// binary on the CQRS definition after N records (it then replaces the
	// startup run's rss_mb) and after 2,000,000, the peak of its anonymous
	// memory (RSS without the mapped binary and libraries) at both points,
	// and the same for the stateful count.
	RSSMBLong             float64 `json:"rss_mb_long,omitempty"`
	RSSAnonMB             float64 `json:"rss_anon_mb,omitempty"`
	RSSAnonMBLong         float64 `json:"rss_anon_mb_long,omitempty"`
	StatefulRSSMB         float64 `json:"stateful_rss_mb,omitempty"`
	StatefulRSSMBLong     float64 `json:"stateful_rss_mb_long,omitempty"`
	StatefulRSSAnonMB     float64 `json:"stateful_rss_anon_mb,omitempty"`
	StatefulRSSAnonMBLong float64 `json:"stateful_rss_anon_mb_long,omitempty"`

	// The soak (-only soak): calls made, and this process's RSS after the
	// warm-up, at the end, and the highest sample.
	SoakCalls   int     `json:"soak_calls,omitempty"`
	SoakStartMB float64 `json:"soak_rss_start_mb,omitempty"`
	SoakEndMB   float64 `json:"soak_rss_end_mb,omitempty"`
	SoakMaxMB   float64 `json:"soak_rss_max_mb,omitempty"`
}

func newResults(n, valueBytes int) *results {
	return &results{Records: n, ValueBytes: valueBytes, Cores: runtime.NumCPU()}
}

// derive computes the ratios from the rates that were measured.
func (r *results) derive() {
	if r.RawKafkaRPS > 0 && r.PassthroughRPS > 0 {
		r.PassthroughRatio = round3(r.PassthroughRPS / r.RawKafkaRPS)
	}
	if r.RawKafkaRPS > 0 && r.RawPythonRPS > 0 && r.PythonPipelineRPS > 0 {
		limit := 1 / (1/r.RawKafkaRPS + 1/r.RawPythonRPS)
		r.PythonRatio = round3(r.PythonPipelineRPS / limit)
	}
	r.deriveCPU()
}

func (r *results) deriveCPU() {
	if r.RawKafkaCPU > 0 && r.PassthroughCPU > 0 {
		r.PassthroughCPURatio = round3(r.RawKafkaCPU / r.PassthroughCPU)
	}
	if r.RawKafkaCPU > 0 && r.RawPythonCPU > 0 && r.PythonPipelineCPU > 0 {
		r.PythonCPURatio = round3((r.RawKafkaCPU + r.RawPythonCPU) / r.PythonPipelineCPU)
	}
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// writeTable prints the human-readable summary.
func (r *results) writeTable(w io.Writer) {
	fmt.Fprintf(w, "records=%d value_bytes=%d cores=%d\n", r.Records, r.ValueBytes, r.Cores)
	row := func(name string, v, cpu float64) {
		if v == 0 {
			fmt.Fprintf(w, "  %-20s %12s\n", name, "-")
			return
		}
		fmt.Fprintf(w, "  %-20s %12.0f rec/s", name, v)
		if cpu > 0 {
			fmt.Fprintf(w, " %8.2f us CPU/rec", cpu)
		}
		fmt.Fprintln(w)
	}
	row("raw_kafka", r.RawKafkaRPS, r.RawKafkaCPU)
	row("passthrough", r.PassthroughRPS, r.PassthroughCPU)
	row("raw_python", r.RawPythonRPS, r.RawPythonCPU)
	row("python_pipeline", r.PythonPipelineRPS, r.PythonPipelineCPU)
	row("stateful_count", r.StatefulCountRPS, r.StatefulCountCPU)
	row("binary_python", r.BinaryPythonRPS, 0)
	fmt.Fprintf(w, "  %-20s %12.3f\n", "passthrough_ratio", r.PassthroughRatio)
	fmt.Fprintf(w, "  %-20s %12.3f\n", "python_ratio", r.PythonRatio)
	fmt.Fprintf(w, "  %-20s %12.3f   (from CPU per record)\n", "passthrough_cpu", r.PassthroughCPURatio)
	fmt.Fprintf(w, "  %-20s %12.3f   (from CPU per record)\n", "python_cpu", r.PythonCPURatio)
	fmt.Fprintf(w, "  %-20s %12.1f ms\n", "startup", r.StartupMS)
	fmt.Fprintf(w, "  %-20s %12.1f MB (build output: %.1f MB)\n", "rss", r.RSSMB, r.RSSMBBuildOutput)
	if r.RSSMBLong > 0 {
		fmt.Fprintf(w, "  %-20s %12.1f MB (anonymous %.1f MB)\n", "rss_long", r.RSSMBLong, r.RSSAnonMBLong)
		fmt.Fprintf(w, "  %-20s %12.1f MB (anonymous %.1f MB)\n", "stateful_rss", r.StatefulRSSMB, r.StatefulRSSAnonMB)
		fmt.Fprintf(w, "  %-20s %12.1f MB (anonymous %.1f MB)\n", "stateful_rss_long", r.StatefulRSSMBLong, r.StatefulRSSAnonMBLong)
	}
	if r.SoakCalls > 0 {
		fmt.Fprintf(w, "  %-20s %12.1f MB -> %.1f MB (max %.1f MB, %d calls)\n", "soak_rss", r.SoakStartMB, r.SoakEndMB, r.SoakMaxMB, r.SoakCalls)
	}
}
