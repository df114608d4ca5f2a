package runner_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/testgate"
)

// rejoinSessionTimeout is the session timeout of the crash-loop test: the
// embedded broker's minimum.
const rejoinSessionTimeout = 6 * time.Second

// TestCrashLoopRejoinsWithinASessionTimeout runs the ksml binary on the
// embedded broker and kills it with SIGKILL as a crash-looping instance
// dies: once it had its partitions, then four restarts each killed a
// second after it started, all from the same storage directory. The
// instance started after the last crash must have its partitions and
// process every record within one session timeout. Its group.instance.id
// is derived from the process id in the state directory, so each restart
// replaces the crashed static member at once. With dynamic membership
// (kafka.group.instance.id: ""), the crashed members that were waiting in
// a join held the next member out for 78 s, on the embedded broker and on
// Apache Kafka alike; that variant runs with KSML_SLOW_FAULT_TESTS=1 and
// reports the wait.
func TestCrashLoopRejoinsWithinASessionTimeout(t *testing.T) {
	testgate.Long(t, "kills and restarts the ksml binary five times")
	for _, c := range []struct {
		name     string
		instance map[string]string
		limit    time.Duration
	}{
		{"derived static", nil, rejoinSessionTimeout},
		{"dynamic", map[string]string{"group.instance.id": ""}, 4 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.instance != nil && os.Getenv("KSML_SLOW_FAULT_TESTS") == "" {
				t.Skip("takes minutes; set KSML_SLOW_FAULT_TESTS=1")
			}
			kafkatest.Parallel(t)
			bootstrap := startBrokerB(t)
			cl := newClient(t, bootstrap)
			const partitions, total = 4, 400
			createTopic(t, cl, "orders-in", partitions)
			props := map[string]string{"session.timeout.ms": fmt.Sprint(rejoinSessionTimeout.Milliseconds()), "heartbeat.interval.ms": "500"}
			for k, v := range c.instance {
				props[k] = v
			}
			work := doubleApp(t, bootstrap, "crashloop", props)

			first := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
			first.waitLog(t, "runner started", 60*time.Second)
			first.cmd.Process.Kill()
			<-first.done
			for range 4 {
				p := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
				time.Sleep(time.Second) // the crash loop's pace, not a synchronisation
				p.cmd.Process.Kill()
				<-p.done
			}
			// The input waits in the topic, so the time until all of it is
			// doubled is the time until the new instance had its partitions
			// (processing 400 records takes milliseconds).
			if err := cl.ProduceSync(context.Background(), orderBatch(0, total, partitions)...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			crashed := time.Now()
			last := startBinary(t, work, "run", "-c", "ksml-runner.yaml")
			waitFor(t, "every record doubled", c.limit+30*time.Second, func() bool { return endOffset(t, cl, "orders-out") >= total })
			took := time.Since(crashed)
			t.Logf("%s membership: the instance started after the last of five crashes had its partitions and doubled every record after %v (session timeout %v, the process's start included)",
				c.name, took.Round(10*time.Millisecond), rejoinSessionTimeout)
			if took > c.limit {
				t.Errorf("%s membership: the instance after the crashes waited %v for its partitions, want at most %v; its log:\n%s",
					c.name, took, c.limit, tail(last.log(), 30))
			}
		})
	}
}
