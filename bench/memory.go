package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ksml-dev/ksml/internal/python"
)

// memPoint is the memory of the binary when a number of records were through.
type memPoint struct {
	records int
	hwmMB   float64 // peak resident set (VmHWM) so far
	anonMB  float64 // peak anonymous resident memory (sampled RssAnon) so far
}

// memory runs the ksml binary on def over the input topic until total
// records reached outTopic, and reads its peak memory when the output
// passed each of points. The input topic is first extended to total
// records (the events repeated).
func (e *env) memory(ctx context.Context, bin, def, outTopic string, total int, points []int) ([]memPoint, error) {
	if err := e.fillTo(ctx, total); err != nil {
		return nil, err
	}
	appID := e.nextID("memory")
	cfgPath, err := e.runnerConfig(appID)
	if err != nil {
		return nil, err
	}
	from, err := e.endOffset(ctx, outTopic)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "run", "-c", cfgPath, def)
	cmd.Dir = filepath.Dir(cfgPath)
	cmd.Env = append(os.Environ(), "KSML_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fail := func(err error) ([]memPoint, error) {
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("%w\nksml output:\n%s", err, tail(out.String(), 20))
	}
	var res []memPoint
	var peakAnon int64
	next := 0
	err = waitUntil(time.Now().Add(budget(total)), 100*time.Millisecond, func() (bool, error) {
		select {
		case err := <-exited:
			exited <- err
			return false, fmt.Errorf("ksml exited early: %v", err)
		default:
		}
		st, err := procStatus(cmd.Process.Pid)
		if err != nil {
			return false, err
		}
		peakAnon = max(peakAnon, st["RssAnon"])
		end, err := e.endOffset(ctx, outTopic)
		if err != nil {
			return false, err
		}
		for next < len(points) && end-from >= int64(points[next]) {
			res = append(res, memPoint{records: points[next], hwmMB: float64(st["VmHWM"]) / 1024, anonMB: float64(peakAnon) / 1024})
			e.say("memory: %s after %d records: peak RSS %.1f MB, peak anonymous %.1f MB", filepath.Base(def), points[next],
				res[len(res)-1].hwmMB, res[len(res)-1].anonMB)
			next++
		}
		return next == len(points), nil
	})
	if err != nil {
		return fail(err)
	}
	if err := stopKSML(cmd, exited, out.String); err != nil {
		return nil, err
	}
	return res, nil
}

// fillTo appends the events, repeated, to the input topic until it holds
// total records.
func (e *env) fillTo(ctx context.Context, total int) error {
	have, err := e.endOffset(ctx, inputTopic)
	if err != nil {
		return err
	}
	if have >= int64(total) {
		return nil
	}
	e.say("memory: filling %s to %d records", inputTopic, total)
	return e.produceEvents(ctx, int(have), total)
}

func (e *env) endOffset(ctx context.Context, topic string) (int64, error) {
	ends, err := e.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	o, ok := ends.Lookup(topic, 0)
	if !ok || o.Err != nil {
		return 0, fmt.Errorf("end offset of %s: %v", topic, o.Err)
	}
	return o.Offset, nil
}

// procStatus reads the kB fields of /proc/PID/status.
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("reading the memory of process %d: %w", pid, err)
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64); err == nil {
			m[k] = n
		}
	}
	return m, nil
}

// soakResult is what the soak measured: the resident memory of this process
// after the warm-up and at the end, and the highest sample in between.
type soakResult struct {
	calls               int
	startMB, endMB, max float64
}

// soak calls a Python function returning a 4 MB string for d, forcing two
// garbage collections after each call, and samples this process's resident
// memory: a leak on the Python boundary shows as growth.
func (e *env) soak(d time.Duration) (soakResult, error) {
	var res soakResult
	in, err := python.Init(python.Options{Logger: e.log})
	if err != nil {
		return res, fmt.Errorf("starting Python: %w", err)
	}
	mod, err := in.NewModule(e.nextID("soak"), "soak.yaml", nil)
	if err != nil {
		return res, err
	}
	f, err := mod.Define(python.FunctionSpec{Name: "big", Type: "valueTransformer",
		Code: python.Source{Text: "return {'key': key, 'text': value * (4 << 20), 'items': [value] * 1000}\n", File: "soak.yaml", Line: 1}})
	if err != nil {
		return res, err
	}
	rss := func() (float64, error) {
		st, err := procStatus(os.Getpid())
		return float64(st["VmRSS"]) / 1024, err
	}
	start := time.Now()
	warm := start.Add(d / 10)
	var nextSample time.Time
	for time.Since(start) < d {
		v, err := f.Call(nil, "k", "x")
		if err != nil {
			return res, err
		}
		if _, ok := v.(interface{ Len() int }); !ok {
			return res, fmt.Errorf("soak function returned %T", v)
		}
		res.calls++
		runtime.GC()
		runtime.GC()
		if time.Now().Before(warm) || time.Now().Before(nextSample) {
			continue
		}
		// Sampled every two seconds, after the Go heap returned what it
		// does not use, so the numbers show retained memory, not garbage
		// waiting for the scavenger.
		nextSample = time.Now().Add(2 * time.Second)
		debug.FreeOSMemory()
		mb, err := rss()
		if err != nil {
			return res, err
		}
		if res.startMB == 0 {
			res.startMB = mb
		}
		res.max = max(res.max, mb)
		res.endMB = mb
	}
	e.say("soak: %d calls in %v, RSS %.1f MB after warm-up, %.1f MB at the end, %.1f MB at most", res.calls, d,
		res.startMB, res.endMB, res.max)
	return res, nil
}
