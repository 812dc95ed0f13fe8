package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaxPartitions: creating topics or partitions past
// Config.MaxPartitions fails with ErrTooManyPartitions and creates
// nothing; auto-creation stops there too. A probe that named 100,000
// topics to auto-create ran a node out of file descriptors.
func TestMaxPartitions(t *testing.T) {
	n := newTestNode(t, Config{MaxPartitions: 10, AutoCreateTopics: true})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "eight", TopicSpec{Partitions: 8}))
	require.ErrorIs(t, n.CreateTopic(ctx, "three", TopicSpec{Partitions: 3}), ErrTooManyPartitions)
	require.ErrorIs(t, n.CreatePartitions(ctx, "eight", 11), ErrTooManyPartitions)
	require.NoError(t, n.CreatePartitions(ctx, "eight", 9))
	require.NoError(t, n.CreateTopic(ctx, "one", TopicSpec{}))
	_, err := n.ProduceBatch(ctx, "auto", 0, testBatch(t, 0, 1, 8, 1000))
	require.ErrorIs(t, err, ErrTooManyPartitions, "auto-creation is bounded as well")
	names := []string{}
	for _, info := range n.Topics() {
		names = append(names, info.Name)
	}
	assert.ElementsMatch(t, []string{"eight", "one"}, names)
	assert.Equal(t, int16(44), KafkaCode(ErrTooManyPartitions), "POLICY_VIOLATION on the wire")
}
