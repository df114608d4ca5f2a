package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/bench/workload"
)

// ksmlBinary returns the binary to start: -ksml, or ./cmd/ksml built into
// the scratch directory from the module this harness belongs to.
func (e *env) ksmlBinary(ctx context.Context) (string, error) {
	if e.cfg.ksmlBin != "" {
		return e.cfg.ksmlBin, nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module root (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the ksml module: run from the repository or pass -ksml")
	}
	bin := filepath.Join(e.work, "build", "ksml")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	e.say("building %s", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ksml")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building ksml: %w\n%s", err, out)
	}
	return bin, nil
}

// install copies the binary at src into the scratch directory as a user's
// installation writes it (workload.InstallBinary) and returns the copy's
// path: rss_mb is measured on the copy, rss_mb_build_output on src.
func (e *env) install(src string) (string, error) {
	dst := filepath.Join(e.work, "ksml")
	return dst, workload.InstallBinary(src, dst)
}

// startupResult is what one run of the binary measured.
type startupResult struct {
	startupMS float64
	rssMB     float64
	rps       float64
}

// startup starts `ksml run -c ksml-runner.yaml cqrs.yaml` against the
// harness's broker, with the input topic already full, and measures the
// wall time from starting the process to the first record on the output
// topic. It then lets the process work through all records, stops it with
// SIGTERM. rss_mb is its peak resident set size (VmHWM) read just before,
// so it covers startup and the whole Python pipeline run, and nothing of
// the broker (which lives in this process, or in its own with -bootstrap).
func (e *env) startup(ctx context.Context, bin string) (startupResult, error) {
	var res startupResult
	n := e.cfg.records
	appID := e.nextID("binary")
	cfgPath, err := e.runnerConfig(appID)
	if err != nil {
		return res, err
	}
	// Watch the output topic from its current end, so earlier
	// measurements' records do not count.
	ends, err := e.adm.ListEndOffsets(ctx, cqrsOutTopic)
	if err != nil {
		return res, err
	}
	end, ok := ends.Lookup(cqrsOutTopic, 0)
	if !ok || end.Err != nil {
		return res, fmt.Errorf("end offset of %s: %v", cqrsOutTopic, end.Err)
	}
	from := end.Offset
	watch, err := kgo.NewClient(kgo.SeedBrokers(e.seeds()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cqrsOutTopic: {0: kgo.NewOffset().At(from)}}),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return res, err
	}
	var closeWatch sync.Once
	defer closeWatch.Do(watch.Close)

	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-c", cfgPath, e.cqrsDef)
	cmd.Dir = filepath.Dir(cfgPath)
	cmd.Env = append(os.Environ(), "KSML_LOG_LEVEL=warn")
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fail := func(err error) (startupResult, error) {
		_ = cmd.Process.Kill()
		<-exited
		return res, fmt.Errorf("%w\nksml output:\n%s", err, tail(stderr.String(), 20))
	}

	// The first output record.
	deadline := time.Now().Add(60 * time.Second)
	var first time.Time
	for first.IsZero() {
		if time.Now().After(deadline) {
			return fail(errors.New("no output record within 60s"))
		}
		select {
		case err := <-exited:
			exited <- err
			return fail(fmt.Errorf("ksml exited before its first output record: %v", err))
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := watch.PollRecords(pctx, 1)
		cancel()
		if fs.NumRecords() > 0 {
			first = time.Now()
		}
	}
	res.startupMS = float64(first.Sub(t0).Microseconds()) / 1000
	closeWatch.Do(watch.Close)

	// All records, counted by the output topic's end offset.
	var last time.Time
	err = waitUntil(time.Now().Add(budget(n)), 20*time.Millisecond, func() (bool, error) {
		select {
		case err := <-exited:
			exited <- err
			return false, fmt.Errorf("ksml exited early: %v", err)
		default:
		}
		ends, err := e.adm.ListEndOffsets(ctx, cqrsOutTopic)
		if err != nil {
			return false, err
		}
		o, _ := ends.Lookup(cqrsOutTopic, 0)
		if o.Offset-from >= int64(n) {
			last = time.Now()
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fail(err)
	}
	if d := last.Sub(first); d > 0 && n > 1 {
		res.rps = float64(n-1) / d.Seconds()
	}
	// Peak RSS is read while the process runs: the kernel's rusage maxrss
	// of a child started by Go counts the parent's memory too (the child
	// shares the parent's address space until exec), so it would report
	// the harness and its broker.
	hwm, err := peakRSS(cmd.Process.Pid)
	if err != nil {
		return fail(err)
	}
	res.rssMB = float64(hwm) / 1024
	if err := stopKSML(cmd, exited, stderr.String); err != nil {
		return res, err
	}
	return res, nil
}

// stopKSML sends SIGTERM to a running ksml and waits up to 30 s for it to
// exit (exited receives cmd.Wait's result); an unclean exit is an error
// with the last lines of its log.
func stopKSML(cmd *exec.Cmd, exited <-chan error, log func() string) error {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w\nksml output:\n%s", err, tail(log(), 20))
	}
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("ksml did not stop cleanly: %v\n%s", err, tail(log(), 20))
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("ksml did not stop within 30s of SIGTERM\nksml output:\n%s", tail(log(), 20))
	}
}

// peakRSS returns the peak resident set size of a running process in
// kilobytes (VmHWM of /proc/PID/status).
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the peak RSS of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("parsing %q: %w", line, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
