// Assignor, the group assignment strategies: range and round-robin (sticky
// is in sticky.go).

package creek

import (
	"cmp"
	"slices"
)

// An Assignor decides which member of a consumer group reads which
// partitions (Kafka's partition.assignment.strategy). The group's leader
// runs it at every rebalance, on every member's subscription. Members
// agree on an assignor by name: the group uses one every member lists.
type Assignor interface {
	// Name is the protocol name members vote with, as Kafka clients name
	// theirs ("range", "roundrobin", "sticky", "cooperative-sticky"), so
	// creek consumers and Kafka clients can share a group.
	Name() string
	// Cooperative reports whether the assignor follows the incremental
	// protocol (KIP-429): a member keeps its partitions through a
	// rebalance and gives up only those that move, which are then assigned
	// in a second rebalance. Eager assignors have every member give up
	// everything before it rejoins.
	Cooperative() bool
	// Assign maps each member ID to its partitions. partitions holds the
	// partition count of every topic some member subscribes to. Every
	// partition must go to at most one member subscribed to its topic.
	Assign(members []GroupSubscription, partitions map[string]int32) map[string][]TopicPartition
}

// GroupSubscription is what one member tells the group leader when it
// joins: the topics it reads and the partitions it owns.
type GroupSubscription struct {
	MemberID   string
	InstanceID string   // group.instance.id; empty for a dynamic member
	Topics     []string // sorted
	// Owned are the partitions the member read in Generation: for
	// cooperative members all it still owns, for eager ones what it owned
	// before it gave everything up (sticky's user data).
	Owned      []TopicPartition
	Generation int32 // -1 when unknown
}

// RangeAssignor assigns each topic on its own: its partitions, in order,
// are cut into one contiguous range per subscribed member, the first
// members taking one more when they do not divide evenly. Kafka's "range".
func RangeAssignor() Assignor { return rangeAssignor{} }

// RoundRobinAssignor deals every partition of every topic, sorted, to the
// members in turn, skipping members not subscribed to its topic. Kafka's
// "roundrobin".
func RoundRobinAssignor() Assignor { return roundRobinAssignor{} }

type rangeAssignor struct{}

func (rangeAssignor) Name() string      { return "range" }
func (rangeAssignor) Cooperative() bool { return false }

func (rangeAssignor) Assign(members []GroupSubscription, partitions map[string]int32) map[string][]TopicPartition {
	members = sortedMembers(members)
	out := emptyAssignment(members)
	for _, topic := range sortedTopics(partitions) {
		subscribers := subscribersOf(members, topic)
		if len(subscribers) == 0 {
			continue
		}
		count := partitions[topic]
		each, extra := count/int32(len(subscribers)), count%int32(len(subscribers))
		next := int32(0)
		for i, m := range subscribers {
			n := each
			if int32(i) < extra {
				n++
			}
			for p := next; p < next+n; p++ {
				out[m.MemberID] = append(out[m.MemberID], TopicPartition{topic, p})
			}
			next += n
		}
	}
	return out
}

type roundRobinAssignor struct{}

func (roundRobinAssignor) Name() string      { return "roundrobin" }
func (roundRobinAssignor) Cooperative() bool { return false }

func (roundRobinAssignor) Assign(members []GroupSubscription, partitions map[string]int32) map[string][]TopicPartition {
	members = sortedMembers(members)
	out := emptyAssignment(members)
	if len(members) == 0 {
		return out
	}
	next := 0
	for _, tp := range allPartitions(partitions) {
		for tries := 0; tries < len(members); tries++ {
			m := members[next]
			next = (next + 1) % len(members)
			if slices.Contains(m.Topics, tp.Topic) {
				out[m.MemberID] = append(out[m.MemberID], tp)
				break
			}
		}
	}
	return out
}

// sortedMembers orders members as Kafka's assignors do: static members by
// instance ID first, then the rest by member ID, so a restarted static
// member keeps its place.
func sortedMembers(members []GroupSubscription) []GroupSubscription {
	out := slices.Clone(members)
	slices.SortFunc(out, func(a, b GroupSubscription) int {
		if (a.InstanceID == "") != (b.InstanceID == "") {
			if a.InstanceID != "" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.InstanceID, b.InstanceID), cmp.Compare(a.MemberID, b.MemberID))
	})
	return out
}

func emptyAssignment(members []GroupSubscription) map[string][]TopicPartition {
	out := make(map[string][]TopicPartition, len(members))
	for _, m := range members {
		out[m.MemberID] = nil
	}
	return out
}

func subscribersOf(members []GroupSubscription, topic string) []GroupSubscription {
	var out []GroupSubscription
	for _, m := range members {
		if slices.Contains(m.Topics, topic) {
			out = append(out, m)
		}
	}
	return out
}

func sortedTopics(partitions map[string]int32) []string {
	topics := make([]string, 0, len(partitions))
	for t := range partitions {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	return topics
}

// allPartitions lists every partition of every topic, sorted.
func allPartitions(partitions map[string]int32) []TopicPartition {
	var out []TopicPartition
	for _, t := range sortedTopics(partitions) {
		for p := int32(0); p < partitions[t]; p++ {
			out = append(out, TopicPartition{t, p})
		}
	}
	return out
}

func compareTopicPartitions(a, b TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}
