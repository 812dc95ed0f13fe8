package creek

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/faultnet"
)

// TestClusterQuickRestartOfLeader: the node leading a partition stops as
// a crash would (gossip silenced at once, no leave) and starts again at
// once on its data, before the others can find it gone, while a client
// writes with acks=all. The restarted node keeps its segment files (the
// same files, not re-created); it acts only once registered, and by then
// the partition has a new leader epoch: no epoch spans two lives of a
// process. Nothing acknowledged is lost, and the replicas end equal.
// Before registration, a restarted node reconciled against metadata its
// FSM had not applied yet, deleted its logs, and led at the same epoch.
func TestClusterQuickRestartOfLeader(t *testing.T) {
	network := faultnet.New()
	c := newTestCluster(t, 3, clusterOptions{network: network, disk: true})
	nodes := c.nodes
	meta := createReplicated(t, c.all(), "orders", 3)
	checker, stop, wait := startLoad(t, nodes)
	leader := nodes[meta.Leader-1]
	other := nodes[meta.Leader%3]
	waitForEndAbove(t, leader.Node, "orders", 100)
	segment := filepath.Join(leader.dir, "orders-0", "00000000000000000000.log")
	before := stat(t, segment)

	require.NoError(t, leader.members.Close()) // silent, as a killed process is
	require.NoError(t, leader.Close())
	leader.open(other.gossip)
	waitRegistered(t, leader.Node)

	after := leader.controller.fsm.Metadata().Topics["orders"].Partitions[0]
	assert.Greater(t, after.LeaderEpoch, meta.LeaderEpoch, "the restart raised the leader epoch")
	assert.True(t, os.SameFile(before, stat(t, segment)), "the restarted node kept its segment file")
	waitForISR(t, other.Node, "orders", 1, 2, 3)
	stopAndCheck(t, c, checker, stop, wait)
}

// stat returns a file's FileInfo, which os.SameFile compares with another
// taken later: the same file, not one written again under its name.
func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi
}

// waitRegistered waits until the node's FSM holds its registration.
func waitRegistered(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		if n.controller.registered() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("node %d was not registered", n.nodeID())
		}
	}
}

// waitForEndAbove waits until partition 0 of topic ends past offset on n.
func waitForEndAbove(t *testing.T, n *Node, topic string, offset int64) {
	t.Helper()
	p, err := n.partition(topic, 0)
	require.NoError(t, err)
	deadline := time.After(30 * time.Second)
	for {
		arrived := p.arrival()
		if p.log.EndOffset() > offset {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("%s-0 ends at %d", topic, p.log.EndOffset())
		}
	}
}
