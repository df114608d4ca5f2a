package kafkaclient

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type testMember struct {
	id     string
	topics []string
	owned  map[string][]int32
	gen    int32
}

// balance runs the balancer as a group leader would and formats the plan as
// "member: topic[partitions] ...; member: ...", members in input order.
func balance(t *testing.T, b *CoPartitionBalancer, topics map[string]int32, ms ...testMember) string {
	t.Helper()
	var members []kmsg.JoinGroupResponseMember
	for _, m := range ms {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		sorted := slices.Clone(m.topics)
		sort.Strings(sorted)
		jm.ProtocolMetadata = b.JoinGroupMetadata(sorted, m.owned, m.gen)
		members = append(members, jm)
	}
	gmb, _, err := b.MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gmb.(kgo.GroupMemberBalancerOrError).BalanceOrError(topics)
	if err != nil {
		t.Fatal(err)
	}
	plan := res.(*kgo.BalancePlan).AsMemberIDMap()
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.id+":"+formatAssignment(plan[m.id]))
	}
	return strings.Join(parts, "; ")
}

func formatAssignment(a map[string][]int32) string {
	var topics []string
	for tp, ps := range a {
		if len(ps) > 0 {
			topics = append(topics, tp)
		}
	}
	sort.Strings(topics)
	var b strings.Builder
	for _, tp := range topics {
		ps := slices.Clone(a[tp])
		slices.Sort(ps)
		fmt.Fprintf(&b, " %s%v", tp, ps)
	}
	return b.String()
}

var all = []string{"customers", "orders", "other"}

func TestBalanceKeepsCoPartitionedTopicsTogether(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"orders", "customers"})
	topics := map[string]int32{"orders": 3, "customers": 3, "other": 2}
	got := balance(t, b, topics, testMember{id: "a", topics: all}, testMember{id: "b", topics: all})
	want := "a: customers[0 2] orders[0 2] other[1]; b: customers[1] orders[1] other[0]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBalanceIsSticky(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"orders", "customers"})
	topics := map[string]int32{"orders": 3, "customers": 3, "other": 2}
	got := balance(t, b, topics,
		testMember{id: "a", topics: all, gen: 4, owned: map[string][]int32{"orders": {1}, "customers": {1}, "other": {0}}},
		testMember{id: "b", topics: all, gen: 4, owned: map[string][]int32{"orders": {0}, "customers": {0}}},
		testMember{id: "c", topics: all})
	want := "a: customers[1] orders[1] other[0]; b: customers[0] orders[0] other[1]; c: customers[2] orders[2]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBalanceGivesUpExcessTasks(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"l", "r"})
	topics := map[string]int32{"l": 4, "r": 4}
	lr := []string{"l", "r"}
	got := balance(t, b, topics,
		testMember{id: "a", topics: lr, gen: 2, owned: map[string][]int32{"l": {0, 1, 2, 3}, "r": {0, 1, 2, 3}}},
		testMember{id: "b", topics: lr})
	// Cooperative: in the first round a keeps half and b gets nothing
	// yet, because the other half still belongs to a.
	want := "a: l[0 1] r[0 1]; b:"
	if got != want {
		t.Errorf("first round: got  %s\nwant %s", got, want)
	}
	// a revokes 2 and 3 and rejoins; the second round hands them to b.
	got = balance(t, b, topics,
		testMember{id: "a", topics: lr, gen: 3, owned: map[string][]int32{"l": {0, 1}, "r": {0, 1}}},
		testMember{id: "b", topics: lr, gen: 3})
	want = "a: l[0 1] r[0 1]; b: l[2 3] r[2 3]"
	if got != want {
		t.Errorf("second round: got  %s\nwant %s", got, want)
	}
}

func TestBalancePrefersLatestGenerationClaim(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"l", "r"})
	topics := map[string]int32{"l": 2, "r": 2}
	lr := []string{"l", "r"}
	// a missed a rebalance and still claims partition 0, which b owned
	// in the newer generation.
	got := balance(t, b, topics,
		testMember{id: "a", topics: lr, gen: 3, owned: map[string][]int32{"l": {0}, "r": {0}}},
		testMember{id: "b", topics: lr, gen: 5, owned: map[string][]int32{"l": {0}, "r": {0}}})
	want := "a: l[1] r[1]; b: l[0] r[0]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBalanceRespectsSubscriptions(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"orders", "customers"})
	topics := map[string]int32{"orders": 2, "customers": 2, "other": 2}
	got := balance(t, b, topics,
		testMember{id: "a", topics: all},
		testMember{id: "b", topics: []string{"other"}})
	want := "a: customers[0 1] orders[0 1]; b: other[0 1]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Nobody subscribes to both co-partitioned topics: each topic's
	// partitions still find an owner.
	got = balance(t, b, topics,
		testMember{id: "a", topics: []string{"orders"}},
		testMember{id: "b", topics: []string{"customers", "other"}})
	want = "a: orders[0 1]; b: customers[0 1] other[0 1]"
	if got != want {
		t.Errorf("split group: got  %s\nwant %s", got, want)
	}
}

func TestBalanceUnequalPartitionCounts(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"l", "r"})
	got := balance(t, b, map[string]int32{"l": 3, "r": 2},
		testMember{id: "a", topics: []string{"l", "r"}}, testMember{id: "b", topics: []string{"l", "r"}})
	want := "a: l[0 2] r[0]; b: l[1] r[1]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBalanceMoreMembersThanTasks(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"l", "r"})
	lr := []string{"l", "r"}
	got := balance(t, b, map[string]int32{"l": 1, "r": 1},
		testMember{id: "a", topics: lr}, testMember{id: "b", topics: lr, gen: 1, owned: map[string][]int32{"l": {0}, "r": {0}}}, testMember{id: "c", topics: lr})
	want := "a:; b: l[0] r[0]; c:"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNewCoPartitionBalancerMergesOverlappingGroups(t *testing.T) {
	b := NewCoPartitionBalancer([]string{"a", "b"}, []string{"c", "d"}, []string{"b", "c"}, []string{"e"})
	if b.groupOf["a"] != b.groupOf["d"] || b.groupOf["a"] != b.groupOf["c"] {
		t.Errorf("a, b, c, d should be one group: %v", b.groupOf)
	}
	if b.groupOf["e"] == b.groupOf["a"] {
		t.Errorf("e should be its own group: %v", b.groupOf)
	}
	got := balance(t, b, map[string]int32{"a": 2, "b": 2, "c": 2, "d": 2},
		testMember{id: "m1", topics: []string{"a", "b", "c", "d"}}, testMember{id: "m2", topics: []string{"a", "b", "c", "d"}})
	want := "m1: a[0] b[0] c[0] d[0]; m2: a[1] b[1] c[1] d[1]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// groupMember is a real franz-go group consumer that records what it owns.
type groupMember struct {
	cl *kgo.Client
	mu sync.Mutex
	as map[string][]int32
}

func joinGroup(t *testing.T, addrs []string, topics ...string) *groupMember {
	t.Helper()
	m := &groupMember{as: map[string][]int32{}}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addrs...),
		kgo.ConsumerGroup("copartition-test"),
		kgo.ConsumeTopics(topics...),
		kgo.Balancers(NewCoPartitionBalancer([]string{"left", "right"})),
		kgo.HeartbeatInterval(50*time.Millisecond),
		kgo.SessionTimeout(6*time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for tp, ps := range a {
				m.as[tp] = append(m.as[tp], ps...)
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for tp, ps := range r {
				m.as[tp] = slices.DeleteFunc(m.as[tp], func(p int32) bool { return slices.Contains(ps, p) })
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	t.Cleanup(cl.Close)
	// Group management starts with the first poll.
	go func() {
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
		}
	}()
	return m
}

func (m *groupMember) id() string {
	id, _ := m.cl.GroupMetadata()
	return id
}

func (m *groupMember) assignment() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return formatAssignment(m.as)
}

// waitAssignments waits until every member owns exactly what want says
// (computed from the members' ids, which order the members).
func waitAssignments(t *testing.T, step string, want func() map[*groupMember]string, ms ...*groupMember) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		ok := true
		for _, m := range ms {
			if m.id() == "" {
				ok = false
			}
		}
		var got, exp []string
		if ok {
			w := want()
			for i, m := range ms {
				got = append(got, fmt.Sprintf("m%d:%s", i, m.assignment()))
				exp = append(exp, fmt.Sprintf("m%d:%s", i, w[m]))
			}
			if slices.Equal(got, exp) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: assignments\n got  %v\n want %v", step, got, exp)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// byID returns the members ordered by member id, the order the group
// leader balances them in.
func byID(ms ...*groupMember) []*groupMember {
	out := slices.Clone(ms)
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out
}

func TestCoPartitionBalancerWithRealGroup(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "left", "right"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()

	// One member owns every task.
	m1 := joinGroup(t, addrs, "left", "right")
	waitAssignments(t, "one member", func() map[*groupMember]string {
		return map[*groupMember]string{m1: " left[0 1 2 3] right[0 1 2 3]"}
	}, m1)

	// A second member joins: m1 keeps its first two tasks (stickiness),
	// partition p of left and right always move together.
	m2 := joinGroup(t, addrs, "left", "right")
	waitAssignments(t, "second member joins", func() map[*groupMember]string {
		return map[*groupMember]string{m1: " left[0 1] right[0 1]", m2: " left[2 3] right[2 3]"}
	}, m1, m2)

	// A third member joins: four tasks over three members. The member
	// first by id keeps both its tasks (the one extra allowed), the other
	// keeps its lower task, and the newcomer gets the task that frees.
	m3 := joinGroup(t, addrs, "left", "right")
	owned := map[*groupMember][]int32{m1: {0, 1}, m2: {2, 3}}
	old := byID(m1, m2)
	keepsBoth, keepsOne := old[0], old[1]
	waitAssignments(t, "third member joins", func() map[*groupMember]string {
		both, one := owned[keepsBoth], owned[keepsOne]
		return map[*groupMember]string{
			keepsBoth: fmt.Sprintf(" left%v right%v", both, both),
			keepsOne:  fmt.Sprintf(" left[%d] right[%d]", one[0], one[0]),
			m3:        fmt.Sprintf(" left[%d] right[%d]", one[1], one[1]),
		}
	}, m1, m2, m3)

	// The member with two tasks leaves: the others keep their task, and
	// the freed tasks are dealt out, the lower one to the member first by
	// id.
	keepsBoth.cl.Close()
	rest := byID(keepsOne, m3)
	freed := owned[keepsBoth]
	has := map[*groupMember]int32{keepsOne: owned[keepsOne][0], m3: owned[keepsOne][1]}
	waitAssignments(t, "a member leaves", func() map[*groupMember]string {
		w := map[*groupMember]string{}
		for i, m := range rest {
			ps := []int32{freed[i], has[m]}
			slices.Sort(ps)
			w[m] = fmt.Sprintf(" left%v right%v", ps, ps)
		}
		return w
	}, keepsOne, m3)
}
