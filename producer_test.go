package creek

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

// storedBatches returns the batches stored in a partition.
func storedBatches(t *testing.T, n *Node, topic string, partition int32) [][]byte {
	t.Helper()
	got, err := n.FetchBatches(t.Context(), nil, topic, partition, 0, FetchOptions{MaxBytes: 64 << 20})
	require.NoError(t, err)
	var out [][]byte
	for len(got) > 0 {
		one, rest, err := batch.Next(got)
		require.NoError(t, err)
		out = append(out, one)
		got = rest
	}
	return out
}

// storedValues returns the values stored in a partition, in offset order.
func storedValues(t *testing.T, n *Node, topic string, partition int32) []string {
	t.Helper()
	var values []string
	for _, b := range storedBatches(t, n, topic, partition) {
		records, err := decodeRecords(b)
		require.NoError(t, err)
		for _, r := range records {
			values = append(values, string(r.Value))
		}
	}
	return values
}

func newTestProducer(t *testing.T, n *Node, cfg ProducerConfig) *Producer {
	t.Helper()
	p, err := n.NewProducer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return p
}

func TestProduce(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 4}))
	p := newTestProducer(t, n, ProducerConfig{})

	var records []*Record
	for i := range 20 {
		records = append(records, &Record{Topic: "t", Key: []byte("user-" + strconv.Itoa(i%3)), Value: []byte(strconv.Itoa(i))})
	}
	require.NoError(t, p.Produce(ctx, records...))
	next := map[int32]int64{}
	for _, r := range records {
		assert.Equal(t, HashPartition(r.Key, 4), r.Partition, "keyed records go where Kafka's partitioner sends them")
		assert.Equal(t, next[r.Partition], r.Offset, "offsets follow the order records were given")
		next[r.Partition]++
		assert.False(t, r.Timestamp.IsZero())
	}
	for part, count := range next {
		assert.Len(t, storedValues(t, n, "t", part), int(count))
	}
	h, err := batch.ParseHeader(storedBatches(t, n, "t", records[0].Partition)[0])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, h.ProducerID, int64(0), "idempotent by default")
}

func TestProducerLingerAndBatchBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		ctx := t.Context()
		require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
		p := newTestProducer(t, n, ProducerConfig{Linger: time.Second, BatchBytes: 1 << 20})

		var sent sync.WaitGroup
		for i := range 10 {
			sent.Add(1)
			require.NoError(t, p.ProduceAsync(ctx, &Record{Topic: "t", Value: []byte{byte(i)}}, func(_ *Record, err error) {
				assert.NoError(t, err)
				sent.Done()
			}))
		}
		synctest.Wait()
		assert.Empty(t, storedBatches(t, n, "t", 0), "records linger")
		time.Sleep(time.Second)
		sent.Wait()
		assert.Len(t, storedBatches(t, n, "t", 0), 1, "after Linger, one batch of all ten")

		small := newTestProducer(t, n, ProducerConfig{Linger: time.Hour, BatchBytes: 100})
		for i := range 10 {
			require.NoError(t, small.ProduceAsync(ctx, &Record{Topic: "t", Value: make([]byte, 30), Key: []byte{byte(i)}}, nil))
		}
		synctest.Wait()
		assert.Greater(t, len(storedBatches(t, n, "t", 0)), 2, "full batches go without waiting for Linger")
		require.NoError(t, small.Flush(ctx))
		assert.Len(t, storedValues(t, n, "t", 0), 20, "Flush sends what lingers")
	})
}

func TestProducerBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger()})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
		p := newTestProducer(t, n, ProducerConfig{Linger: time.Hour, BatchBytes: 1 << 20, BufferBytes: 500})
		for range 4 {
			require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: make([]byte, 100)}, nil))
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := p.ProduceAsync(ctx, &Record{Topic: "t", Value: make([]byte, 100)}, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded, "the buffer is full until something is sent")

		done := make(chan error, 1)
		go func() { done <- p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: make([]byte, 100)}, nil) }()
		synctest.Wait()
		require.NoError(t, p.Flush(t.Context()))
		require.NoError(t, <-done, "a waiting send goes once the buffer drains")
	})
}

func TestProducerErrors(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigMaxMessageBytes: "200"}}))
	p, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)

	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "nope"}), ErrUnknownTopic)
	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "t", Value: make([]byte, 500)}), ErrMessageTooLarge)
	ok := &Record{Topic: "t", Value: []byte("fits")}
	require.NoError(t, p.Produce(ctx, ok), "a refused batch does not use up sequence numbers")
	assert.Equal(t, int64(0), ok.Offset)
	manual, err := n.NewProducer(ProducerConfig{Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	require.ErrorIs(t, manual.Produce(ctx, &Record{Topic: "t", Partition: 3}), ErrUnknownTopic)
	require.NoError(t, manual.Close())

	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	require.ErrorIs(t, p.Produce(ctx, &Record{Topic: "t"}), ErrProducerClosed)
	_, err = n.NewProducer(ProducerConfig{Acks: 7})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestProducerAcksNoneAndCompression(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{Acks: AcksNone, Compression: CompressionGzip, DisableIdempotence: true})
	r := &Record{Topic: "t", Value: []byte("fire and forget")}
	require.NoError(t, p.Produce(ctx, r))
	assert.Equal(t, int64(-1), r.Offset, "acks=0: the offset is unknown")
	require.NoError(t, p.Flush(ctx))
	stored := storedBatches(t, n, "t", 0)
	require.Len(t, stored, 1)
	h, err := batch.ParseHeader(stored[0])
	require.NoError(t, err)
	assert.Equal(t, batch.Gzip, h.Compression())
	assert.Equal(t, int64(-1), h.ProducerID)
}

func TestProducerKeepsOrderUnderConcurrency(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Partitions: 2}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), BatchBytes: 200})
	const writers, each = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := &Record{Topic: "t", Partition: int32(w % 2), Value: fmt.Appendf(nil, "%d/%d", w, i)}
				assert.NoError(t, p.ProduceAsync(ctx, r, func(_ *Record, err error) { assert.NoError(t, err) }))
			}
		})
	}
	wg.Wait()
	require.NoError(t, p.Flush(ctx))
	last := map[int]int{}
	total := 0
	for part := range int32(2) {
		for _, v := range storedValues(t, n, "t", part) {
			var w, i int
			_, err := fmt.Sscanf(v, "%d/%d", &w, &i)
			require.NoError(t, err)
			if prev, ok := last[w]; ok {
				assert.Equal(t, prev+1, i, "writer %d's records stay in order", w)
			}
			last[w] = i
			total++
		}
	}
	assert.Equal(t, writers*each, total)
}

// TestProducerBatchesStayUnderBatchBytes: a record that would take a batch
// past BatchBytes starts the next batch, so no batch passes it (with
// 1,000,000-byte batches, one record more could pass max.message.bytes).
func TestProducerBatchesStayUnderBatchBytes(t *testing.T) {
	n := newTestNode(t, Config{})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p, err := n.NewProducer(ProducerConfig{BatchBytes: 1000, Linger: time.Hour, Partitioner: ManualPartitioner()})
	require.NoError(t, err)
	defer p.Close()
	value := make([]byte, 400-21) // recordSize: 400 bytes
	for range 10 {
		require.NoError(t, p.ProduceAsync(t.Context(), &Record{Topic: "t", Value: value}, nil))
	}
	require.NoError(t, p.Flush(t.Context()))
	batches := storedBatches(t, n, "t", 0)
	require.Len(t, batches, 5, "two records of 400 bytes a batch of at most 1000")
}
