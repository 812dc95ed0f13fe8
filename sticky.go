// The sticky and cooperative-sticky assignors (KIP-54, KIP-429).

package creek

import (
	"cmp"
	"slices"
)

// StickyAssignor balances partitions over the members, as even as their
// subscriptions allow, and at each rebalance moves as few partitions as
// that balance needs: a member keeps what it owned unless it holds more
// than its share. It follows the eager protocol: members give up all
// partitions before rejoining, and get most of them back. Kafka's
// "sticky".
func StickyAssignor() Assignor { return stickyAssignor{} }

// CooperativeStickyAssignor assigns as StickyAssignor does, following the
// cooperative protocol (KIP-429): members keep reading their partitions
// through a rebalance, and a partition that moves is first only taken
// from its owner, then given to its new member in a second rebalance, so
// no partition is read by two members at once. creek's default, Kafka's
// "cooperative-sticky".
func CooperativeStickyAssignor() Assignor { return stickyAssignor{cooperative: true} }

type stickyAssignor struct{ cooperative bool }

func (s stickyAssignor) Name() string {
	if s.cooperative {
		return "cooperative-sticky"
	}
	return "sticky"
}

func (s stickyAssignor) Cooperative() bool { return s.cooperative }

func (s stickyAssignor) Assign(members []GroupSubscription, partitions map[string]int32) map[string][]TopicPartition {
	members = sortedMembers(members)
	out := emptyAssignment(members)
	subscribed := make(map[string]GroupSubscription, len(members))
	for _, m := range members {
		subscribed[m.MemberID] = m
	}
	canTake := func(member string, tp TopicPartition) bool {
		return slices.Contains(subscribed[member].Topics, tp.Topic)
	}
	owner := currentOwners(members, partitions)
	var unowned []TopicPartition
	for _, tp := range allPartitions(partitions) {
		if id, ok := owner[tp]; ok && canTake(id, tp) {
			out[id] = append(out[id], tp)
		} else {
			unowned = append(unowned, tp)
		}
	}
	// Partitions few members can take go first, while those members still
	// have room.
	eligible := func(tp TopicPartition) int { return len(subscribersOf(members, tp.Topic)) }
	slices.SortStableFunc(unowned, func(a, b TopicPartition) int { return cmp.Compare(eligible(a), eligible(b)) })
	for _, tp := range unowned {
		best := ""
		for _, m := range members {
			if canTake(m.MemberID, tp) && (best == "" || len(out[m.MemberID]) < len(out[best])) {
				best = m.MemberID
			}
		}
		if best != "" {
			out[best] = append(out[best], tp)
		}
	}
	balance(members, out, canTake)
	for id := range out {
		slices.SortFunc(out[id], compareTopicPartitions)
	}
	if s.cooperative {
		withholdMoving(out, owner)
	}
	return out
}

// currentOwners returns the member that owns each existing partition. When
// two members claim one, the claim of the later generation wins, as in
// Kafka: the other is a member that missed a rebalance.
func currentOwners(members []GroupSubscription, partitions map[string]int32) map[TopicPartition]string {
	owner := map[TopicPartition]string{}
	generation := map[TopicPartition]int32{}
	for _, m := range members {
		for _, tp := range m.Owned {
			if tp.Partition < 0 || tp.Partition >= partitions[tp.Topic] {
				continue
			}
			if _, claimed := owner[tp]; claimed && generation[tp] >= m.Generation {
				continue
			}
			owner[tp], generation[tp] = m.MemberID, m.Generation
		}
	}
	return owner
}

// balance moves partitions from the members with the most to the members
// with the fewest that can take them, until no move narrows the gap. Each
// move lowers the sum of squared counts, so it ends.
func balance(members []GroupSubscription, out map[string][]TopicPartition, canTake func(string, TopicPartition) bool) {
	byCount := func() []string {
		ids := make([]string, 0, len(members))
		for _, m := range members {
			ids = append(ids, m.MemberID)
		}
		slices.SortStableFunc(ids, func(a, b string) int { return cmp.Compare(len(out[b]), len(out[a])) })
		return ids
	}
	for moved := true; moved; {
		moved = false
		ids := byCount()
	search:
		for _, from := range ids {
			for i := len(ids) - 1; i >= 0; i-- {
				to := ids[i]
				if len(out[from]) <= len(out[to])+1 {
					break
				}
				for j := len(out[from]) - 1; j >= 0; j-- {
					if tp := out[from][j]; canTake(to, tp) {
						out[from] = slices.Delete(out[from], j, j+1)
						out[to] = append(out[to], tp)
						moved = true
						break search
					}
				}
			}
		}
	}
}

// withholdMoving leaves out of this rebalance every partition that moves
// away from a member owning it: that member revokes it and rejoins, and
// the next rebalance gives it to its new member (KIP-429).
func withholdMoving(out map[string][]TopicPartition, owner map[TopicPartition]string) {
	for id, tps := range out {
		out[id] = slices.DeleteFunc(tps, func(tp TopicPartition) bool {
			previous, owned := owner[tp]
			return owned && previous != id
		})
	}
}
