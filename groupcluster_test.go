package creek

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// consumeGroup reads count records of topic as a member of group through
// seeds, commits what it read, leaves, and returns the values read.
func consumeGroup(t *testing.T, ctx context.Context, seeds []string, group, topic string, count int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	var values []string
	for len(values) < count {
		fetches := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", len(values), count)
		fetches.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		fetches.EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
	}
	require.NoError(t, cl.CommitUncommittedOffsets(ctx))
	return values
}

// TestClusterGroupCoordinatorMoves: a group's coordinator is the leader of
// its partition of __consumer_offsets, which is replicated; other nodes
// refuse the group's requests with NOT_COORDINATOR. When the coordinator
// dies, the new leader of that partition coordinates the group with every
// offset committed before, so the group resumes exactly after them.
func TestClusterGroupCoordinatorMoves(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "orders", TopicSpec{Partitions: 3, ReplicationFactor: 3})
	seeds := []string{nodes[0].Addr().String(), nodes[1].Addr().String(), nodes[2].Addr().String()}
	producer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()))
	require.NoError(t, err)
	defer producer.Close()
	produceValues := func(from, to int) {
		for i := from; i < to; i++ {
			producer.Produce(ctx, &kgo.Record{Topic: "orders", Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))},
				func(r *kgo.Record, err error) { assert.NoError(t, err, "record %s", r.Value) })
		}
		require.NoError(t, producer.Flush(ctx))
	}

	produceValues(0, 300)
	assert.Len(t, consumeGroup(t, ctx, seeds, "billing", "orders", 300), 300)

	meta := nodes[0].controller.fsm.Metadata().Topics[ConsumerOffsetsTopic]
	require.NotNil(t, meta, "the first group created __consumer_offsets through the controller")
	partition := offsetsPartition("billing", int32(len(meta.Partitions)))
	require.Len(t, meta.Partitions[partition].Replicas, 3)
	coordinatorID := meta.Partitions[partition].Leader
	admin := kadm.NewClient(producer)
	found := admin.FindGroupCoordinators(ctx, "billing")
	require.NoError(t, found["billing"].Err)
	assert.Equal(t, coordinatorID, found["billing"].NodeID, "FindCoordinator names the offsets partition's leader")

	for _, n := range nodes {
		if n.nodeID() == coordinatorID {
			continue
		}
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group = "billing"
		conn, err := kafka.Dial(ctx, n.Addr().String(), "test")
		require.NoError(t, err)
		resp, err := conn.Request(ctx, req)
		conn.Close()
		require.NoError(t, err)
		assert.Equal(t, kerr.NotCoordinator.Code, resp.(*kmsg.OffsetFetchResponse).ErrorCode,
			"node %d does not coordinate the group", n.nodeID())
	}

	coordinator := nodes[coordinatorID-1]
	require.NoError(t, coordinator.Close())
	var alive []string
	for _, n := range nodes {
		if n != coordinator {
			alive = append(alive, n.Addr().String())
		}
	}
	produceValues(300, 400)
	values := consumeGroup(t, ctx, alive, "billing", "orders", 100)
	for _, v := range values {
		i, err := strconv.Atoi(v)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, i, 300, "the group resumed after its commits, read at the old coordinator")
	}
	offsets, err := admin.FetchOffsets(ctx, "billing")
	require.NoError(t, err)
	var committed int64
	offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
	assert.Equal(t, int64(400), committed, fmt.Sprintf("offsets %v", offsets))
}

// groupCoordinatedBy returns a group name whose coordinator is node id,
// creating __consumer_offsets first.
func groupCoordinatedBy(t *testing.T, ctx context.Context, n *Node, id int32) string {
	t.Helper()
	for i := range 1000 {
		name := fmt.Sprintf("group-%d", i)
		coordinator, err := n.groupCoordinator(ctx, name)
		require.NoError(t, err)
		if coordinator == id {
			return name
		}
	}
	t.Fatalf("no group is coordinated by node %d", id)
	return ""
}

// TestClusterInProcessGroup: a node's own consumer belongs to a group
// coordinated by another node. It joins, commits and reads its commits
// there, over the Kafka protocol; when that node dies, the consumer finds
// the new coordinator, which restored the group's membership: it goes on
// without a rebalance, after its commits, and commits there.
func TestClusterInProcessGroup(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "events", TopicSpec{Partitions: 2, ReplicationFactor: 3})
	groupID := groupCoordinatedBy(t, ctx, nodes[0], 3)
	producer, err := nodes[0].NewProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	defer producer.Close()
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			require.NoError(t, producer.Produce(ctx, &Record{Topic: "events", Partition: int32(i % 2),
				Value: []byte(fmt.Sprintf("%d-%d", i%2, i/2))}))
		}
	}
	assigned := make(chan []TopicPartition, 16)
	consumer, err := nodes[0].NewConsumer(ConsumerConfig{Group: groupID, Reset: ResetEarliest, DisableAutoCommit: true,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 50 * time.Millisecond,
		OnAssigned: func(tps []TopicPartition) { assigned <- tps }})
	require.NoError(t, err)
	defer consumer.Close()
	consumer.Subscribe("events")

	produce(0, 100)
	readByPartition(t, ctx, consumer, 100)
	require.NoError(t, consumer.Commit(ctx))
	want := map[TopicPartition]int64{{"events", 0}: 50, {"events", 1}: 50}
	requireCommitted(t, ctx, nodes[1], groupID, want)
	described, err := nodes[1].DescribeGroup(t.Context(), groupID) // from a node that neither coordinates nor hosts the member
	require.NoError(t, err)
	assert.Equal(t, "Stable", described.State)
	require.Len(t, described.Members, 1)
	assert.ElementsMatch(t, []TopicPartition{{"events", 0}, {"events", 1}}, described.Members[0].Assignment)
	require.Len(t, described.Offsets, 2)
	assert.Equal(t, int64(0), described.Offsets[0].Lag)
	assert.Contains(t, nodes[1].ListGroups(t.Context()), groupID, "listed from every node")
	assert.Len(t, nodes[2].CommittedOffsets(groupID), 2, "the coordinator holds the commits")
	assert.Empty(t, nodes[0].CommittedOffsets(groupID), "the consumer's node does not coordinate the group")
	requireAssigned(t, assigned)

	require.NoError(t, nodes[2].Close())
	produce(100, 160)
	got := readByPartition(t, ctx, consumer, 60)
	assert.Equal(t, "0-50", got[0][0], "resumed after the commit")
	assert.Equal(t, "1-50", got[1][0], "resumed after the commit")
	require.NoError(t, consumer.Commit(ctx)) // accepted: the new coordinator restored the member
	want = map[TopicPartition]int64{{"events", 0}: 80, {"events", 1}: 80}
	requireCommitted(t, ctx, nodes[1], groupID, want)
	moved, err := nodes[1].DescribeGroup(t.Context(), groupID)
	require.NoError(t, err)
	assert.Equal(t, "Stable", moved.State)
	require.Len(t, moved.Members, 1)
	assert.Equal(t, described.Members[0].MemberID, moved.Members[0].MemberID, "the same member")
	assert.Empty(t, assigned, "no rebalance: the member kept its partitions")

	require.ErrorIs(t, nodes[0].DeleteGroup(ctx, groupID), ErrNonEmptyGroup, "forwarded to the coordinator")
	require.NoError(t, consumer.Close())
	require.NoError(t, nodes[1].DeleteGroupOffsets(ctx, groupID, TopicPartition{"events", 1}))
	requireCommitted(t, ctx, nodes[0], groupID, map[TopicPartition]int64{{"events", 0}: 80})
	require.NoError(t, nodes[0].DeleteGroup(ctx, groupID))
	requireCommitted(t, ctx, nodes[1], groupID, map[TopicPartition]int64{})
}

// requireAssigned takes the next assignment and checks it is the whole topic.
func requireAssigned(t *testing.T, assigned <-chan []TopicPartition) {
	t.Helper()
	tps := <-assigned
	assert.ElementsMatch(t, []TopicPartition{{"events", 0}, {"events", 1}}, tps)
}

// requireCommitted checks a group's commits as node n reads them from
// the group's coordinator.
func requireCommitted(t *testing.T, ctx context.Context, n *Node, groupID string, want map[TopicPartition]int64) {
	t.Helper()
	committed, err := n.FetchCommittedOffsets(ctx, groupID)
	require.NoError(t, err)
	got := map[TopicPartition]int64{}
	for tp, c := range committed {
		got[tp] = c.Offset
	}
	assert.Equal(t, want, got)
}

// TestClusterResetGroupOffsetsAsksTheLeader: a reset from a node that holds
// no replica of the partition commits the leader's high watermark. Before,
// it read this node's own empty copy and committed 0.
func TestClusterResetGroupOffsetsAsksTheLeader(t *testing.T) {
	nodes := newTestCluster(t, 2, clusterOptions{}).all()
	ctx := t.Context()
	require.NoError(t, nodes[0].CreateTopic(ctx, "t", TopicSpec{Partitions: 1, ReplicationFactor: 1}))
	for _, n := range nodes {
		waitClusterTopic(t, n, "t")
		require.NoError(t, n.waitForTopic(ctx, "t", true))
	}
	leaderID := nodes[0].partitionLeader("t", 0)
	leader, other := nodes[leaderID-1], nodes[2-leaderID]
	p := newTestProducer(t, leader, ProducerConfig{Partitioner: ManualPartitioner()})
	produceValues(t, p, "t", 0, "a", "b", "c")
	tp := TopicPartition{"t", 0}

	require.NoError(t, other.ResetGroupOffsets(ctx, "g", ResetLatest, tp))
	committed, err := other.FetchCommittedOffsets(ctx, "g", tp)
	require.NoError(t, err)
	assert.Equal(t, int64(3), committed[tp].Offset, "the leader's high watermark, not this node's empty copy")
}

// TestClusterCommitOffsetsWaitsForALoadingCoordinator: CommitOffsets, as
// a Kafka admin client does, looks again while the group's coordinator
// is loading its offsets (as it is when just elected), until its context
// ends, and commits once the coordinator has loaded.
func TestClusterCommitOffsetsWaitsForALoadingCoordinator(t *testing.T) {
	nodes := newTestCluster(t, 2, clusterOptions{}).all()
	ctx := t.Context()
	tp := TopicPartition{"t", 0}
	require.NoError(t, nodes[0].CommitOffsets(ctx, "g", map[TopicPartition]CommittedOffset{tp: {Offset: 1, LeaderEpoch: -1}}))
	id, err := nodes[0].groupCoordinator(ctx, "g")
	require.NoError(t, err)
	coordinator, other := nodes[id-1], nodes[2-id]
	setLoaded := func(loaded bool) {
		coordinator.offsets.mu.Lock()
		defer coordinator.offsets.mu.Unlock()
		coordinator.offsets.loaded[offsetsPartition("g", coordinator.offsets.count)] = loaded
	}

	setLoaded(false) // loading, as a coordinator just elected is
	short, cancel := context.WithTimeout(ctx, 3*coordinatorRetryBackoff)
	defer cancel()
	err = other.CommitOffsets(short, "g", map[TopicPartition]CommittedOffset{tp: {Offset: 2, LeaderEpoch: -1}})
	require.ErrorIs(t, err, ErrCoordinatorLoading)
	require.ErrorIs(t, err, context.DeadlineExceeded, "looked again until its context ended")

	setLoaded(true)
	require.NoError(t, other.CommitOffsets(ctx, "g", map[TopicPartition]CommittedOffset{tp: {Offset: 3, LeaderEpoch: -1}}))
	requireCommitted(t, ctx, other, "g", map[TopicPartition]int64{tp: 3})
}
