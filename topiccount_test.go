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
