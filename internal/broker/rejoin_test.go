package broker

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const memberEnv = "KSML_TEST_GROUP_MEMBER"

// sessionTimeout is the group members' session timeout in the rejoin test.
const sessionTimeout = 6 * time.Second // the broker minimum (group.min.session.timeout.ms)

// TestGroupMemberChildProcess is not a test: it joins group g on the broker
// in memberEnv ("addr,instanceID") and prints ASSIGNED when it has
// partitions, for the tests that kill group members.
func TestGroupMemberChildProcess(t *testing.T) {
	spec := os.Getenv(memberEnv)
	if spec == "" {
		t.Skip("runs only as the child process of a rejoin test")
	}
	addr, instance, _ := strings.Cut(spec, ",")
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"),
		kgo.SessionTimeout(sessionTimeout), kgo.HeartbeatInterval(300 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { os.Stdout.WriteString("ASSIGNED\n") })}
	if instance != "" {
		opts = append(opts, kgo.InstanceID(instance))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	for {
		cl.PollFetches(context.Background())
	}
}

// startMember starts a group member process; the channel is closed once
// it has its partitions.
func startMember(t *testing.T, addr, instance string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupMemberChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), memberEnv+"="+addr+","+instance)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	assigned := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ASSIGNED" {
				close(assigned)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	return cmd, assigned
}

// TestRejoinAfterRepeatedCrashes kills group members in quick succession,
// each before or right after it got its partitions, as a crash-looping
// instance does, and measures how long the next member waits for its
// partitions. With static membership (group.instance.id, ksml run
// --instance-id) the restarted member replaces the dead one at once. With
// dynamic members, dead members that were waiting in a join hold the
// rebalance up to the rebalance timeout (max.poll.interval.ms) and then
// their sessions; that case runs with KSML_SLOW_FAULT_TESTS=1 and reports
// the wait.
func TestRejoinAfterRepeatedCrashes(t *testing.T) {
	t.Parallel() // its own broker (or broker process) on a free port
	for _, c := range []struct {
		name, instance string
		limit          time.Duration
	}{{"dynamic", "", 3 * time.Minute}, {"static", "ksml-0", 2 * time.Second}} {
		t.Run(c.name, func(t *testing.T) {
			if c.instance == "" && os.Getenv("KSML_SLOW_FAULT_TESTS") == "" {
				t.Skip("takes minutes; set KSML_SLOW_FAULT_TESTS=1")
			}
			b := startBroker(t, Options{})
			adm := kadm.NewClient(newClient(t, b))
			if _, err := adm.CreateTopic(context.Background(), 4, 1, nil, "t"); err != nil {
				t.Fatal(err)
			}
			// The first member gets its partitions, then four restarts
			// crash at once (500 ms in, assigned or not).
			cmd, assigned := startMember(t, b.BootstrapServers(), c.instance)
			select {
			case <-assigned:
			case <-time.After(30 * time.Second):
				t.Fatal("the first member got no partitions")
			}
			cmd.Process.Kill()
			cmd.Wait()
			for range 4 {
				cmd, _ := startMember(t, b.BootstrapServers(), c.instance)
				time.Sleep(500 * time.Millisecond) // the crash loop's pace, not a synchronization
				cmd.Process.Kill()
				cmd.Wait()
			}
			start := time.Now()
			_, assigned = startMember(t, b.BootstrapServers(), c.instance)
			select {
			case <-assigned:
			case <-time.After(c.limit + 10*time.Second):
				t.Fatalf("the member after the crashes got no partitions within %v", c.limit+10*time.Second)
			}
			took := time.Since(start)
			t.Logf("%s membership: partitions %v after the last crash", c.name, took.Round(time.Millisecond))
			if took > c.limit {
				t.Errorf("%s membership: the member after the crashes waited %v, want at most %v", c.name, took, c.limit)
			}
		})
	}
}
