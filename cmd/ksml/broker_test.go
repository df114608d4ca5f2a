package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the logger and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// resetRootCmd undoes what these tests set on the shared command tree.
func resetRootCmd() {
	rootCmd.SetErr(nil)
	rootCmd.SetArgs(nil)
	brokerCmd.SetContext(context.Background())
}

var bootstrapRe = regexp.MustCompile(`bootstrap\.servers=(\S+)`)

// startBrokerCommand runs `ksml broker` in-process until stop is called,
// and returns the address it logged.
func startBrokerCommand(t *testing.T, args ...string) (addr string, logs *lockedBuffer, stop func(...os.Signal) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &lockedBuffer{}
	rootCmd.SetErr(logs)
	t.Cleanup(resetRootCmd)
	// cobra keeps a subcommand's context from an earlier Execute.
	brokerCmd.SetContext(ctx)
	rootCmd.SetArgs(append([]string{"broker"}, args...))
	done := make(chan error, 1)
	go func() { done <- rootCmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := bootstrapRe.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("ksml broker exited early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("ksml broker did not log its address:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr, logs, func(sig ...os.Signal) error {
		if len(sig) > 0 {
			// runBroker registered its signal handler before it logged
			// its address, so the signal reaches it, not the test.
			if err := syscall.Kill(os.Getpid(), sig[0].(syscall.Signal)); err != nil {
				t.Fatal(err)
			}
		} else {
			cancel()
		}
		defer cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("ksml broker did not stop")
			return nil
		}
	}
}

// TestBrokerCommandServesKcat runs `ksml broker` with a data directory,
// produces and consumes with kcat, stops it with SIGTERM, restarts it and
// reads the records again.
func TestBrokerCommandServesKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (scripts/setup installs it)")
	}
	kc := func(addr, stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kcat, append([]string{"-b", addr}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	dir := t.TempDir()

	addr, logs, stop := startBrokerCommand(t, "--listen", "127.0.0.1:0", "--data-dir", dir)
	if !strings.Contains(logs.String(), `msg="embedded Kafka broker started" listen=`+addr) || !strings.Contains(logs.String(), "dataDir="+dir) {
		t.Errorf("start log line:\n%s", logs)
	}
	kc(addr, "k1:one\nk2:two\n", "-P", "-t", "greetings", "-K:")
	if got, want := kc(addr, "", "-C", "-t", "greetings", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n"), "k1=one\nk2=two\n"; got != want {
		t.Fatalf("consume: got %q, want %q", got, want)
	}
	if err := stop(syscall.SIGTERM); err != nil {
		t.Fatalf("ksml broker returned %v after SIGTERM", err)
	}
	if !strings.Contains(logs.String(), "embedded Kafka broker stopped") {
		t.Errorf("no stop log line:\n%s", logs)
	}

	addr, _, stop = startBrokerCommand(t, "--listen", "127.0.0.1:0", "--data-dir", dir)
	defer stop()
	if got, want := kc(addr, "", "-C", "-t", "greetings", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n"), "k1=one\nk2=two\n"; got != want {
		t.Fatalf("consume after restart: got %q, want %q", got, want)
	}
}

func TestBrokerCommandRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"broker", "--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{[]string{"broker", "--partitions", "0"}, "--partitions 0: want at least 1"},
		{[]string{"broker", "--listen", "nowhere"}, `broker listen address "nowhere": address nowhere: missing port in address`},
	} {
		rootCmd.SetArgs(c.args)
		rootCmd.SetErr(&lockedBuffer{})
		t.Cleanup(resetRootCmd)
		err := rootCmd.Execute()
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
		brokerFlags.logLevel, brokerFlags.partitions, brokerFlags.listen = "info", 1, "127.0.0.1:9092"
	}
}
