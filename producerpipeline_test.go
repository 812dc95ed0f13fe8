package creek

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

// TestProducerAppendsWhileABatchWaits: while one batch waits for its
// acknowledgement (an fsync, the replicas), the next full one is appended
// beside it, so one fsync can cover both; it completes only after the
// first. Before, the second batch waited for the first to be acknowledged.
func TestProducerAppendsWhileABatchWaits(t *testing.T) {
	synctest.Test(t, testProducerAppendsWhileABatchWaits)
}

func testProducerAppendsWhileABatchWaits(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), BatchBytes: 1}) // a record fills a batch
	release := make(chan struct{})
	first := true
	real := p.appendTo
	p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
		acked, err := real(ctx, topic, partition, b, acksAll)
		if err != nil || !first {
			return acked, err
		}
		first = false // appends run one at a time, in order
		return func() (int64, int64, error) {
			<-release
			return acked()
		}, nil
	}
	var order []string
	var mu sync.Mutex
	outcomes := make(chan error, 2)
	for _, v := range []string{"a", "b"} {
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte(v)}, func(r *Record, err error) {
			mu.Lock()
			order = append(order, string(r.Value))
			mu.Unlock()
			outcomes <- err
		}))
	}
	synctest.Wait() // a waits for release; b, appended, waits for a
	part, err := n.partition("t", 0)
	require.NoError(t, err)
	assert.Equal(t, int64(2), part.log.EndOffset(), "b is appended while a waits")
	select {
	case err := <-outcomes:
		t.Fatalf("a record completed before the first batch was acknowledged: %v", err)
	default:
	}
	close(release)
	require.NoError(t, <-outcomes)
	require.NoError(t, <-outcomes)
	assert.Equal(t, []string{"a", "b"}, order, "callbacks in order")
}

// TestProducerPipelineKeepsOrderThroughRefusals: a seeded share of appends
// is refused before anything is stored, for a reason that passes (too few
// in-sync replicas), and a share of the answers to stored batches is
// lost, while many batches are in flight. Each refused batch is sent again
// before any later batch is appended, and each batch in doubt is sent
// again after the ones before it have completed: every record is
// acknowledged, stored once, in the order it was given, with callbacks in
// that order.
func TestProducerPipelineKeepsOrderThroughRefusals(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), BatchBytes: 200})
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(3, 3))
	chance := func(share float64) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() < share
	}
	real := p.appendTo
	refused := 0
	p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
		if chance(0.2) {
			mu.Lock()
			refused++
			mu.Unlock()
			return nil, fmt.Errorf("produce to %s-%d: %w", topic, partition, ErrNotEnoughReplicas)
		}
		acked, err := real(ctx, topic, partition, b, acksAll)
		if err != nil {
			return nil, err
		}
		return func() (int64, int64, error) {
			base, appendTime, err := acked()
			if err == nil && chance(0.1) {
				return -1, -1, fmt.Errorf("produce to %s-%d: %w", topic, partition, ErrReplicationTimeout)
			}
			return base, appendTime, err
		}, nil
	}
	const count = 300
	var want, called []string
	var wg sync.WaitGroup
	for i := range count {
		v := fmt.Sprintf("v%03d", i)
		want = append(want, v)
		wg.Add(1)
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: []byte(v)}, func(r *Record, err error) {
			defer wg.Done()
			assert.NoError(t, err)
			mu.Lock()
			called = append(called, string(r.Value))
			mu.Unlock()
		}))
	}
	wg.Wait()
	require.Positive(t, refused)
	assert.Equal(t, want, storedValues(t, n, "t", 0), "stored once each, in order")
	assert.Equal(t, want, called, "callbacks in order")
}

// TestProducerHoldsASmallBatchForFewBuilds: a batch that is not full
// waits while other batches are being built, and is sent once none is, or
// once maxHeldBuilds have ended while others keep starting, so builds that
// overlap without end hold no partition back for long.
func TestProducerHoldsASmallBatchForFewBuilds(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 2}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()})
	const others = 1000 // builds under way elsewhere, as the test pretends
	p.mu.Lock()
	p.building += others
	p.mu.Unlock()
	require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Partition: 1, Value: []byte("v")}, nil))

	p.mu.Lock()
	pp := p.partitions[topicPartition{"t", 1}]
	require.True(t, pp.held, "held while others build")
	for range maxHeldBuilds - 1 {
		p.builtLocked() // one ends, another starts
		p.building++
		require.True(t, pp.held)
		require.NotNil(t, pp.filling)
	}
	p.builtLocked()
	p.building++
	assert.False(t, pp.held, "sent after maxHeldBuilds builds")
	assert.Nil(t, pp.filling)
	p.building -= others
	p.mu.Unlock()
	require.NoError(t, p.Flush(t.Context()))
}

// TestProducerKeepsABatchForEachPartition: the batches sent to many
// partitions at once are all kept to be filled again, with their
// builders, so the next round makes none anew. Before, eight were kept,
// and a producer writing to more partitions made most of its batches and
// builders again.
func TestProducerKeepsABatchForEachPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const partitions = 16
		n := newTestNode(t, Config{Logger: discardLogger()})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: partitions}))
		p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), BatchBytes: 1})
		release := make(chan struct{})
		real := p.appendTo
		p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
			acked, err := real(ctx, topic, partition, b, acksAll)
			wait := release
			return func() (int64, int64, error) {
				<-wait
				return acked()
			}, err
		}
		value := make([]byte, 1000)
		round := func() map[*batch.Builder]bool {
			for i := range int32(partitions) {
				require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Partition: i, Value: value}, nil))
			}
			synctest.Wait()
			close(release) // every partition's batch is sent and held until now
			require.NoError(t, p.Flush(t.Context()))
			release = make(chan struct{})
			p.mu.Lock()
			defer p.mu.Unlock()
			builders := map[*batch.Builder]bool{}
			for _, b := range p.spare {
				builders[b.builder] = true
			}
			return builders
		}
		first := round()
		assert.Len(t, first, partitions, "a batch kept for each partition")
		assert.Equal(t, first, round(), "the second round fills the kept batches, with their builders")
	})
}

// TestProducerKeepsBatchesWithinBufferBytes: what the batches kept to be
// filled again hold, their record lists and builders, stays within
// BufferBytes.
func TestProducerKeepsBatchesWithinBufferBytes(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	p := newTestProducer(t, n, ProducerConfig{BufferBytes: 4096})
	p.mu.Lock()
	defer p.mu.Unlock()
	for range 5 {
		b := &pendingBatch{builder: new(batch.Builder), records: make([]pendingRecord, 0, 4)}
		b.builder.Grow(1000)
		p.recycleLocked(b)
	}
	var kept int64
	for _, b := range p.spare {
		kept += b.keptBytes()
	}
	assert.Len(t, p.spare, 3, "three batches of about 1,100 bytes fit in 4,096")
	assert.Equal(t, kept, p.spareBytes)
	assert.LessOrEqual(t, p.spareBytes, int64(4096))
	pp := p.partitionLocked(topicPartition{"t", 0})
	p.newBatchLocked(pp)
	pp.filling = nil // it has no records to send
	assert.Equal(t, kept*2/3, p.spareBytes, "a batch taken to fill is no longer counted")
}
