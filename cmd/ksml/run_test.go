package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRunLoggerFormats(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("KSML_LOG_FORMAT", "json")
	lg, err := newLogger(&buf, "debug")
	if err != nil {
		t.Fatal(err)
	}
	lg.Debug("hello", "k", 1)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "hello" || m["level"] != "DEBUG" || m["k"] != float64(1) {
		t.Fatalf("json log line %q (%v)", buf.String(), err)
	}

	buf.Reset()
	t.Setenv("KSML_LOG_FORMAT", "")
	t.Setenv("KSML_LOG_LEVEL", "warn")
	lg, err = newLogger(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("hidden")
	lg.Warn("shown")
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "level=WARN msg=shown") {
		t.Fatalf("text log %q", s)
	}

	t.Setenv("KSML_LOG_FORMAT", "xml")
	if _, err := newLogger(&buf, ""); err == nil || !strings.Contains(err.Error(), "use text or json") {
		t.Errorf("bad format error %v", err)
	}
	t.Setenv("KSML_LOG_FORMAT", "")
	if _, err := newLogger(&buf, "loud"); err == nil || !strings.Contains(err.Error(), `log level "loud"`) {
		t.Errorf("bad level error %v", err)
	}
}

func TestRunWithoutInputFails(t *testing.T) {
	defer resetRootCmd()
	var errBuf bytes.Buffer
	rootCmd.SetErr(&errBuf)
	rootCmd.SetArgs([]string{"run"})
	err := rootCmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "nothing to run") {
		t.Fatalf("ksml run without arguments: %v", err)
	}
}
