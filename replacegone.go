// Replacing gone nodes: the controller moves their replicas to live nodes.

package creek

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/creekmq/creek/internal/controller"
)

// The controller's leader moves replicas (KIP-455): a reassignment, asked
// for or started because a node has been gone for ClusterConfig's
// ReplaceGoneAfter, first adds the new replicas, which copy the log from
// the leader as any follower does; once the leader has them all in its
// ISR, the controller drops the old ones.

// goneNodes remembers since when each node holding replicas, or a place
// in the controller's Raft, has been missing, as the controller's leader
// saw it.
type goneNodes struct {
	after time.Duration // ReplaceGoneAfter; negative: never
	since map[int32]time.Time
}

func newGoneNodes(after time.Duration) *goneNodes {
	return &goneNodes{after: after, since: map[int32]time.Time{}}
}

// update records which replica holders are missing now and returns those
// gone long enough to replace, and when the next one will be.
func (g *goneNodes) update(meta *controller.Metadata, voters, live []int32, now time.Time) (expired []int32, next time.Time) {
	holders := map[int32]bool{}
	for _, id := range voters {
		holders[id] = true
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				holders[r] = true
			}
		}
	}
	for id := range g.since {
		if !holders[id] || slices.Contains(live, id) {
			delete(g.since, id)
		}
	}
	for id := range holders {
		if slices.Contains(live, id) {
			continue
		}
		since, ok := g.since[id]
		if !ok {
			since = now
			g.since[id] = since
		}
		switch deadline := since.Add(g.after); {
		case g.after < 0:
		case !deadline.After(now):
			expired = append(expired, id)
		case next.IsZero() || deadline.Before(next):
			next = deadline
		}
	}
	slices.Sort(expired)
	return expired, next
}

// moveReplicas commits the reassignments that are due: those whose new
// replicas are all in sync finish, and the replicas of nodes gone too
// long move to live nodes. It returns a channel that fires when the next
// gone node is due, nil for none, and whether it committed all it had to.
func (c *clusterController) moveReplicas(gone *goneNodes) (<-chan time.Time, bool) {
	live := c.n.liveNodeIDs()
	meta := c.fsm.Metadata()
	servers := c.raftServers()
	expired, next := gone.update(meta, servers, live, time.Now())
	done := c.retire(expired, servers)
	commands := controller.FinishReady(meta)
	if len(expired) > 0 {
		commands = append(commands, controller.ReplaceGone(meta, live, expired)...)
	}
	for _, cmd := range commands {
		if err := c.propose(context.Background(), cmd); err != nil {
			c.n.log.Warn("could not commit a reassignment", "err", err)
			done = false
			break
		}
		if r := cmd.Reassign; r != nil {
			c.n.log.Info("moving a partition's replicas off gone nodes", "topic", r.Topic, "partition", r.Partition,
				"replicas", r.Replicas, "gone", expired)
		} else if f := cmd.FinishReassign; f != nil {
			c.n.log.Info("partition reassignment finished", "topic", f.Topic, "partition", f.Partition)
		}
	}
	if next.IsZero() {
		return nil, done
	}
	return time.After(time.Until(next)), done
}

// liveNodeIDs returns the IDs of the live members.
func (n *Node) liveNodeIDs() []int32 {
	var live []int32
	for _, m := range n.ClusterMembers() {
		live = append(live, m.NodeID)
	}
	return live
}

// raftServers returns the node IDs in the controller's Raft configuration.
func (c *clusterController) raftServers() []int32 {
	future := c.raft.GetConfiguration()
	if future.Error() != nil {
		return nil
	}
	var out []int32
	for _, s := range future.Configuration().Servers {
		if id, err := strconv.Atoi(string(s.ID)); err == nil {
			out = append(out, int32(id))
		}
	}
	return out
}

// retire removes nodes gone for good from the controller's Raft, so that
// they no longer count toward its majority, and promotes a live non-voter
// in a voter's place (admitMembers); a retired node that comes back is
// admitted again. It reports whether it did all it had to.
func (c *clusterController) retire(expired, servers []int32) bool {
	removed, done := false, true
	for _, id := range expired {
		if !slices.Contains(servers, id) || id == c.n.nodeID() {
			continue
		}
		if err := c.raft.RemoveServer(raftID(id), 0, 10*time.Second).Error(); err != nil {
			c.n.log.Warn("could not remove a gone node from the controller", "node", id, "err", err)
			done = false
			break
		}
		c.n.log.Info("gone node removed from the controller", "node", id)
		removed = true
	}
	if removed { // no membership change will come to ask for it
		done = c.admitMembers() && done
	}
	return done
}
