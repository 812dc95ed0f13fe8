package creek

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProducerAfterAnUnclearOutcome: a batch stored but answered with an
// error (replication timed out after the append) must not lend its
// sequence to the next batch, which the partition would then answer as a
// retry of the first, never storing it. The producer takes a new ID after
// a failed send, and every later record is stored once.
func TestProducerAfterAnUnclearOutcome(t *testing.T) {
	n := NewTestNode(t, Config{})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)
	defer p.Close()
	var calls atomic.Int32
	real := p.appendTo
	p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (int64, int64, error) {
		base, appendTime, err := real(ctx, topic, partition, b, acksAll)
		if calls.Add(1) == 1 && err == nil {
			return -1, -1, fmt.Errorf("produce to %s-%d: %w", topic, partition, ErrReplicationTimeout) // stored, all the same
		}
		return base, appendTime, err
	}
	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "t", Value: []byte("a")}), ErrReplicationTimeout)
	for _, v := range []string{"b", "c"} {
		r := &Record{Topic: "t", Value: []byte(v)}
		require.NoError(t, p.Produce(ctx, r))
	}
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest})
	require.NoError(t, err)
	defer c.Close()
	c.Assign(TopicPartition{Topic: "t", Partition: 0})
	var got []string
	read, cancel := context.WithTimeout(ctx, 30*time.Second) // bounds a lost record's wait; nothing waits on time
	defer cancel()
	for len(got) < 3 {
		polled, err := c.Poll(read)
		require.NoError(t, err, "read %v of a, b, c", got)
		for _, pr := range polled {
			for _, r := range pr.Records {
				got = append(got, string(r.Value))
			}
		}
	}
	assert.Equal(t, []string{"a", "b", "c"}, got, "the batch after the unclear one is stored, once")
}
