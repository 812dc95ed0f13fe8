package creek

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readCommitted reads topic from its start through seeds with
// read_committed until it has count records, and returns their values.
func readCommitted(t *testing.T, ctx context.Context, seeds []string, topic string, count int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	var values []string
	for len(values) < count {
		fetches := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", len(values), count)
		fetches.EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
	}
	return values
}

// TestClusterTransactionCoordinatorMoves: a transactional ID's
// coordinator is the leader of its partition of __transaction_state,
// which is replicated. A transaction writes to partitions led by other
// nodes, whose markers go there by WriteTxnMarkers. When the coordinator
// dies with a transaction open, the partition's new leader knows it, and
// the producer commits it there.
func TestClusterTransactionCoordinatorMoves(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "t", TopicSpec{Partitions: 3, ReplicationFactor: 3})
	seeds := []string{nodes[0].Addr().String(), nodes[1].Addr().String(), nodes[2].Addr().String()}
	producer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	require.NoError(t, err)
	defer producer.Close()
	produce := func(from, to int) {
		require.NoError(t, producer.BeginTransaction())
		for i := from; i < to; i++ {
			require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr())
		}
	}
	produce(0, 30)
	require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
	assert.Len(t, readCommitted(t, ctx, seeds, "t", 30), 30)

	meta := nodes[0].controller.fsm.Metadata().Topics[TransactionStateTopic]
	require.NotNil(t, meta, "the transactional ID's lookup created __transaction_state through the controller")
	partition := keyPartition("tx", int32(len(meta.Partitions)))
	require.Len(t, meta.Partitions[partition].Replicas, 3)
	coordinatorID := meta.Partitions[partition].Leader
	found := kadm.NewClient(producer).FindTxnCoordinators(ctx, "tx")
	require.NoError(t, found["tx"].Err)
	assert.Equal(t, coordinatorID, found["tx"].NodeID, "FindCoordinator names the state partition's leader")

	produce(30, 60) // open when its coordinator dies
	require.NoError(t, nodes[coordinatorID-1].Close())
	var alive []string
	for _, n := range nodes {
		if n.nodeID() != coordinatorID {
			alive = append(alive, n.Addr().String())
		}
	}
	require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
	values := readCommitted(t, ctx, alive, "t", 60)
	assert.Len(t, values, 60)
}

// TestClusterEmbeddedTransactions: an in-process transactional producer on
// one node of a cluster, whose transaction's coordinator, group's
// coordinator and partitions' leaders are spread over the nodes, reaches
// each where it is: its batches are verified at leaders elsewhere, its
// markers written there, and its offsets committed at the group's
// coordinator.
func TestClusterEmbeddedTransactions(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "in", TopicSpec{Partitions: 3, ReplicationFactor: 3})
	createOnAll(t, ctx, nodes, "out", TopicSpec{Partitions: 3, ReplicationFactor: 3})
	n := nodes[0]
	input, err := n.NewProducer(ProducerConfig{Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer input.Close()
	for i := range 30 {
		require.NoError(t, input.Produce(ctx, &Record{Topic: "in", Value: []byte(strconv.Itoa(i))}))
	}
	c, err := n.NewConsumer(ConsumerConfig{Group: "etl", Reset: ResetEarliest, DisableAutoCommit: true, Isolation: ReadCommitted})
	require.NoError(t, err)
	defer c.Close()
	c.Subscribe("in")
	p, err := n.NewProducer(ProducerConfig{TransactionalID: "etl-0", Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.BeginTransaction())
	for read := 0; read < 30; {
		polled, err := c.Poll(ctx)
		require.NoError(t, err)
		for _, pr := range polled {
			for _, r := range pr.Records {
				read++
				require.NoError(t, p.Produce(ctx, &Record{Topic: "out", Value: append([]byte("out-"), r.Value...)}))
			}
		}
	}
	require.NoError(t, p.SendOffsets(ctx, c))
	require.NoError(t, p.CommitTransaction(ctx))

	seeds := []string{nodes[1].Addr().String(), nodes[2].Addr().String()}
	assert.Len(t, readCommitted(t, ctx, seeds, "out", 30), 30)
	committed, err := nodes[2].FetchCommittedOffsets(ctx, "etl")
	require.NoError(t, err)
	var sum int64
	for _, co := range committed {
		sum += co.Offset
	}
	assert.Equal(t, int64(30), sum, "the group's offsets, committed with the transaction: %v", committed)
	leaders := map[int32]bool{}
	for i := range int32(3) {
		leaders[n.partitionLeader("out", i)] = true
	}
	assert.Greater(t, len(leaders), 1, "the output's partitions are led by more than this node")
}
