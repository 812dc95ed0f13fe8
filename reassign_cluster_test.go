package creek

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek/internal/controller"
)

// waitForPartition waits, on the controller's applied commands, until n's
// metadata for partition 0 of topic satisfies done, and returns it.
func waitForPartition(t *testing.T, n *Node, topic string, done func(controller.Partition) bool) controller.Partition {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		p := n.controller.fsm.Metadata().Topics[topic].Partitions[0]
		if done(p) {
			return p
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s-0 is still %+v", topic, p)
		}
	}
}

// otherNode returns the ID of the node of nodes that holds no replica.
func otherNode(t *testing.T, nodes []*Node, replicas []int32) int32 {
	t.Helper()
	for _, n := range nodes {
		if !slices.Contains(replicas, n.nodeID()) {
			return n.nodeID()
		}
	}
	t.Fatal("every node holds a replica")
	return -1
}

// TestClusterReassignment: a stock admin client moves a partition's
// replica to another node (AlterPartitionAssignments, sent to any node).
// The new replica copies the log while the old ones serve; once it is in
// sync the old one leaves, leadership with it. A second reassignment only
// reorders the replicas, and a preferred leader election (ElectLeaders)
// then moves leadership to the new first replica. A node that leaves the
// replicas discards its copy, and copies the log anew when it returns.
func TestClusterReassignment(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := createReplicated(t, nodes, "moves", 2)
	leaving, staying := meta.Replicas[0], meta.Replicas[1]
	require.Equal(t, leaving, meta.Leader)
	joining := otherNode(t, nodes, meta.Replicas)
	seeds := []string{nodes[0].Addr().String(), nodes[1].Addr().String(), nodes[2].Addr().String()}
	// Without MetadataMinAge: franz-go refreshes metadata at most every
	// 5s, and a leader change is quick only because the old leader names
	// the new one in its NOT_LEADER_OR_FOLLOWER answers (KIP-951).
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	admin := kadm.NewClient(cl)
	produceAll(t, ctx, cl, "moves", "a", 500)

	var req kadm.AlterPartitionAssignmentsReq
	req.Assign("moves", 0, []int32{joining, staying})
	resps, err := admin.AlterPartitionAssignments(ctx, req)
	require.NoError(t, err)
	require.NoError(t, resps.Error())
	moved := waitForPartition(t, nodes[0], "moves", func(p controller.Partition) bool { // not before it began
		return !p.Reassigning() && slices.Equal(p.Replicas, []int32{joining, staying})
	})
	assert.Equal(t, []int32{joining, staying}, moved.Replicas)
	assert.Equal(t, joining, moved.Leader, "the old leader left; the first new replica in sync leads")
	assert.ElementsMatch(t, []int32{joining, staying}, moved.ISR)
	listed, err := admin.ListPartitionReassignments(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, listed, "nothing under way")

	waitForLogEnd(t, nodes[leaving-1], "moves", 0, "0: discarded", func(end int64) bool { return end == 0 })
	produceAll(t, ctx, cl, "moves", "b", 100)
	for _, id := range []int32{joining, staying} {
		waitForEnd(t, nodes[id-1], "moves", 0, 600)
	}
	assert.Equal(t, readLog(t, nodes[joining-1], "moves"), readLog(t, nodes[staying-1], "moves"),
		"the new replica holds the leader's log")
	values := readAllValues(t, ctx, seeds, "moves", 600)
	assert.Equal(t, "a-0", values[0])
	assert.Equal(t, "b-99", values[599])

	errs := nodes[leaving-1].ElectPreferredLeaders(ctx, TopicPartition{"moves", 0})
	require.ErrorIs(t, errs[TopicPartition{"moves", 0}], ErrElectionNotNeeded)
	req = kadm.AlterPartitionAssignmentsReq{}
	req.Assign("moves", 0, []int32{staying, joining})
	resps, err = admin.AlterPartitionAssignments(ctx, req)
	require.NoError(t, err)
	require.NoError(t, resps.Error())
	waitForPartition(t, nodes[0], "moves", func(p controller.Partition) bool {
		return !p.Reassigning() && slices.Equal(p.Replicas, []int32{staying, joining})
	})
	elected, err := admin.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"moves": {0: {}}})
	require.NoError(t, err)
	require.NoError(t, elected["moves"][0].Err)
	waitForPartition(t, nodes[0], "moves", func(p controller.Partition) bool { return p.Leader == staying })
	produceAll(t, ctx, cl, "moves", "c", 10)

	req = kadm.AlterPartitionAssignmentsReq{} // back to the node that discarded its copy
	req.Assign("moves", 0, []int32{staying, leaving})
	resps, err = admin.AlterPartitionAssignments(ctx, req)
	require.NoError(t, err)
	require.NoError(t, resps.Error())
	waitForPartition(t, nodes[0], "moves", func(p controller.Partition) bool {
		return !p.Reassigning() && slices.Equal(p.ISR, []int32{staying, leaving})
	})
	waitForLogEnd(t, nodes[joining-1], "moves", 0, "0: discarded", func(end int64) bool { return end == 0 })
	waitForEnd(t, nodes[leaving-1], "moves", 0, 610)
	assert.Equal(t, readLog(t, nodes[staying-1], "moves"), readLog(t, nodes[leaving-1], "moves"),
		"the returning replica copied the log again from its start")

	var bad kadm.AlterPartitionAssignmentsReq
	bad.Assign("moves", 0, []int32{staying, 99})
	resps, err = admin.AlterPartitionAssignments(ctx, bad)
	require.NoError(t, err)
	assert.Error(t, resps.Error(), "node 99 is not a member")
	bad = kadm.AlterPartitionAssignmentsReq{}
	bad.CancelAssign("moves", 0)
	resps, err = admin.AlterPartitionAssignments(ctx, bad)
	require.NoError(t, err)
	assert.Error(t, resps.Error(), "no reassignment to cancel")
}

// TestClusterReplacesGoneNode: once a node has been gone for
// ReplaceGoneAfter, the controller moves its replicas to a live node,
// which copies the log, and the partition is back to its replication
// factor without it.
func TestClusterReplacesGoneNode(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{config: replaceGoneAfter(100 * time.Millisecond)}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := createReplicated(t, nodes, "spares", 2)
	gone, staying := meta.Replicas[0], meta.Replicas[1]
	spare := otherNode(t, nodes, meta.Replicas)
	partitionLeader := nodes[meta.Leader-1]
	for i := range 3 {
		_, err := partitionLeader.ProduceBatch(ctx, "spares", 0, testBatch(t, i*10, 10, 10, 0))
		require.NoError(t, err)
	}

	require.NoError(t, nodes[gone-1].Close())
	replaced := waitForPartition(t, nodes[staying-1], "spares", func(p controller.Partition) bool {
		return !p.Reassigning() && !slices.Contains(p.Replicas, gone)
	})
	assert.ElementsMatch(t, []int32{spare, staying}, replaced.Replicas, fmt.Sprintf("%+v", replaced))
	assert.ElementsMatch(t, []int32{spare, staying}, replaced.ISR, "the spare caught up before the switch")
	waitForEnd(t, nodes[spare-1], "spares", 0, 30)
	assert.Equal(t, readLog(t, nodes[staying-1], "spares"), readLog(t, nodes[spare-1], "spares"))

	// The gone node leaves the controller's Raft too, so that it no
	// longer counts toward the majority.
	controllerLeader(t, []*Node{nodes[staying-1], nodes[spare-1]}, 2)
}

// TestClusterReassignAfterDeleteRecords: a new replica of a partition
// whose leader deleted its first records cannot fetch them; it starts its
// log at the leader's log start instead, catches up, and the move ends.
func TestClusterReassignAfterDeleteRecords(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	meta := createReplicated(t, nodes, "trimmed", 2)
	leader := nodes[meta.Leader-1]
	joining := otherNode(t, nodes, meta.Replicas)
	for i := range 30 {
		_, err := leader.ProduceBatch(ctx, "trimmed", 0, testBatch(t, i*10, 10, 10, 0))
		require.NoError(t, err)
	}
	start, err := leader.DeleteRecords(ctx, "trimmed", 0, 200)
	require.NoError(t, err)
	require.Equal(t, int64(200), start)

	errs := nodes[0].ReassignPartitions(ctx, map[TopicPartition][]int32{{"trimmed", 0}: {meta.Leader, joining}})
	require.NoError(t, errs[TopicPartition{"trimmed", 0}])
	moved := waitForPartition(t, nodes[0], "trimmed", func(p controller.Partition) bool { return !p.Reassigning() })
	assert.Equal(t, []int32{meta.Leader, joining}, moved.Replicas)
	waitForEnd(t, nodes[joining-1], "trimmed", 0, 300)
	p, err := nodes[joining-1].partition("trimmed", 0)
	require.NoError(t, err)
	assert.Equal(t, int64(200), p.log.StartOffset(), "the new replica starts where the leader's log does")
	assert.Equal(t, readLog(t, leader, "trimmed"), readLog(t, nodes[joining-1], "trimmed"))
}
