// Which node coordinates a group: the leader of its __consumer_offsets
// partition.

package creek

import (
	"context"
)

// In a cluster, as in Kafka, a group's coordinator is the node leading the
// group's partition of __consumer_offsets (offsetsPartition). That node
// reads the partition when it becomes its leader, then answers the
// group's joins, heartbeats, commits and offset fetches; every other node
// answers NOT_COORDINATOR, and clients ask FindCoordinator again. When
// leadership moves, the old node drops the groups and their members
// rejoin at the new one, which has every acknowledged commit: commits are
// written with acks=all.

// defaultOffsetsReplicationFactor is Kafka's offsets.topic.replication.factor.
const defaultOffsetsReplicationFactor = 3

// groupCoordinator returns the ID of the node coordinating a group,
// creating __consumer_offsets on first use. It fails with
// ErrCoordinatorNotAvailable while the group's partition has no live
// leader.
func (n *Node) groupCoordinator(ctx context.Context, group string) (int32, error) {
	return n.coordinatorOf(ctx, n.offsetsTopic(), group)
}

// ownsGroup returns nil when this node coordinates a group now: it leads
// the group's partition of __consumer_offsets and has read it. Otherwise
// ErrCoordinatorLoading (it leads but is still reading),
// ErrNotCoordinator, or ErrCoordinatorNotAvailable (no partition yet).
func (n *Node) ownsGroup(group string) error {
	n.offsets.mu.Lock()
	owns := n.offsets.coordinatesLocked(group)
	n.offsets.mu.Unlock()
	if owns {
		return nil
	}
	return n.notCoordinating(n.offsetsTopic(), group)
}

// coordinateOffsetsPartition makes this node coordinate the groups of a
// __consumer_offsets partition when it has become the partition's leader,
// reading their committed offsets from it first, and stop when it no
// longer leads: their offsets leave the cache and their members are told
// to find the new coordinator.
func (n *Node) coordinateOffsetsPartition(p *partition, leads bool) {
	if p.topic != ConsumerOffsetsTopic {
		return
	}
	count, err := n.existingPartitionCount(ConsumerOffsetsTopic)
	if err != nil {
		return
	}
	inPartition := func(group string) bool { return offsetsPartition(group, count) == p.index }
	n.offsets.mu.Lock()
	n.offsets.count = count
	loaded := n.offsets.loaded[p.index]
	n.offsets.mu.Unlock()
	switch {
	case leads && !loaded:
		// Read outside the lock: until loaded is set, nobody commits to
		// the partition (ownsGroup refuses), and other groups go on.
		var read offsetStore // memberships restored before loaded: members find them once Owns accepts the group
		if err := n.replayOffsetsLocked(&read, p); err != nil {
			n.log.Error("could not read a partition of committed offsets; its groups have no coordinator",
				"partition", p.index, "err", err)
			return
		}
		n.offsets.mu.Lock()
		n.offsets.forgetLocked(inPartition) // an earlier tenure's, perhaps stale
		for group, offsets := range read.groups {
			for tp, c := range offsets {
				n.offsets.setLocked(group, tp, c)
			}
		}
		for pid, list := range read.pending {
			for _, p := range list {
				n.offsets.addPendingCommitLocked(pid, p)
			}
		}
		n.offsets.loaded[p.index] = true
		n.offsets.mu.Unlock()
		n.log.Info("coordinating the groups of an offsets partition", "partition", p.index, "node", n.nodeID())
	case !leads && loaded:
		n.offsets.mu.Lock()
		delete(n.offsets.loaded, p.index)
		n.offsets.forgetLocked(inPartition)
		n.offsets.mu.Unlock()
		n.groups.Evict(inPartition) // not under offsets.mu: the coordinator asks ownsGroup under its own lock
		n.log.Info("no longer coordinating the groups of an offsets partition", "partition", p.index, "node", n.nodeID())
	}
}

// forgetLocked drops the cached offsets of the groups match selects.
func (s *offsetStore) forgetLocked(match func(group string) bool) {
	for group := range s.groups {
		if match(group) {
			delete(s.groups, group)
		}
	}
	s.forgetPendingLocked(match)
}
