package creek

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tps(topic string, partitions ...int32) []TopicPartition {
	var out []TopicPartition
	for _, p := range partitions {
		out = append(out, TopicPartition{topic, p})
	}
	return out
}

// TestAssignorsKafkaExamples checks the examples of Kafka's assignor
// documentation: two members C0 and C1 subscribed to t0 and t1 of three
// partitions each.
func TestAssignorsKafkaExamples(t *testing.T) {
	members := []GroupSubscription{{MemberID: "C0", Topics: []string{"t0", "t1"}}, {MemberID: "C1", Topics: []string{"t0", "t1"}}}
	counts := map[string]int32{"t0": 3, "t1": 3}
	assert.Equal(t, map[string][]TopicPartition{
		"C0": append(tps("t0", 0, 1), tps("t1", 0, 1)...),
		"C1": append(tps("t0", 2), tps("t1", 2)...),
	}, RangeAssignor().Assign(members, counts))
	assert.Equal(t, map[string][]TopicPartition{
		"C0": append(tps("t0", 0, 2), tps("t1", 1)...),
		"C1": append(tps("t0", 1), tps("t1", 0, 2)...),
	}, RoundRobinAssignor().Assign(members, counts))
}

// TestAssignorsProperties runs every assignor on random groups: each
// partition goes to at most one member, only to a subscriber of its topic,
// and (for all but cooperative-sticky, which may withhold moving
// partitions) every partition with a subscriber is assigned; with equal
// subscriptions, round-robin and the sticky ones balance within one.
func TestAssignorsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		topics := map[string]int32{}
		for j := range 1 + rng.IntN(4) {
			topics[fmt.Sprintf("t%d", j)] = int32(rng.IntN(13))
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range topics {
				if !yield(n) {
					return
				}
			}
		})
		equal := rng.IntN(2) == 0
		var members []GroupSubscription
		for m := range 1 + rng.IntN(6) {
			sub := GroupSubscription{MemberID: fmt.Sprintf("m%d", m), Topics: names, Generation: int32(rng.IntN(3))}
			if !equal {
				sub.Topics = nil
				for _, n := range names {
					if rng.IntN(2) == 0 {
						sub.Topics = append(sub.Topics, n)
					}
				}
			}
			for _, n := range names {
				for p := range topics[n] + 1 { // owned may name a partition that no longer exists
					if rng.IntN(4) == 0 {
						sub.Owned = append(sub.Owned, TopicPartition{n, p})
					}
				}
			}
			members = append(members, sub)
		}
		for _, a := range []Assignor{RangeAssignor(), RoundRobinAssignor(), StickyAssignor(), CooperativeStickyAssignor()} {
			out := a.Assign(members, topics)
			owner := map[TopicPartition]string{}
			for _, m := range members {
				got, ok := out[m.MemberID]
				require.True(t, ok, "case %d %s: member %s missing", i, a.Name(), m.MemberID)
				for _, tp := range got {
					require.Empty(t, owner[tp], "case %d %s: %v given twice", i, a.Name(), tp)
					owner[tp] = m.MemberID
					require.Contains(t, m.Topics, tp.Topic, "case %d %s", i, a.Name())
					require.Less(t, tp.Partition, topics[tp.Topic], "case %d %s", i, a.Name())
				}
			}
			if a.Cooperative() {
				continue
			}
			for _, n := range names {
				if len(subscribersOf(members, n)) == 0 {
					continue
				}
				for p := range topics[n] {
					require.NotEmpty(t, owner[TopicPartition{n, p}], "case %d %s: %s-%d unassigned", i, a.Name(), n, p)
				}
			}
			if equal && a.Name() != "range" {
				lo, hi := len(out[members[0].MemberID]), 0
				for _, m := range members {
					lo, hi = min(lo, len(out[m.MemberID])), max(hi, len(out[m.MemberID]))
				}
				require.LessOrEqual(t, hi-lo, 1, "case %d %s: unbalanced", i, a.Name())
			}
		}
	}
}

// TestCooperativeStickyMovesInTwoRounds: a member joining a balanced group
// first gets nothing another member owns; once the owners give up what
// moves, the second round gives it its share, and no partition was ever
// assigned to two members at once.
func TestCooperativeStickyMovesInTwoRounds(t *testing.T) {
	a := CooperativeStickyAssignor()
	counts := map[string]int32{"t": 6}
	members := []GroupSubscription{
		{MemberID: "a", Topics: []string{"t"}, Owned: tps("t", 0, 1), Generation: 1},
		{MemberID: "b", Topics: []string{"t"}, Owned: tps("t", 2, 3), Generation: 1},
		{MemberID: "c", Topics: []string{"t"}, Owned: tps("t", 4, 5), Generation: 1},
		{MemberID: "d", Topics: []string{"t"}, Generation: -1},
	}
	first := a.Assign(members, counts)
	assert.Empty(t, first["d"], "d gets nothing another member owns yet")
	for i := range members[:3] {
		assert.Subset(t, members[i].Owned, first[members[i].MemberID], "owners only give up")
		members[i].Owned, members[i].Generation = first[members[i].MemberID], 2
	}
	second := a.Assign(members, counts)
	assert.Len(t, second["d"], 1)
	total := 0
	for _, m := range members[:3] {
		assert.Equal(t, m.Owned, second[m.MemberID], "staying members keep what they kept")
		total += len(second[m.MemberID])
	}
	assert.Equal(t, 6, total+len(second["d"]))
}

func TestStickyKeepsAssignmentWhenMemberLeaves(t *testing.T) {
	counts := map[string]int32{"t": 6}
	members := []GroupSubscription{
		{MemberID: "a", Topics: []string{"t"}, Owned: tps("t", 0, 1), Generation: 1},
		{MemberID: "b", Topics: []string{"t"}, Owned: tps("t", 2, 3), Generation: 1},
	}
	for _, a := range []Assignor{StickyAssignor(), CooperativeStickyAssignor()} {
		out := a.Assign(members, counts) // c, which owned 4 and 5, left
		assert.Subset(t, out["a"], tps("t", 0, 1), a.Name())
		assert.Subset(t, out["b"], tps("t", 2, 3), a.Name())
		assert.Len(t, out["a"], 3, a.Name())
		assert.Len(t, out["b"], 3, a.Name())
	}
}

func TestStickyConflictGoesToLaterGeneration(t *testing.T) {
	members := []GroupSubscription{
		{MemberID: "zombie", Topics: []string{"t"}, Owned: tps("t", 0), Generation: 1},
		{MemberID: "current", Topics: []string{"t"}, Owned: tps("t", 0), Generation: 2},
	}
	out := StickyAssignor().Assign(members, map[string]int32{"t": 2})
	assert.Equal(t, tps("t", 0), out["current"])
	assert.Equal(t, tps("t", 1), out["zombie"])
}
