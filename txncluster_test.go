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
