package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGroupAdmin(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	n, err := Open(Config{Dir: dir, Logger: discardLogger(), OffsetsTopicPartitions: 2})
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	p, err := n.NewProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	produceValues(t, p, "t", 0, "a", "b", "c", "d")
	produceValues(t, p, "t", 1, "x")
	require.NoError(t, p.Close())

	tp0, tp1 := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	require.NoError(t, n.CommitOffsets(ctx, "billing", map[TopicPartition]CommittedOffset{tp0: {Offset: 1, LeaderEpoch: -1}}))
	require.NoError(t, n.CommitOffsets(ctx, "audit", map[TopicPartition]CommittedOffset{tp0: {Offset: 4}, tp1: {Offset: 0}}))
	assert.Equal(t, []string{"audit", "billing"}, n.ListGroups(t.Context()))

	described, err := n.DescribeGroup(t.Context(), "audit")
	require.NoError(t, err)
	assert.Equal(t, "Empty", described.State)
	assert.Empty(t, described.Members)
	require.Len(t, described.Offsets, 2)
	assert.Equal(t, tp0, described.Offsets[0].TopicPartition)
	assert.Equal(t, int64(0), described.Offsets[0].Lag)
	assert.Equal(t, int64(1), described.Offsets[1].Lag, "one record after the commit")
	_, err = n.DescribeGroup(t.Context(), "nobody")
	require.ErrorIs(t, err, ErrGroupNotFound)

	require.NoError(t, n.ResetGroupOffsets(ctx, "billing", ResetLatest, tp0))
	assert.Equal(t, int64(4), n.CommittedOffsets("billing")[tp0].Offset)
	require.NoError(t, n.ResetGroupOffsets(ctx, "billing", ResetEarliest, tp0))
	assert.Equal(t, int64(0), n.CommittedOffsets("billing")[tp0].Offset)

	require.NoError(t, n.DeleteGroup(ctx, "audit"))
	require.ErrorIs(t, n.DeleteGroup(ctx, "audit"), ErrGroupNotFound)
	assert.Equal(t, []string{"billing"}, n.ListGroups(t.Context()))
	require.NoError(t, n.Close())

	n, err = Open(Config{Dir: dir, Logger: discardLogger(), OffsetsTopicPartitions: 2})
	require.NoError(t, err)
	defer n.Close()
	assert.Equal(t, []string{"billing"}, n.ListGroups(t.Context()), "the deletion survives a restart: tombstones replay")
}
