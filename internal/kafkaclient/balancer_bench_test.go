package kafkaclient

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkBalance balances 20 sub-topologies of 3 co-partitioned topics
// with 32 partitions each (640 tasks, 1920 partitions) over 12 members
// that each owned a share before.
func BenchmarkBalance(b *testing.B) {
	var groups [][]string
	topics := map[string]int32{}
	var all []string
	for g := 0; g < 20; g++ {
		var grp []string
		for i := 0; i < 3; i++ {
			t := fmt.Sprintf("topic-%02d-%d", g, i)
			grp = append(grp, t)
			topics[t] = 32
			all = append(all, t)
		}
		groups = append(groups, grp)
	}
	bal := NewCoPartitionBalancer(groups...)
	var members []kmsg.JoinGroupResponseMember
	for m := 0; m < 12; m++ {
		owned := map[string][]int32{}
		for _, t := range all {
			for p := int32(m); p < 32; p += 13 {
				owned[t] = append(owned[t], p)
			}
		}
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = fmt.Sprintf("member-%02d", m)
		jm.ProtocolMetadata = bal.JoinGroupMetadata(all, owned, 7)
		members = append(members, jm)
	}
	b.ReportAllocs()
	for b.Loop() {
		gmb, _, err := bal.MemberBalancer(members)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := gmb.(kgo.GroupMemberBalancerOrError).BalanceOrError(topics); err != nil {
			b.Fatal(err)
		}
	}
}
