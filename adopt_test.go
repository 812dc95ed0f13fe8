package creek

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openStandalone opens a node on disk outside any cluster, creates topics
// with one batch in partition 0 of each, and closes it. It returns the
// topics' IDs.
func openStandalone(t *testing.T, dir string, topics map[string]int32, commits map[TopicPartition]CommittedOffset) map[string][16]byte {
	t.Helper()
	n, err := Open(Config{Dir: dir, Logger: discardLogger(), OffsetsTopicPartitions: 3})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	ids := map[string][16]byte{}
	for name, partitions := range topics {
		require.NoError(t, n.CreateTopic(t.Context(), name, TopicSpec{Partitions: partitions,
			Configs: map[string]string{ConfigRetentionMs: "86400000"}}))
		_, err := n.ProduceBatch(t.Context(), name, 0, testBatch(t, 0, 10, 10, 0))
		require.NoError(t, err)
		info, err := n.DescribeTopic(name)
		require.NoError(t, err)
		ids[name] = info.ID
	}
	if len(commits) > 0 {
		require.NoError(t, n.CommitOffsets(t.Context(), "g", commits))
	}
	return ids
}

// waitForTopicID waits, on n's metadata changes, until n holds topic with
// the given ID.
func waitForTopicID(t *testing.T, ctx context.Context, n *Node, topic string, id [16]byte) {
	t.Helper()
	for {
		changed := n.watchMetadata()
		if info, err := n.DescribeTopic(topic); err == nil && info.ID == id {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("node %d does not hold %s with ID %x", n.nodeID(), topic, id)
		}
	}
}

// TestClusterAdoptsStandaloneTopics: a node that ran alone and then
// bootstraps a cluster keeps its topics, with their IDs, configs, records
// and committed offsets: the cluster adopts them with the node as their
// only replica. A node that ran alone and joins an existing cluster has
// its topics adopted through the controller's leader, save one whose name
// the cluster already has: that one it sets aside, renamed as stray, and
// deletes nothing.
func TestClusterAdoptsStandaloneTopics(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dirA, dirB := t.TempDir(), t.TempDir()
	idsA := openStandalone(t, dirA, map[string]int32{"orders": 2},
		map[TopicPartition]CommittedOffset{{"orders", 0}: {Offset: 7, LeaderEpoch: -1}})
	idsB := openStandalone(t, dirB, map[string]int32{"orders": 1, "extra": 1}, nil)

	dirs := map[int32]string{1: dirA, 2: dirB}
	c := newTestCluster(t, 1, clusterOptions{config: func(id int32, cfg *Config) {
		cfg.Dir, cfg.OffsetsTopicPartitions = dirs[id], 3
	}})
	a := c.node(1).Node
	controllerLeader(t, []*Node{a}, 1)
	waitClusterTopic(t, a, "orders")
	orders := a.controller.fsm.Metadata().Topics["orders"]
	assert.Equal(t, idsA["orders"], orders.ID, "adopted with its ID")
	assert.Equal(t, "86400000", orders.Configs[ConfigRetentionMs], "and its configs")
	require.Len(t, orders.Partitions, 2)
	for _, p := range orders.Partitions {
		assert.Equal(t, []int32{1}, p.Replicas)
	}
	waitForLeaderISR(t, a, "orders", 1)
	p, err := a.partition("orders", 0)
	require.NoError(t, err)
	assert.Equal(t, int64(10), p.log.EndOffset(), "its records are still there")
	_, err = a.ProduceBatch(ctx, "orders", 0, testBatch(t, 10, 1, 10, 0))
	require.NoError(t, err, "the adopted topic takes writes")
	committed, err := a.FetchCommittedOffsets(ctx, "g")
	require.NoError(t, err)
	assert.Equal(t, int64(7), committed[TopicPartition{"orders", 0}].Offset, "its group's commits too")
	assert.Equal(t, []int32{1}, a.controller.fsm.Metadata().Topics[ConsumerOffsetsTopic].Partitions[0].Replicas)

	nodeB := c.add()
	b := nodeB.Node
	waitForTopicID(t, ctx, b, "orders", idsA["orders"]) // the cluster's, in place of its own
	ordersB := idsB["orders"]
	stray := filepath.Join(dirB, "orders-0."+hex.EncodeToString(ordersB[:])+straySuffix)
	entries, err := os.ReadDir(stray)
	require.NoError(t, err, "node 2's own orders is set aside")
	assert.NotEmpty(t, entries, "with its files")
	waitClusterTopic(t, a, "extra")
	extra := a.controller.fsm.Metadata().Topics["extra"]
	assert.Equal(t, []int32{2}, extra.Partitions[0].Replicas, "node 2 adopted extra through the controller's leader")
	waitForTopicID(t, ctx, b, "extra", extra.ID) // the ID the leader gave it
	waitForLeaderISR(t, b, "extra", 2)
	p, err = b.partition("extra", 0)
	require.NoError(t, err)
	assert.Equal(t, int64(10), p.log.EndOffset(), "with its records")

	require.NoError(t, b.Close()) // reopened, it keeps what it set aside and what it adopted
	nodeB.open(a.GossipAddr())
	b = nodeB.Node
	waitForTopicID(t, ctx, b, "orders", idsA["orders"])
	waitForTopicID(t, ctx, b, "extra", extra.ID)
	_, err = os.Stat(stray)
	assert.NoError(t, err)
}
