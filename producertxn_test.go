package creek

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readValues reads topic from its start at isolation until it has want
// records, and returns their values.
func readValues(t *testing.T, ctx context.Context, n *Node, topic string, want int, isolation IsolationLevel) []string {
	t.Helper()
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, Isolation: isolation})
	require.NoError(t, err)
	defer c.Close()
	c.Subscribe(topic)
	var got []string
	for len(got) < want {
		polled, err := c.Poll(ctx)
		require.NoError(t, err, "read %d of %d", len(got), want)
		for _, pr := range polled {
			for _, r := range pr.Records {
				got = append(got, string(r.Value))
			}
		}
	}
	return got
}

// produceEach produces one record of each value to topic.
func produceEach(t *testing.T, ctx context.Context, p *Producer, topic string, values ...string) {
	t.Helper()
	for _, v := range values {
		require.NoError(t, p.Produce(ctx, &Record{Topic: topic, Value: []byte(v)}))
	}
}

// TestProducerTransactions: an embedded transactional producer's
// committed records reach a read_committed consumer and its aborted ones
// do not; a record outside a transaction is refused.
func TestProducerTransactions(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), TransactionStatePartitions: 1})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	p, err := n.NewProducer(ProducerConfig{TransactionalID: "tx", Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer p.Close()

	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "t", Value: []byte("x")}), ErrNoTransaction)
	require.NoError(t, p.BeginTransaction())
	require.ErrorIs(t, p.BeginTransaction(), ErrNoTransaction, "one is open")
	produceEach(t, ctx, p, "t", "c1", "c2", "c3")
	require.NoError(t, p.CommitTransaction(ctx))
	require.NoError(t, p.BeginTransaction())
	produceEach(t, ctx, p, "t", "a1", "a2")
	require.NoError(t, p.AbortTransaction(ctx))
	require.NoError(t, p.BeginTransaction())
	produceEach(t, ctx, p, "t", "c4")
	require.NoError(t, p.CommitTransaction(ctx))
	require.ErrorIs(t, p.CommitTransaction(ctx), ErrNoTransaction)

	assert.ElementsMatch(t, []string{"c1", "c2", "c3", "c4"}, readValues(t, ctx, n, "t", 4, ReadCommitted))
	assert.ElementsMatch(t, []string{"c1", "c2", "c3", "a1", "a2", "c4"}, readValues(t, ctx, n, "t", 6, ReadUncommitted))
}

// TestProducerTransactionFenced: a new producer with the same
// transactional ID aborts the transaction the older left open and fences
// it: the older can only close.
func TestProducerTransactionFenced(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), TransactionStatePartitions: 1})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	zombie, err := n.NewProducer(ProducerConfig{TransactionalID: "tx"})
	require.NoError(t, err)
	defer zombie.Close()
	require.NoError(t, zombie.BeginTransaction())
	produceEach(t, ctx, zombie, "t", "zombie")

	live, err := n.NewProducer(ProducerConfig{TransactionalID: "tx"})
	require.NoError(t, err)
	defer live.Close()
	require.NoError(t, live.BeginTransaction())
	produceEach(t, ctx, live, "t", "live")
	require.NoError(t, live.CommitTransaction(ctx))

	require.ErrorIs(t, zombie.CommitTransaction(ctx), ErrProducerFenced)
	require.ErrorIs(t, zombie.BeginTransaction(), ErrProducerFenced, "for good")
	assert.Equal(t, []string{"live"}, readValues(t, ctx, n, "t", 1, ReadCommitted))
}

// TestProducerTransactionConsumeTransformProduce: records read by a group
// member, written to another topic and the member's offsets sent in the
// same transaction: an abort leaves both the output and the offsets as
// they were; a commit makes both count.
func TestProducerTransactionConsumeTransformProduce(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), TransactionStatePartitions: 1, OffsetsTopicPartitions: 1})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "in", TopicSpec{}))
	require.NoError(t, n.CreateTopic(ctx, "out", TopicSpec{}))
	input, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)
	defer input.Close()
	for i := range 10 {
		produceEach(t, ctx, input, "in", strconv.Itoa(i))
	}
	c, err := n.NewConsumer(ConsumerConfig{Group: "etl", Reset: ResetEarliest, DisableAutoCommit: true, Isolation: ReadCommitted})
	require.NoError(t, err)
	defer c.Close()
	c.Subscribe("in")
	p, err := n.NewProducer(ProducerConfig{TransactionalID: "etl-0"})
	require.NoError(t, err)
	defer p.Close()

	var read []string
	for len(read) < 10 {
		polled, err := c.Poll(ctx)
		require.NoError(t, err)
		for _, pr := range polled {
			for _, r := range pr.Records {
				read = append(read, string(r.Value))
			}
		}
	}
	transform := func(commit bool) {
		require.NoError(t, p.BeginTransaction())
		for _, v := range read {
			produceEach(t, ctx, p, "out", "out-"+v)
		}
		require.NoError(t, p.SendOffsets(ctx, c))
		if commit {
			require.NoError(t, p.CommitTransaction(ctx))
		} else {
			require.NoError(t, p.AbortTransaction(ctx))
		}
	}
	transform(false)
	committed, ok, err := c.Committed(ctx, TopicPartition{"in", 0})
	require.NoError(t, err)
	assert.False(t, ok, "an aborted transaction commits no offset: %v", committed)

	transform(true)
	committed, ok, err = c.Committed(ctx, TopicPartition{"in", 0})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(10), committed.Offset)
	out := readValues(t, ctx, n, "out", 10, ReadCommitted)
	for i, v := range out {
		assert.Equal(t, "out-"+strconv.Itoa(i), v)
	}
}
