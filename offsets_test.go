package creek

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOffsetsPartitionMatchesKafka(t *testing.T) {
	// Java: "hello".hashCode() = 99162322, "group".hashCode() = 98629247.
	assert.Equal(t, int32(99162322%50), offsetsPartition("hello", 50))
	assert.Equal(t, int32(98629247%50), offsetsPartition("group", 50))
	assert.Equal(t, int32(0), offsetsPartition("", 50))
	for _, g := range []string{"login-server", "ünïcode-grøup", "a very long group name that overflows int32 arithmetic"} {
		p := offsetsPartition(g, 50)
		assert.True(t, p >= 0 && p < 50, g)
	}
}

func TestConsumerCommitsAndResumes(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 3})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{})
	produceValues(t, p, "t", 0, "a", "b", "c")
	tp := TopicPartition{"t", 0}

	c, err := n.NewConsumer(ConsumerConfig{Group: "g", Reset: ResetEarliest, DisableAutoCommit: true})
	require.NoError(t, err)
	c.Subscribe("t")
	assert.Equal(t, []string{"a", "b", "c"}, pollValues(t, c)[tp])
	_, ok, err := c.Committed(t.Context(), tp)
	require.NoError(t, err)
	assert.False(t, ok, "nothing committed yet")
	require.NoError(t, c.Commit(ctx))
	committed, ok, err := c.Committed(t.Context(), tp)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(3), committed.Offset)
	require.NoError(t, c.Close())

	produceValues(t, p, "t", 0, "d")
	again := newTestConsumer(t, n, ConsumerConfig{Group: "g", Reset: ResetEarliest})
	again.Subscribe("t")
	assert.Equal(t, []string{"d"}, pollValues(t, again)[tp], "a consumer of the group resumes after the commit")

	other := newTestConsumer(t, n, ConsumerConfig{Group: "other", Reset: ResetEarliest})
	other.Assign(tp)
	assert.Equal(t, []string{"a", "b", "c", "d"}, pollValues(t, other)[tp], "another group has its own offsets")

	info, err := n.DescribeTopic(ConsumerOffsetsTopic)
	require.NoError(t, err)
	assert.True(t, info.Internal)
	assert.Equal(t, "compact", info.Configs[ConfigCleanupPolicy])
	require.ErrorIs(t, n.DeleteTopic(ctx, ConsumerOffsetsTopic), ErrInvalidTopic)

	noGroup := newTestConsumer(t, n, ConsumerConfig{})
	require.ErrorIs(t, noGroup.Commit(ctx), ErrInvalidGroupID)
}

func TestCommittedOffsetsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	n, err := Open(Config{Dir: dir, Logger: discardLogger(), OffsetsTopicPartitions: 4})
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	want := map[TopicPartition]CommittedOffset{
		{"t", 0}: {Offset: 7, LeaderEpoch: -1, Metadata: "m0"},
		{"t", 1}: {Offset: 3, LeaderEpoch: 2},
	}
	require.NoError(t, n.CommitOffsets(ctx, "g", want))
	require.NoError(t, n.CommitOffsets(ctx, "g", map[TopicPartition]CommittedOffset{{"t", 0}: {Offset: 9, LeaderEpoch: -1}}))
	require.NoError(t, n.Close())

	n, err = Open(Config{Dir: dir, Logger: discardLogger(), OffsetsTopicPartitions: 4})
	require.NoError(t, err)
	defer n.Close()
	got := n.CommittedOffsets("g")
	assert.Equal(t, int64(9), got[TopicPartition{"t", 0}].Offset, "the newest commit wins")
	assert.Equal(t, int64(3), got[TopicPartition{"t", 1}].Offset)
	assert.Equal(t, int32(2), got[TopicPartition{"t", 1}].LeaderEpoch)
	assert.False(t, got[TopicPartition{"t", 1}].CommitTime.IsZero())
	assert.Empty(t, n.CommittedOffsets("nobody"))
}

func TestConsumerAutoCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 1})
		ctx := t.Context()
		require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
		p := newTestProducer(t, n, ProducerConfig{})
		produceValues(t, p, "t", 0, "a", "b")
		tp := TopicPartition{"t", 0}

		c, err := n.NewConsumer(ConsumerConfig{Group: "g", Reset: ResetEarliest, AutoCommitInterval: time.Second})
		require.NoError(t, err)
		c.Subscribe("t")
		assert.Len(t, pollValues(t, c)[tp], 2)
		_, ok, err := c.Committed(t.Context(), tp)
		require.NoError(t, err)
		assert.False(t, ok, "the interval has not passed")

		time.Sleep(time.Second)
		produceValues(t, p, "t", 0, "c")
		assert.Equal(t, []string{"c"}, pollValues(t, c)[tp])
		committed, ok, err := c.Committed(t.Context(), tp)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, int64(2), committed.Offset, "Poll committed what the previous Poll returned")

		require.NoError(t, c.Close())
		committed, _, _ = c.Committed(t.Context(), tp)
		assert.Equal(t, int64(3), committed.Offset, "Close commits the rest")
	})
}

func TestCommitAsync(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 1})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	c := newTestConsumer(t, n, ConsumerConfig{Group: "g", DisableAutoCommit: true})
	tp := TopicPartition{"t", 0}
	c.Seek(tp, 0)
	done := make(chan error, 1)
	c.CommitAsync(t.Context(), func(err error) { done <- err })
	require.NoError(t, <-done)
	committed, ok, err := c.Committed(t.Context(), tp)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Zero(t, committed.Offset)
}

// TestCommitWithAutoCreateTopics: a node that creates topics on first use
// still creates __consumer_offsets as the internal topic it is.
func TestCommitWithAutoCreateTopics(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), AutoCreateTopics: true, OffsetsTopicPartitions: 3})
	tp := TopicPartition{"t", 0}
	require.NoError(t, n.CommitOffsets(t.Context(), "g", map[TopicPartition]CommittedOffset{tp: {Offset: 1}}))
	assert.Equal(t, int64(1), n.CommittedOffsets("g")[tp].Offset)
	info, err := n.DescribeTopic(ConsumerOffsetsTopic)
	require.NoError(t, err)
	assert.Len(t, info.Partitions, 3)
}
