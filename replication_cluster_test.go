package creek

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// createOnAll creates a topic through nodes[0] and waits until every node
// holds it.
func createOnAll(t *testing.T, ctx context.Context, nodes []*Node, name string, spec TopicSpec) {
	t.Helper()
	require.NoError(t, nodes[0].CreateTopic(ctx, name, spec))
	for _, n := range nodes {
		require.NoError(t, n.waitForTopic(ctx, name, true))
	}
}

// controllerFollower returns a node of nodes that does not lead the
// controller.
func controllerFollower(t *testing.T, nodes []*Node) *Node {
	t.Helper()
	leader := controllerLeader(t, nodes, len(nodes))
	for _, n := range nodes {
		if n != leader {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

// waitForEnd waits, on the partition's appends, until n's replica of it
// ends at end or later.
func waitForEnd(t *testing.T, n *Node, topic string, partition int32, end int64) {
	t.Helper()
	waitForLogEnd(t, n, topic, partition, fmt.Sprintf("at least %d", end), func(e int64) bool { return e >= end })
}

// waitForLogEnd waits until the log end offset of n's partition satisfies
// done, which want describes.
func waitForLogEnd(t *testing.T, n *Node, topic string, partition int32, want string, done func(int64) bool) {
	t.Helper()
	p, err := n.partition(topic, partition)
	require.NoError(t, err)
	deadline := time.After(30 * time.Second)
	for {
		arrived := p.arrival()
		if done(p.log.EndOffset()) {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("node %d has %s-%d to %d, want %s", n.nodeID(), topic, partition, p.log.EndOffset(), want)
		}
	}
}

// waitForLeader waits, on the controller's applied commands, until
// partition 0 of topic has a leader other than gone, and returns it.
func waitForLeader(t testing.TB, n *Node, topic string, gone int32) int32 {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		if p := n.controller.fsm.Metadata().Topics[topic].Partitions[0]; p.Leader >= 0 && p.Leader != gone {
			return p.Leader
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s-0 has no new leader", topic)
		}
	}
}

// produceAll produces count records with values prefix-0..count-1 to
// partition 0 of topic with acks=all, and fails the test on any error.
func produceAll(t *testing.T, ctx context.Context, cl *kgo.Client, topic, prefix string, count int) {
	t.Helper()
	for i := range count {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%s-%d", prefix, i))},
			func(r *kgo.Record, err error) { assert.NoError(t, err, "record %s", r.Value) })
	}
	require.NoError(t, cl.Flush(ctx))
}

// readAllValues reads partition 0 of topic from the start until count
// records came, and returns their values in offset order.
func readAllValues(t *testing.T, ctx context.Context, seeds []string, topic string, count int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	require.NoError(t, err)
	defer cl.Close()
	var values []string
	for len(values) < count {
		fetches := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", len(values), count)
		fetches.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		fetches.EachRecord(func(r *kgo.Record) {
			require.Equal(t, int64(len(values)), r.Offset, "offsets are dense")
			values = append(values, string(r.Value))
		})
	}
	return values
}

// TestClusterReplication: a topic with three replicas takes acks=all
// writes through a stock client; the followers copy the leader's log
// byte for byte; when the leader dies, another in-sync replica leads and
// nothing acknowledged is lost or duplicated.
func TestClusterReplication(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, nodes[1].CreateTopic(ctx, "orders", TopicSpec{Partitions: 1, ReplicationFactor: 3,
		Configs: map[string]string{ConfigMinInsyncReplicas: "2"}}))
	for _, n := range nodes {
		waitClusterTopic(t, n, "orders")
		require.NoError(t, n.waitForTopic(ctx, "orders", true))
	}
	seeds := []string{nodes[0].Addr().String(), nodes[1].Addr().String(), nodes[2].Addr().String()}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MetadataMinAge(50*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()

	produceAll(t, ctx, cl, "orders", "a", 2000)
	leaderID := nodes[0].controller.fsm.Metadata().Topics["orders"].Partitions[0].Leader
	leader := nodes[leaderID-1]
	for _, n := range nodes {
		waitForEnd(t, n, "orders", 0, 2000)
	}
	want := readLog(t, leader, "orders")
	for _, n := range nodes {
		assert.Equal(t, want, readLog(t, n, "orders"), "node %d holds the leader's batches", n.nodeID())
	}
	info, err := leader.DescribeTopic("orders")
	require.NoError(t, err)
	assert.Equal(t, int64(2000), info.Partitions[0].HighWatermark)

	require.NoError(t, leader.Close())
	var alive []*Node
	var aliveSeeds []string
	for _, n := range nodes {
		if n != leader {
			alive = append(alive, n)
			aliveSeeds = append(aliveSeeds, n.Addr().String())
		}
	}
	newLeader := waitForLeader(t, alive[0], "orders", leaderID)
	t.Logf("node %d led; node %d leads now", leaderID, newLeader)
	produceAll(t, ctx, cl, "orders", "b", 1000)

	values := readAllValues(t, ctx, aliveSeeds, "orders", 3000)
	for i := range 2000 {
		require.Equal(t, fmt.Sprintf("a-%d", i), values[i])
	}
	for i := range 1000 {
		require.Equal(t, fmt.Sprintf("b-%d", i), values[2000+i])
	}
}

// readLog returns every batch of partition 0 of topic on n, as stored.
func readLog(t *testing.T, n *Node, topic string) []byte {
	t.Helper()
	p, err := n.partition(topic, 0)
	require.NoError(t, err)
	var out []byte
	for next := p.log.StartOffset(); next < p.log.EndOffset(); {
		before := len(out)
		out, err = p.log.Read(out, next, 1<<20)
		require.NoError(t, err)
		next = lastOffsetIn(out[before:]) + 1
	}
	return out
}

// TestClusterInProcessProducer: a node's own producer writes to every
// partition of a replicated topic, led by each of the three nodes, and its
// own consumer reads them back from the leaders. After the node leading
// one partition dies, the producer's next records go to the new leader,
// and the consumer reads them there.
func TestClusterInProcessProducer(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "events", TopicSpec{Partitions: 3, ReplicationFactor: 2})
	leaders := map[int32]bool{}
	for _, p := range nodes[0].controller.fsm.Metadata().Topics["events"].Partitions {
		leaders[p.Leader] = true
	}
	require.Len(t, leaders, 3, "each node leads one partition")

	producer, err := nodes[0].NewProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	defer producer.Close()
	for p := range int32(3) {
		for i := range 100 {
			require.NoError(t, producer.Produce(ctx, &Record{Topic: "events", Partition: p,
				Value: []byte(fmt.Sprintf("%d-%d", p, i))}))
		}
	}
	consumer, err := nodes[0].NewConsumer(ConsumerConfig{Reset: ResetEarliest})
	require.NoError(t, err)
	defer consumer.Close()
	consumer.Assign(TopicPartition{"events", 0}, TopicPartition{"events", 1}, TopicPartition{"events", 2})
	readByPartition(t, ctx, consumer, 300)

	// Close a node other than the producer's that leads a partition.
	var moved int32
	for p := range int32(3) {
		if nodes[0].partitionLeader("events", p) != 1 {
			moved = p
			break
		}
	}
	gone := nodes[0].partitionLeader("events", moved)
	require.NoError(t, nodes[gone-1].Close())
	for {
		changed := nodes[0].leadersChanged()
		if l := nodes[0].partitionLeader("events", moved); l >= 0 && l != gone {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("no new leader")
		}
	}
	for i := range 50 {
		require.NoError(t, producer.Produce(ctx, &Record{Topic: "events", Partition: moved,
			Value: []byte(fmt.Sprintf("%d-%d", moved, 100+i))}))
	}
	got := readByPartition(t, ctx, consumer, 50)
	assert.Len(t, got[moved], 50, "the records after the failover, read from the new leader")
}

// readByPartition polls until count records came and checks that each
// partition's values run p-0, p-1, ... from where its records begin.
func readByPartition(t *testing.T, ctx context.Context, c *Consumer, count int) map[int32][]string {
	t.Helper()
	got := map[int32][]string{}
	for n := 0; n < count; {
		polled, err := c.Poll(ctx)
		require.NoError(t, err)
		for _, pr := range polled {
			for _, r := range pr.Records {
				got[pr.Partition] = append(got[pr.Partition], string(r.Value))
				n++
			}
		}
	}
	for p, values := range got {
		var first int
		_, err := fmt.Sscanf(values[0], "%d-%d", new(int32), &first)
		require.NoError(t, err)
		for i, v := range values {
			require.Equal(t, fmt.Sprintf("%d-%d", p, first+i), v)
		}
	}
	return got
}

// TestClusterDeleteRecords: DeleteRecords is the leader's alone, stops at
// the high watermark, and its new log start offset reaches the followers.
func TestClusterDeleteRecords(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx := t.Context()
	createOnAll(t, ctx, nodes, "orders", TopicSpec{Partitions: 1, ReplicationFactor: 3})
	leader := nodes[nodes[0].partitionLeader("orders", 0)-1]
	_, err := leader.ProduceBatch(ctx, "orders", 0, testBatch(t, 0, 100, 10, 0))
	require.NoError(t, err)
	for _, n := range nodes {
		if n == leader {
			continue
		}
		_, err := n.DeleteRecords(ctx, "orders", 0, 50)
		require.ErrorIs(t, err, ErrNotLeader)
	}
	_, err = leader.DeleteRecords(ctx, "orders", 0, 101)
	require.ErrorIs(t, err, ErrOffsetOutOfRange, "past the high watermark")
	start, err := leader.DeleteRecords(ctx, "orders", 0, 50)
	require.NoError(t, err)
	assert.Equal(t, int64(50), start)
	for _, n := range nodes {
		p, err := n.partition("orders", 0)
		require.NoError(t, err)
		for {
			arrived := p.arrival()
			if p.log.StartOffset() == 50 {
				break
			}
			select {
			case <-arrived:
			case <-ctx.Done():
				t.Fatalf("node %d starts at %d", n.nodeID(), p.log.StartOffset())
			}
		}
	}
}
