package creek

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openClusterNode opens a memory node with a Kafka listener that joins
// the cluster through seeds, gossiping fast.
func openClusterNode(t *testing.T, id int32, seeds ...string) *Node {
	t.Helper()
	n, err := Open(Config{Logger: discardLogger(), Listen: "127.0.0.1:0",
		Cluster: &ClusterConfig{NodeID: id, GossipAddr: "127.0.0.1:0", Seeds: seeds, Rack: "r1", fastGossip: true}})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

// waitForMembers waits, on membership changes, until n sees exactly ids.
func waitForMembers(t *testing.T, n *Node, ids ...int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		changed := n.clusterChanged()
		var got []int32
		for _, m := range n.ClusterMembers() {
			got = append(got, m.NodeID)
		}
		if fmt.Sprint(got) == fmt.Sprint(ids) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("node sees %v, want %v", got, ids)
		}
	}
}

func TestClusterMembership(t *testing.T) {
	a := openClusterNode(t, 1)
	b := openClusterNode(t, 2, a.GossipAddr())
	c := openClusterNode(t, 3, a.GossipAddr())
	for _, n := range []*Node{a, b, c} {
		waitForMembers(t, n, 1, 2, 3)
	}
	members := a.ClusterMembers()
	assert.Equal(t, ClusterMember{NodeID: 3, KafkaAddr: c.Addr().String(), Rack: "r1", GossipAddr: c.GossipAddr()}, members[2],
		"members gossip the address they serve Kafka on")
	require.NoError(t, c.Close()) // leaves the cluster
	waitForMembers(t, a, 1, 2)
	waitForMembers(t, b, 1, 2)
}

func TestClusterNeedsListener(t *testing.T) {
	_, err := Open(Config{Logger: discardLogger(), Cluster: &ClusterConfig{NodeID: 1, GossipAddr: "127.0.0.1:0"}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Nil(t, NewTestNode(t, Config{Logger: discardLogger()}).ClusterMembers())
}
