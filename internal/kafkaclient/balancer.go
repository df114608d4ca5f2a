package kafkaclient

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CoPartitionProtocol is the group protocol name of the co-partitioning
// balancer. Every member of a group must use the same balancer.
const CoPartitionProtocol = "ksml-copartition"

// CoPartitionBalancer is a kgo.GroupBalancer that keeps co-partitioned
// topics together, as Kafka Streams does with its tasks: for every group of
// co-partitioned topics, partition p of all its topics goes to the same
// member. The unit of assignment is such a task, (group, p); topics that
// belong to no group are tasks of their own.
//
// Assignment is balanced by task count (members differ by at most one
// task) and sticky: a member keeps the tasks it owned before the rebalance
// as long as that keeps the balance. Tasks are spread so that the
// partitions of one group are interleaved across members.
//
// The protocol is cooperative (KIP-429): members keep their partitions
// through a rebalance and revoke only what moves; a task that moves is
// first taken from its old owner and given to the new one in the follow-up
// rebalance the old owner triggers, so no partition ever has two owners.
// (With an eager protocol franz-go forgets the owned partitions before
// rejoining, which would make stickiness impossible.)
//
// A task is only given to members subscribed to all of its topics; if no
// member subscribes to all of them, each member gets the task's topics it
// subscribes to, so no partition is left unassigned.
type CoPartitionBalancer struct {
	groupOf map[string]int // topic => index of its co-partition group
	groups  [][]string
}

// NewCoPartitionBalancer returns a balancer for the given groups of
// co-partitioned topics. A topic in several groups joins them into one.
func NewCoPartitionBalancer(groups ...[]string) *CoPartitionBalancer {
	b := &CoPartitionBalancer{groupOf: map[string]int{}}
	for _, g := range groups {
		target := -1
		for _, t := range g {
			if gi, ok := b.groupOf[t]; ok {
				target = gi
				break
			}
		}
		if target < 0 {
			target = len(b.groups)
			b.groups = append(b.groups, nil)
		}
		for _, t := range g {
			if gi, ok := b.groupOf[t]; ok && gi != target {
				// Merge group gi into target.
				for _, mt := range b.groups[gi] {
					b.groupOf[mt] = target
				}
				b.groups[target] = append(b.groups[target], b.groups[gi]...)
				b.groups[gi] = nil
				continue
			}
			if _, ok := b.groupOf[t]; !ok {
				b.groupOf[t] = target
				b.groups[target] = append(b.groups[target], t)
			}
		}
	}
	return b
}

// ProtocolName implements kgo.GroupBalancer.
func (*CoPartitionBalancer) ProtocolName() string { return CoPartitionProtocol }

// IsCooperative implements kgo.GroupBalancer: the protocol is cooperative.
func (*CoPartitionBalancer) IsCooperative() bool { return true }

// JoinGroupMetadata implements kgo.GroupBalancer. It announces the member's
// topics and the partitions it owned, for stickiness.
func (*CoPartitionBalancer) JoinGroupMetadata(interests []string, current map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 2
	meta.Topics = interests
	meta.Generation = generation
	topics := make([]string, 0, len(current))
	for t := range current {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		op := kmsg.NewConsumerMemberMetadataOwnedPartition()
		op.Topic = t
		op.Partitions = current[t]
		meta.OwnedPartitions = append(meta.OwnedPartitions, op)
	}
	return meta.AppendTo(nil)
}

// ParseSyncAssignment implements kgo.GroupBalancer.
func (*CoPartitionBalancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(assignment)
}

// MemberBalancer implements kgo.GroupBalancer.
func (b *CoPartitionBalancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	return cb, cb.MemberTopics(), err
}

// task is one unit of assignment: partition p of a set of topics.
type task struct {
	group     int // co-partition group, or -1-based index for lone topics
	partition int32
	topics    []string
}

// Balance implements kgo.ConsumerBalancerBalance.
func (b *CoPartitionBalancer) Balance(cb *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	type member struct {
		m     *kmsg.JoinGroupResponseMember
		subs  map[string]bool
		gen   int32
		owned map[string]map[int32]bool
		tasks int
	}
	var members []*member
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		mb := &member{m: m, subs: map[string]bool{}, gen: meta.Generation, owned: map[string]map[int32]bool{}}
		for _, t := range meta.Topics {
			mb.subs[t] = true
		}
		for _, op := range meta.OwnedPartitions {
			ps := map[int32]bool{}
			for _, p := range op.Partitions {
				ps[p] = true
			}
			mb.owned[op.Topic] = ps
		}
		members = append(members, mb)
	})
	plan := cb.NewPlan()
	if len(members) == 0 {
		return plan
	}

	// Build the tasks: per group, the topics that exist, and a task per
	// partition up to the largest partition count.
	groupTopics := map[int][]string{}
	var lone []string
	for t := range topics {
		if gi, ok := b.groupOf[t]; ok {
			groupTopics[gi] = append(groupTopics[gi], t)
		} else {
			lone = append(lone, t)
		}
	}
	sort.Strings(lone)
	var groupIDs []int
	for gi := range groupTopics {
		groupIDs = append(groupIDs, gi)
		sort.Strings(groupTopics[gi])
	}
	sort.Ints(groupIDs)
	var tasks []task
	addTasks := func(gid int, ts []string) {
		var n int32
		for _, t := range ts {
			n = max(n, topics[t])
		}
		for p := int32(0); p < n; p++ {
			var tts []string
			for _, t := range ts {
				if p < topics[t] {
					tts = append(tts, t)
				}
			}
			tasks = append(tasks, task{group: gid, partition: p, topics: tts})
		}
	}
	for _, gi := range groupIDs {
		addTasks(gi, groupTopics[gi])
	}
	for i, t := range lone {
		addTasks(-1-i, []string{t})
	}

	// Split a task whose topics no single member subscribes to into
	// per-topic tasks, so every partition has an eligible member.
	eligible := func(tk task) []*member {
		var out []*member
		for _, m := range members {
			ok := true
			for _, t := range tk.topics {
				if !m.subs[t] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, m)
			}
		}
		return out
	}
	var units []task
	var unitMembers [][]*member
	for _, tk := range tasks {
		if el := eligible(tk); len(el) > 0 {
			units = append(units, tk)
			unitMembers = append(unitMembers, el)
			continue
		}
		for _, t := range tk.topics {
			single := task{group: tk.group, partition: tk.partition, topics: []string{t}}
			if el := eligible(single); len(el) > 0 {
				units = append(units, single)
				unitMembers = append(unitMembers, el)
			}
		}
	}

	// Quotas: every member gets min or min+1 tasks.
	total := len(units)
	minQuota := total / len(members)
	extra := total % len(members)

	owner := make([]*member, len(units))
	// The previous owner of a unit is the eligible member that owned the
	// most of its partitions, preferring the latest generation (a member
	// that missed a rebalance may claim stale partitions).
	prev := make([]*member, len(units))
	for i, u := range units {
		var best *member
		bestCount := 0
		for _, m := range unitMembers[i] {
			c := 0
			for _, t := range u.topics {
				if m.owned[t][u.partition] {
					c++
				}
			}
			if c == 0 {
				continue
			}
			if best == nil || m.gen > best.gen || (m.gen == best.gen && c > bestCount) {
				best, bestCount = m, c
			}
		}
		prev[i] = best
	}
	// Sticky pass: members keep previously owned units up to their quota,
	// in member order; the first `extra` members that can use it get one
	// more.
	prevUnits := map[*member][]int{}
	for i, m := range prev {
		if m != nil {
			prevUnits[m] = append(prevUnits[m], i)
		}
	}
	for _, m := range members {
		mine := prevUnits[m]
		keep := minQuota
		if len(mine) > minQuota && extra > 0 {
			keep++
			extra--
		}
		for j, i := range mine {
			if j >= keep {
				break
			}
			owner[i] = m
			m.tasks++
		}
	}
	// Fill pass: each free unit goes to the eligible member with the fewest
	// tasks, ties to the member first in order; walking units in partition
	// order this interleaves a group's partitions across members.
	for i := range units {
		if owner[i] != nil {
			continue
		}
		var best *member
		for _, m := range unitMembers[i] {
			if best == nil || m.tasks < best.tasks {
				best = m
			}
		}
		owner[i] = best
		best.tasks++
	}

	for i, u := range units {
		for _, t := range u.topics {
			plan.AddPartition(owner[i].m, t, u.partition)
		}
	}
	plan.AdjustCooperative(cb)
	return plan
}
