package creektest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/creektest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNode(t *testing.T) {
	node := creektest.Node(t, creek.Config{Dir: t.TempDir()})
	require.NoError(t, node.CreateTopic(t.Context(), "logins", creek.TopicSpec{Partitions: 1}))
	produce(t, node, "logins")
	assert.Nil(t, node.ClusterMembers(), "a node of its own")
	assert.ErrorIs(t, node.WaitForCluster(t.Context(), 1), creek.ErrInvalidConfig)
}

// TestCluster: every node of the cluster sees every other when Cluster
// returns, takes cfg.Cluster's other fields, and a topic replicated on
// all of them takes a write acknowledged by all.
func TestCluster(t *testing.T) {
	nodes := creektest.Cluster(t, 3, creek.Config{Cluster: &creek.ClusterConfig{Rack: "r1", NodeID: 7}})
	require.Len(t, nodes, 3)
	for i, n := range nodes {
		members := n.ClusterMembers()
		require.Len(t, members, 3)
		for j, m := range members {
			assert.Equal(t, int32(j+1), m.NodeID)
			assert.Equal(t, "r1", m.Rack)
			assert.Equal(t, nodes[j].Addr().String(), m.KafkaAddr, "node %d's view", i+1)
		}
	}
	require.NoError(t, nodes[1].CreateTopic(t.Context(), "orders", creek.TopicSpec{Partitions: 1, ReplicationFactor: 3,
		Configs: map[string]string{creek.ConfigMinInsyncReplicas: "3"}}))
	produce(t, nodes[1], "orders") // CreateTopic returns once the node it ran on holds the topic
}

// produce writes a record to topic through node, acknowledged by every
// in-sync replica.
func produce(t *testing.T, node *creek.Node, topic string) {
	t.Helper()
	p, err := node.NewProducer(creek.ProducerConfig{})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.Close()) }()
	require.NoError(t, p.Produce(t.Context(), &creek.Record{Topic: topic, Value: []byte("hi")}))
}
