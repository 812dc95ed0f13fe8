package creek

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The partition counts a producer and a Poll read without the node's lock
// follow every change of the topics: a topic created, grown, deleted, and
// the node closed.
func TestPartitionCountFollowsTopicChanges(t *testing.T) {
	ctx := context.Background()
	n, err := Open(Config{})
	require.NoError(t, err)
	defer n.Close()

	_, err = n.partitionCount(ctx, "t")
	require.ErrorIs(t, err, ErrUnknownTopic)
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 1}))
	count, err := n.partitionCount(ctx, "t")
	require.NoError(t, err)
	require.EqualValues(t, 1, count)

	require.NoError(t, n.CreatePartitions(ctx, "t", 3))
	count, err = n.partitionCount(ctx, "t")
	require.NoError(t, err)
	require.EqualValues(t, 3, count)
	require.Equal(t, map[string]int32{"t": 3}, n.partitionCounts())

	require.NoError(t, n.DeleteTopic(ctx, "t"))
	_, err = n.partitionCount(ctx, "t")
	require.ErrorIs(t, err, ErrUnknownTopic)
	require.Empty(t, n.partitionCounts())

	require.NoError(t, n.CreateTopic(ctx, "u", TopicSpec{Partitions: 2}))
	count, err = n.partitionCount(ctx, "u")
	require.NoError(t, err)
	require.EqualValues(t, 2, count)
	require.NoError(t, n.Close())
	n.partitionCounts() // takes no snapshot that would answer for the closed node
	_, err = n.partitionCount(ctx, "u")
	require.ErrorIs(t, err, ErrClosed)
}

// A producer that keeps the partition count of the topic it wrote last,
// and its partitions by index, sees the topic grow, other topics in
// between, and the topic gone.
func TestProducerFollowsTopicChanges(t *testing.T) {
	ctx := context.Background()
	n, err := Open(Config{})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 1}))
	require.NoError(t, n.CreateTopic(ctx, "u", TopicSpec{Partitions: 2}))
	p, err := n.NewProducer(ProducerConfig{Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer p.Close()
	next := map[TopicPartition]int64{} // each partition's next offset: a record sent to another shows
	produce := func(topic string) (int32, error) {
		r := &Record{Topic: topic, Value: []byte("v")}
		if err := p.Produce(ctx, r); err != nil {
			return 0, err
		}
		tp := TopicPartition{topic, r.Partition}
		require.Equal(t, next[tp], r.Offset, "%v", tp)
		next[tp]++
		return r.Partition, nil
	}

	part, err := produce("t")
	require.NoError(t, err)
	require.EqualValues(t, 0, part)
	require.NoError(t, n.CreatePartitions(ctx, "t", 3))
	grown := map[int32]bool{}
	for range 3 {
		part, err := produce("t")
		require.NoError(t, err)
		grown[part] = true
	}
	require.Len(t, grown, 3, "the records after the topic grew go to all its partitions")
	seen := map[string]map[int32]bool{"t": {}, "u": {}}
	for range 6 {
		for _, topic := range []string{"t", "u", "t", "t", "u"} {
			part, err := produce(topic)
			require.NoError(t, err)
			seen[topic][part] = true
		}
	}
	require.Equal(t, map[int32]bool{0: true, 1: true, 2: true}, seen["t"])
	require.Equal(t, map[int32]bool{0: true, 1: true}, seen["u"])

	require.NoError(t, n.DeleteTopic(ctx, "t"))
	_, err = produce("t")
	require.ErrorIs(t, err, ErrUnknownTopic)
}
