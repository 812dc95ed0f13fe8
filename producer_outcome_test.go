package creek

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/faultnet"
)

// dropAnswers wraps a producer's appends: a seeded share of them store the
// batch and answer with an error, as a lost response or a replication
// timeout after the append would.
func dropAnswers(p *Producer, seed uint64, share float64) *atomic.Int64 {
	var dropped atomic.Int64
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	real := p.appendTo
	p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
		acked, err := real(ctx, topic, partition, b, acksAll)
		if err != nil {
			return nil, err
		}
		return func() (int64, int64, error) {
			base, appendTime, err := acked()
			mu.Lock()
			drop := rng.Float64() < share
			mu.Unlock()
			if err == nil && drop {
				dropped.Add(1)
				return -1, -1, fmt.Errorf("produce to %s-%d: %w", topic, partition, ErrReplicationTimeout) // stored, all the same
			}
			return base, appendTime, err
		}, nil
	}
	return &dropped
}

// TestProducerResendsABatchWhoseAnswerIsLost: a third of the answers are
// lost after the batch was stored. The producer sends the same batch again
// until it hears, and the partition, seeing the same producer ID and
// sequences, answers the copy with the offsets it stored the first at:
// every record is acknowledged, and stored once, in order.
func TestProducerResendsABatchWhoseAnswerIsLost(t *testing.T) {
	n := newTestNode(t, Config{})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)
	defer p.Close()
	dropped := dropAnswers(p, 7, 1.0/3)
	var want []string
	for i := range 200 {
		want = append(want, fmt.Sprintf("v%d", i))
	}
	var wg sync.WaitGroup
	offsets := make([]int64, len(want))
	for i, v := range want {
		r := &Record{Topic: "t", Value: []byte(v)}
		wg.Add(1)
		require.NoError(t, p.ProduceAsync(ctx, r, func(r *Record, err error) {
			defer wg.Done()
			assert.NoError(t, err, "record %s", v)
			offsets[i] = r.Offset
		}))
	}
	wg.Wait()
	require.Positive(t, dropped.Load())
	assert.Equal(t, want, storedValues(t, n, "t", 0), "every record once, in order")
	for i, o := range offsets {
		assert.Equal(t, int64(i), o, "the offset acknowledged for %s", want[i])
	}
}

// TestProducerAfterAnUnknownOutcome: a batch whose answers are lost until
// its delivery timeout fails; the producer then takes a new ID, so the
// next batch does not take its sequence, which the partition would answer
// as a retry of it, never storing it. Every later record is stored once.
func TestProducerAfterAnUnknownOutcome(t *testing.T) {
	n := newTestNode(t, Config{})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p, err := n.NewProducer(ProducerConfig{DeliveryTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer p.Close()
	dropAll := dropAnswers(p, 1, 1)
	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "t", Value: []byte("a")}), ErrReplicationTimeout)
	require.Greater(t, dropAll.Load(), int64(1), "sent again before giving up")
	p.appendTo = n.appendTo
	for _, v := range []string{"b", "c"} {
		require.NoError(t, p.Produce(ctx, &Record{Topic: "t", Value: []byte(v)}))
	}
	assert.Equal(t, []string{"a", "b", "c"}, storedValues(t, n, "t", 0), "a once, however often sent; b and c after it")
}

// TestProducerAcrossLeaderFailures: an in-process Producer on node 1
// writes to a partition replicated three ways while the other nodes are
// closed and reopened in turn (the leader among them), and a tenth of its
// answers are lost. Every record acknowledged is in every replica at the
// offset acknowledged, and no record is stored twice.
func TestProducerAcrossLeaderFailures(t *testing.T) {
	network := faultnet.New()
	c := newTestCluster(t, 3, clusterOptions{network: network, disk: true})
	nodes := c.nodes
	createReplicated(t, c.all(), "orders", 3)
	p, err := nodes[0].NewProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	dropAnswers(p, 11, 0.1)
	checker := newAckChecker()
	stop := make(chan struct{})
	var sends sync.WaitGroup
	sends.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			value := fmt.Sprintf("v%d", i)
			r := &Record{Topic: "orders", Partition: 0, Value: []byte(value)}
			if err := p.Produce(context.Background(), r); err == nil {
				assert.NoError(t, checker.acknowledged(r.Offset, value))
			}
		}
	})
	for _, s := range nodes[1:] {
		require.True(t, checker.waitForAcks(50, time.Minute), "writes before closing node %d", s.id)
		require.NoError(t, s.Close())
		waitForMembers(t, nodes[0].Node, membersBut(s.id)...)
		require.True(t, checker.waitForAcks(50, time.Minute), "writes with node %d closed", s.id)
		s.open(nodes[0].gossip)
		waitForISR(t, nodes[0].Node, "orders", 1, 2, 3)
	}
	close(stop)
	sends.Wait()
	require.NoError(t, p.Close())
	end := leaderHW(t, c.all(), "orders")
	for _, s := range nodes {
		waitForEnd(t, s.Node, "orders", 0, end)
	}
	checker.check(t, c.all(), "orders")
	seen := map[string]bool{}
	for _, v := range storedValues(t, nodes[0].Node, "orders", 0) {
		require.False(t, seen[v], "%s stored twice", v)
		seen[v] = true
	}
}
