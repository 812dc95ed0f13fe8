package creek

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/faultnet"
)

// waitForISR waits, on the controller's applied commands, until n's
// metadata gives partition 0 of topic the in-sync replicas want, in any
// order.
func waitForISR(t *testing.T, n *Node, topic string, want ...int32) {
	t.Helper()
	slices.Sort(want)
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		var isr []int32
		if t := n.controller.fsm.Metadata().Topics[topic]; t != nil {
			isr = slices.Clone(t.Partitions[0].ISR)
		}
		slices.Sort(isr)
		if slices.Equal(isr, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s-0 has ISR %v, want %v", topic, isr, want)
		}
	}
}

// waitForLeaderISR waits, on the partition's wake-ups, until n, leading
// partition 0 of topic, applies the in-sync replicas want, in any order.
func waitForLeaderISR(t *testing.T, n *Node, topic string, want ...int32) {
	t.Helper()
	slices.Sort(want)
	p, err := n.partition(topic, 0)
	require.NoError(t, err)
	deadline := time.After(30 * time.Second)
	for {
		arrived := p.arrival()
		p.mu.RLock()
		var isr []int32
		if tr := p.repl.tracker; tr != nil {
			p.trackMu.Lock()
			isr = tr.InSync()
			p.trackMu.Unlock()
		}
		p.mu.RUnlock()
		slices.Sort(isr)
		if slices.Equal(isr, want) {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("the leader of %s-0 applies ISR %v, want %v; metadata %+v", topic, isr, want,
				n.controller.fsm.Metadata().Topics[topic].Partitions[0])
		}
	}
}

// createReplicated creates topic with one partition and replicas
// replicas, requiring min.insync.replicas 2, waits until every node holds
// it, and returns its committed metadata.
func createReplicated(t testing.TB, nodes []*Node, topic string, replicas int16) controller.Partition {
	t.Helper()
	require.NoError(t, nodes[0].CreateTopic(t.Context(), topic, TopicSpec{Partitions: 1, ReplicationFactor: replicas,
		Configs: map[string]string{ConfigMinInsyncReplicas: "2"}}))
	for _, n := range nodes {
		waitClusterTopic(t, n, topic)
		require.NoError(t, n.waitForTopic(t.Context(), topic, true))
	}
	return nodes[0].controller.fsm.Metadata().Topics[topic].Partitions[0]
}

// TestClusterISRShrinksAndGrows: a follower cut off from its leader stops
// fetching; after replica.lag.time.max.ms the leader drops it from the
// ISR, which lets acks=all writes complete without it; once the link
// heals it catches up, rejoins the ISR and holds the leader's log.
func TestClusterISRShrinksAndGrows(t *testing.T) {
	network := faultnet.New()
	nodes := newTestCluster(t, 3, clusterOptions{network: network}).all()
	ctx := t.Context()
	meta := createReplicated(t, nodes, "orders", 3)
	leader := nodes[meta.Leader-1]
	controllerID := nodes[0].controller.leader()
	var lagging, inSync int32 = -1, -1
	for _, r := range meta.Replicas {
		switch {
		case r == meta.Leader:
		case r != controllerID && lagging < 0:
			lagging = r // the leader must still reach the controller to change the ISR
		default:
			inSync = r
		}
	}
	network.Partition([]int32{meta.Leader}, []int32{lagging})

	_, err := leader.ProduceBatch(ctx, "orders", 0, testBatch(t, 0, 10, 100, 0))
	require.NoError(t, err, "acks=all completes once the cut follower leaves the ISR")
	waitForISR(t, leader, "orders", meta.Leader, inSync)
	_, err = leader.ProduceBatch(ctx, "orders", 0, testBatch(t, 10, 10, 100, 0))
	require.NoError(t, err)

	network.HealAll()
	waitForISR(t, leader, "orders", meta.Replicas...)
	waitForEnd(t, nodes[lagging-1], "orders", 0, 20)
	assert.Equal(t, readLog(t, leader, "orders"), readLog(t, nodes[lagging-1], "orders"))
}

// TestClusterNotEnoughReplicas: with min.insync.replicas 2 and two
// replicas, a write waiting for a follower that drops out of the ISR
// fails with NOT_ENOUGH_REPLICAS_AFTER_APPEND, the next acks=all write is
// refused with NOT_ENOUGH_REPLICAS, acks=1 still works, and once the
// follower is back acks=all works again.
func TestClusterNotEnoughReplicas(t *testing.T) {
	network := faultnet.New()
	nodes := newTestCluster(t, 3, clusterOptions{network: network}).all()
	ctx := t.Context()
	meta := createReplicated(t, nodes, "pairs", 2)
	leader := nodes[meta.Leader-1]
	follower := meta.Replicas[0]
	if follower == meta.Leader {
		follower = meta.Replicas[1]
	}
	require.NotEqual(t, nodes[0].controller.leader(), follower,
		"the leader must reach the controller's leader to shrink the ISR")
	network.Partition([]int32{meta.Leader}, []int32{follower})

	_, err := leader.ProduceBatch(ctx, "pairs", 0, testBatch(t, 0, 1, 10, 0))
	require.ErrorIs(t, err, ErrNotEnoughReplicasAfterAppend)
	waitForLeaderISR(t, leader, "pairs", meta.Leader)
	_, err = leader.ProduceBatch(ctx, "pairs", 0, testBatch(t, 1, 1, 10, 0))
	require.ErrorIs(t, err, ErrNotEnoughReplicas)
	p, err := leader.partition("pairs", 0)
	require.NoError(t, err)
	_, _, err = p.produce(ctx, testBatch(t, 1, 1, 10, 0), false)
	require.NoError(t, err, "acks=1 needs the leader alone")

	network.HealAll()
	waitForLeaderISR(t, leader, "pairs", meta.Replicas...)
	_, err = leader.ProduceBatch(ctx, "pairs", 0, testBatch(t, 2, 1, 10, 0))
	require.NoError(t, err)
}

// TestClusterDivergentTailTruncated: a leader cut off from the majority
// keeps taking acks=1 writes that no follower has; the majority elects a
// new leader, which takes acks=all writes; when the network heals the old
// leader follows, cuts exactly its divergent tail (KIP-101) and ends with
// the new leader's log, byte for byte.
func TestClusterDivergentTailTruncated(t *testing.T) {
	network := faultnet.New()
	nodes := newTestCluster(t, 3, clusterOptions{network: network}).all()
	ctx := t.Context()
	meta := createReplicated(t, nodes, "orders", 3)
	old := nodes[meta.Leader-1]
	_, err := old.ProduceBatch(ctx, "orders", 0, testBatch(t, 0, 10, 50, 0))
	require.NoError(t, err)
	var majority []*Node
	var majorityIDs []int32
	for _, n := range nodes {
		if n != old {
			majority = append(majority, n)
			majorityIDs = append(majorityIDs, n.nodeID())
		}
	}
	network.Partition([]int32{old.nodeID()}, majorityIDs)

	p, err := old.partition("orders", 0)
	require.NoError(t, err)
	for i := range 5 { // acks=1: the isolated leader still believes it leads
		_, _, err := p.produce(ctx, testBatch(t, 100+i, 1, 50, 0), false)
		require.NoError(t, err)
	}
	require.Equal(t, int64(15), p.log.EndOffset())
	assert.Equal(t, int64(10), p.highWatermark(), "no consumer sees the records no follower has")

	newID := waitForLeader(t, majority[0], "orders", old.nodeID())
	leader := nodes[newID-1]
	waitForLeaderISR(t, leader, "orders", majorityIDs...)
	_, err = leader.ProduceBatch(ctx, "orders", 0, testBatch(t, 10, 7, 50, 0))
	require.NoError(t, err, "the majority takes acks=all writes")

	// Healed, gossip may flap (the isolated node's stale reports of the
	// others' deaths) and move the leadership again: wait for the whole
	// ISR and every replica at the end, whoever leads.
	want := readLog(t, leader, "orders")
	network.HealAll()
	waitForISR(t, majority[0], "orders", meta.Replicas...)
	for _, n := range nodes {
		waitForEnd(t, n, "orders", 0, 17)
		assert.Equal(t, want, readLog(t, n, "orders"),
			"node %d holds the new leader's log; the old one dropped its 5 unreplicated records", n.nodeID())
	}
}
