package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ksml-dev/ksml/bench/workload"
	"github.com/ksml-dev/ksml/internal/runner"
)

// passthroughDefinition writes the KSML definition of the passthrough
// measurement: the input stream straight to an output stream, both JSON.
func (e *env) passthroughDefinition() (string, error) {
	return e.writeWorkload("passthrough", passthroughTopic, "passthrough.yaml")
}

// statefulCountDefinition writes the KSML definition of the stateful
// measurement: a count per key on a persistent (Pebble) key/value store
// logged to its changelog, every update written to the output topic, as
// Kafka Streams emits without caching.
func (e *env) statefulCountDefinition() (string, error) {
	return e.writeWorkload("count", statefulTopic, "stateful-count.yaml")
}

// writeWorkload writes workload w's definition, from the input topic to
// out, into the work directory as file.
func (e *env) writeWorkload(w, out, file string) (string, error) {
	def, err := workload.KSML(w, inputTopic, out)
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.work, file)
	return path, os.WriteFile(path, []byte(def), 0o644)
}

// runnerConfig writes a ksml-runner.yaml that points at the harness's
// broker with a fresh application id, so the run reads the input from the
// start.
func (e *env) runnerConfig(appID string) (string, error) {
	dir := filepath.Join(e.work, appID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`ksml:
  configDirectory: %q
  schemaDirectory: %q
  storageDirectory: %q
kafka:
  bootstrap.servers: %q
  application.id: %q
`, dir, dir, dir, e.bootstrap, appID)
	path := filepath.Join(dir, "ksml-runner.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o644)
}

// runPipeline runs definition def with the runner, as `ksml run -c
// ksml-runner.yaml def` does, until n records reached outTopic
// (acknowledged by the broker), and measures from the partition assignment
// to the last acknowledgement. The runner is stopped
// afterwards; records it processed beyond n are not counted.
func (e *env) runPipeline(ctx context.Context, def, outTopic string, n int) (sample, error) {
	appID := e.nextID("pipeline")
	cfgPath, err := e.runnerConfig(appID)
	if err != nil {
		return sample{}, err
	}
	// start is written by OnStarted before started is closed, and read
	// only after that.
	var start window
	started := make(chan struct{})
	r, err := runner.New(runner.Options{
		ConfigFile:  cfgPath,
		Definitions: []string{def},
		WorkDir:     filepath.Dir(cfgPath),
		Logger:      e.log,
		Stdout:      os.Stderr,
		OnStarted: func() {
			start = mark()
			close(started)
		},
	})
	if err != nil {
		return sample{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()

	select {
	case <-started:
	case err := <-done:
		return sample{}, fmt.Errorf("the runner stopped before it started: %v", err)
	case <-time.After(60 * time.Second):
		return sample{}, fmt.Errorf("the runner did not start within 60s")
	}
	counters := r.Counters()
	var runErr error
	var firstIn time.Time
	err = waitUntil(time.Now().Add(budget(n)), time.Millisecond, func() (bool, error) {
		select {
		case runErr = <-done:
			return false, fmt.Errorf("the runner stopped: %v", runErr)
		default:
		}
		if firstIn.IsZero() && counters.Get("consumed", inputTopic) > 0 {
			firstIn = time.Now()
		}
		return counters.Get("produced", outTopic) >= int64(n), nil
	})
	sm := start.sample(n)
	if err != nil {
		return sample{}, fmt.Errorf("%w (%d of %d records produced)", err, counters.Get("produced", outTopic), n)
	}
	for _, c := range counters.Snapshot() {
		if c.N > 0 && len(c.What) > 7 && c.What[:7] == "failed." {
			return sample{}, fmt.Errorf("%d records failed (%s on %s)", c.N, c.What, c.Topic)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			return sample{}, fmt.Errorf("stopping the runner: %w", err)
		}
	case <-time.After(30 * time.Second):
		return sample{}, fmt.Errorf("the runner did not stop within 30s")
	}
	if !firstIn.IsZero() {
		e.say("first record consumed %v after the assignment", firstIn.Sub(start.wall).Round(time.Millisecond))
	}
	return sm, nil
}
