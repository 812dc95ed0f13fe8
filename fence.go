// Fencing: a node that knows no controller leader refuses to lead, so a
// leader cut off from the majority stops taking writes and reads.

package creek

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// A partition leader cut off from the majority of the cluster is deposed
// there, after failure detection, while it cannot hear of it. Kafka fences
// such a broker once it misses its heartbeats to the controller; a creek
// node fences itself as soon as it knows no controller leader (its Raft
// has lost the leader's heartbeats): it refuses to lead — writes and
// reads get NOT_LEADER_OR_FOLLOWER — and its Metadata names no leader, so
// clients ask another node, which knows the new one. Without it, clients
// that asked the cut-off node went on writing to it for as long as the
// cut lasted.
//
// Hearing from a leader again is not enough: the leader's heartbeats
// carry no log, and Raft may take seconds to send the entries the node
// missed (it backs off from a follower that failed). So the node stays
// fenced until its metadata has caught up with the leader's: it asks the
// leader's node for its partitions' leader epochs, and waits until its own
// are as recent.

// fenceRetry is how long a fenced node waits before asking again after
// its question to the leader failed.
const fenceRetry = 100 * time.Millisecond

// guardLeadership fences the node while it knows no controller leader or
// lags the leader's metadata, until the controller stops.
func (c *clusterController) guardLeadership(ctx context.Context) {
	leaders, stop := c.observeLeaders(1)
	defer stop()
	for ctx.Err() == nil {
		leader := c.leader()
		switch {
		case leader < 0:
			c.n.setFenced(true)
		case c.n.fenced.Load():
			if err := c.catchUp(ctx, leader, leaders); err != nil {
				c.n.log.Debug("still fenced", "node", c.n.nodeID(), "leader", leader, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(fenceRetry):
				}
				continue
			}
			c.n.setFenced(false)
		}
		select {
		case <-ctx.Done():
		case <-leaders:
		}
	}
}

// catchUp returns once this node's metadata is as recent as the
// controller leader's, or an error when it could not tell or the leader
// changed meanwhile.
func (c *clusterController) catchUp(ctx context.Context, leader int32, leaders <-chan raft.Observation) error {
	if leader == c.n.nodeID() {
		return c.raft.Barrier(10 * time.Second).Error() // every entry before it is applied
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	want, err := c.leaderEpochs(ctx, leader)
	if err != nil {
		return err
	}
	for {
		applied := c.fsm.Changed()
		if c.epochsReached(want) {
			return nil
		}
		select {
		case <-applied:
		case <-leaders:
			return fmt.Errorf("the controller leader changed from node %d", leader)
		case <-ctx.Done():
			return fmt.Errorf("metadata not caught up with node %d's: %w", leader, ctx.Err())
		}
	}
}

// leaderEpochs asks a node for the leader epoch of every partition, by
// topic, as its metadata says.
func (c *clusterController) leaderEpochs(ctx context.Context, node int32) (map[string][]int32, error) {
	resp, err := c.n.peers.request(ctx, node, kmsg.NewPtrMetadataRequest())
	if err != nil {
		return nil, err
	}
	out := map[string][]int32{}
	for _, t := range resp.(*kmsg.MetadataResponse).Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		epochs := make([]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			if p.Partition >= 0 && int(p.Partition) < len(epochs) {
				epochs[p.Partition] = p.LeaderEpoch
			}
		}
		out[*t.Topic] = epochs
	}
	return out, nil
}

// epochsReached reports whether this node's metadata has every
// partition in want at its leader epoch or later.
func (c *clusterController) epochsReached(want map[string][]int32) bool {
	meta := c.fsm.Metadata()
	for topic, epochs := range want {
		t := meta.Topics[topic]
		if t == nil && !internalTopic(topic) || t != nil && len(t.Partitions) < len(epochs) {
			return false
		}
		for i, e := range epochs {
			if t != nil && t.Partitions[i].LeaderEpoch < e {
				return false
			}
		}
	}
	return true
}

// setFenced fences or unfences the node, waking everything that waits on
// a partition's role (a producer waiting for its leader among them).
func (n *Node) setFenced(fenced bool) {
	if n.fenced.Swap(fenced) == fenced {
		return
	}
	if fenced {
		n.log.Warn("fenced: no controller leader is known; leading no partition until this node has caught up",
			"node", n.nodeID())
	} else {
		n.log.Info("unfenced: caught up with the controller leader's metadata", "node", n.nodeID())
	}
	for _, p := range n.allPartitions() {
		p.wake()
	}
}

// fenceLeadership hides the leaders of a fenced node's metadata.
func (n *Node) fenceLeadership(partitions []kafka.PartitionMetadata) {
	if !n.fenced.Load() {
		return
	}
	for i := range partitions {
		partitions[i].Leader = -1
	}
}

// advertisedMembers returns the nodes Metadata lists. A fenced node, cut
// off, may see few live members; it lists every node it has seen, so a
// client that asked it learns of the others, asks them, and finds the
// leaders there.
func (n *Node) advertisedMembers() []ClusterMember {
	members := n.ClusterMembers()
	n.seenMu.Lock()
	defer n.seenMu.Unlock()
	if n.seen == nil {
		n.seen = map[int32]ClusterMember{}
	}
	for _, m := range members {
		n.seen[m.NodeID] = m
	}
	if !n.fenced.Load() {
		return members
	}
	return slices.SortedFunc(maps.Values(n.seen), func(a, b ClusterMember) int { return int(a.NodeID - b.NodeID) })
}
