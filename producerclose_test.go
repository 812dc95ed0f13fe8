package creek

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProducerCloseIsBounded: a partition whose appends never answer (a
// leader that hangs) holds a batch in flight and one queued behind it.
// Close waits CloseTimeout, not the two minutes of DeliveryTimeout, and
// both records fail with ErrProducerClosed.
func TestProducerCloseIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
		p, err := n.NewProducer(ProducerConfig{Partitioner: ManualPartitioner(), CloseTimeout: 5 * time.Second})
		require.NoError(t, err)
		p.appendTo = func(ctx context.Context, _ string, _ int32, _ []byte, _ bool) (func() (int64, int64, error), error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		outcomes := make(chan error, 2)
		done := func(_ *Record, err error) { outcomes <- err }
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte("in flight")}, done))
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte("queued")}, done))

		start := time.Now()
		require.ErrorIs(t, p.Close(), context.DeadlineExceeded)
		assert.Equal(t, 5*time.Second, time.Since(start), "Close waits CloseTimeout, then gives up")
		for range 2 {
			assert.ErrorIs(t, <-outcomes, ErrProducerClosed)
		}
		require.ErrorIs(t, p.ProduceAsync(t.Context(), &Record{Topic: "t"}, nil), ErrProducerClosed)
		require.NoError(t, p.Close(), "a second Close")
	})
}

// TestProducerCloseRefusesNewRecordsWhileItFlushes: once Close has begun,
// a record given to the producer is refused, not left unsent.
func TestProducerCloseRefusesNewRecordsWhileItFlushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
		p, err := n.NewProducer(ProducerConfig{})
		require.NoError(t, err)
		release := make(chan struct{})
		real := p.appendTo
		p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
			<-release
			return real(ctx, topic, partition, b, acksAll)
		}
		var sent error
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte("a")}, func(_ *Record, err error) { sent = err }))
		closed := make(chan error)
		go func() { closed <- p.Close() }()
		synctest.Wait() // Close waits for the send in flight
		require.ErrorIs(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte("b")}, nil), ErrProducerClosed)
		close(release)
		require.NoError(t, <-closed)
		require.NoError(t, sent, "what was queued before Close is sent")
	})
}
