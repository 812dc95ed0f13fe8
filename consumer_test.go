package creek

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/acl"
)

func newTestConsumer(t *testing.T, n *Node, cfg ConsumerConfig) *Consumer {
	t.Helper()
	c, err := n.NewConsumer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c
}

// produceValues produces values to partition 0 of topic and waits.
func produceValues(t *testing.T, p *Producer, topic string, partition int32, values ...string) {
	t.Helper()
	var records []*Record
	for _, v := range values {
		records = append(records, &Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	require.NoError(t, p.Produce(t.Context(), records...))
}

func pollValues(t *testing.T, c *Consumer) map[TopicPartition][]string {
	t.Helper()
	got, err := c.Poll(t.Context())
	require.NoError(t, err)
	out := map[TopicPartition][]string{}
	for _, pr := range got {
		for _, r := range pr.Records {
			assert.Equal(t, pr.TopicPartition, TopicPartition{r.Topic, r.Partition})
			out[pr.TopicPartition] = append(out[pr.TopicPartition], string(r.Value))
		}
	}
	return out
}

func TestConsumerAssignPollSeek(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()})
	produceValues(t, p, "t", 0, "a", "b", "c")
	produceValues(t, p, "t", 1, "x")

	tp0, tp1 := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest})
	c.Assign(tp0, tp1)
	assert.Equal(t, map[TopicPartition][]string{tp0: {"a", "b", "c"}, tp1: {"x"}}, pollValues(t, c))
	pos, err := c.Position(t.Context(), tp0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), pos)
	lag, err := c.Lag(t.Context(), tp0)
	require.NoError(t, err)
	assert.Zero(t, lag)

	c.Seek(tp0, 1)
	assert.Equal(t, map[TopicPartition][]string{tp0: {"b", "c"}}, pollValues(t, c), "Seek moves the position")
	require.NoError(t, c.SeekToBeginning(t.Context(), tp1))
	assert.Equal(t, map[TopicPartition][]string{tp1: {"x"}}, pollValues(t, c))

	c.Pause(tp0)
	produceValues(t, p, "t", 0, "d")
	produceValues(t, p, "t", 1, "y")
	assert.Equal(t, map[TopicPartition][]string{tp1: {"y"}}, pollValues(t, c), "a paused partition is skipped")
	lag, _ = c.Lag(t.Context(), tp0)
	assert.Equal(t, int64(1), lag)
	c.Resume(tp0)
	assert.Equal(t, map[TopicPartition][]string{tp0: {"d"}}, pollValues(t, c))

	latest := newTestConsumer(t, n, ConsumerConfig{})
	latest.Assign(tp0)
	pos, err = latest.Position(t.Context(), tp0)
	require.NoError(t, err)
	assert.Equal(t, int64(4), pos, "ResetLatest starts after the last record")
}

func TestConsumerSeekToTime(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{})
	base := time.UnixMilli(1_700_000_000_000)
	for i := range 5 {
		r := &Record{Topic: "t", Value: []byte(strconv.Itoa(i)), Timestamp: base.Add(time.Duration(i) * time.Minute)}
		require.NoError(t, p.Produce(ctx, r))
	}
	c := newTestConsumer(t, n, ConsumerConfig{})
	tp := TopicPartition{"t", 0}
	require.NoError(t, c.SeekToTime(t.Context(), base.Add(150*time.Second), tp))
	assert.Equal(t, map[TopicPartition][]string{tp: {"3", "4"}}, pollValues(t, c))
	require.NoError(t, c.SeekToTime(t.Context(), base.Add(time.Hour), tp))
	pos, _ := c.Position(t.Context(), tp)
	assert.Equal(t, int64(5), pos, "past every record: the end")
}

func TestConsumerWaitsAcrossPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 3}))
		p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()})
		c := newTestConsumer(t, n, ConsumerConfig{})
		c.Subscribe("t")

		got := make(chan map[TopicPartition][]string)
		go func() { got <- pollValues(t, c) }()
		synctest.Wait() // Poll waits: nothing to read
		produceValues(t, p, "t", 2, "late")
		assert.Equal(t, map[TopicPartition][]string{{"t", 2}: {"late"}}, <-got, "an append to any partition wakes Poll")

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := c.Poll(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestConsumerSubscribeRegexpAndNewPartitions(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest})
	c.SubscribeRegexp(regexp.MustCompile(`^logins\.`))
	require.NoError(t, n.CreateTopic(ctx, "logins.eu", TopicSpec{}))
	require.NoError(t, n.CreateTopic(ctx, "other", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()})
	produceValues(t, p, "other", 0, "no")
	produceValues(t, p, "logins.eu", 0, "yes")
	assert.Equal(t, map[TopicPartition][]string{{"logins.eu", 0}: {"yes"}}, pollValues(t, c), "topics created after subscribing count")

	require.NoError(t, n.CreatePartitions(ctx, "logins.eu", 2))
	produceValues(t, p, "logins.eu", 1, "new partition")
	assert.Equal(t, map[TopicPartition][]string{{"logins.eu", 1}: {"new partition"}}, pollValues(t, c))
}

func TestConsumerResetsAfterRetention(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{})
	produceValues(t, p, "t", 0, "old", "older", "kept")
	part, err := n.partition("t", 0)
	require.NoError(t, err)
	require.NoError(t, part.log.DeleteRecordsBefore(2))

	c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest})
	tp := TopicPartition{"t", 0}
	c.Seek(tp, 0)
	assert.Equal(t, map[TopicPartition][]string{tp: {"kept"}}, pollValues(t, c), "a position below the log start resets")
}

func TestConsumerClosedAndMaxPollRecords(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{})
	produceValues(t, p, "t", 0, "1", "2", "3", "4", "5")
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, MaxPollRecords: 2})
	require.NoError(t, err)
	c.Assign(TopicPartition{"t", 0})
	assert.Equal(t, []string{"1", "2"}, pollValues(t, c)[TopicPartition{"t", 0}])
	assert.Equal(t, []string{"3", "4"}, pollValues(t, c)[TopicPartition{"t", 0}])
	require.NoError(t, c.Close())
	_, err = c.Poll(t.Context())
	require.ErrorIs(t, err, ErrClosed)
	_, err = n.NewConsumer(ConsumerConfig{Reset: 9})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// TestPollKeepsAnErrorForTheNextPoll: a partition that fails after
// another gave records in the same Poll does not cost the caller those
// records (their position has moved): Poll returns them, and the next
// Poll the error.
func TestPollKeepsAnErrorForTheNextPoll(t *testing.T) {
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), ACL: &ACLConfig{}})
	for _, topic := range []string{"a", "b"} {
		require.NoError(t, n.CreateTopic(t.Context(), topic, TopicSpec{}))
	}
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()})
	produceValues(t, p, "a", 0, "a0", "a1")
	produceValues(t, p, "b", 0, "b0")
	allowACL(t, n, "User:bob", acl.Read, acl.Topic, "a") // and none on b

	c := newTestConsumer(t, n, ConsumerConfig{Principal: "User:bob", Reset: ResetEarliest})
	c.Assign(TopicPartition{"a", 0}, TopicPartition{"b", 0})
	var got []string
	var errs []error
	for range 4 { // a first in one of every two Polls
		polled, err := c.Poll(t.Context())
		for _, pr := range polled {
			for _, r := range pr.Records {
				got = append(got, string(r.Value))
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	assert.Equal(t, []string{"a0", "a1"}, got, "a's records, though b fails in the same Poll")
	require.Len(t, errs, 3)
	for _, err := range errs {
		assert.ErrorIs(t, err, ErrTopicAuthorizationFailed)
	}
}
