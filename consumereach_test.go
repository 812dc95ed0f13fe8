package creek

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPollEachHandsWhatPollReturns: PollEach hands fn the records Poll
// returns, field for field, from plain and compressed batches of two
// partitions, and moves the positions past them as Poll does.
func TestPollEachHandsWhatPollReturns(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 2}))
	for partition, codec := range []Compression{CompressionNone, CompressionZstd} {
		p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), Compression: codec, BatchBytes: 2000})
		for i := range 500 {
			r := &Record{Topic: "t", Partition: int32(partition), Key: fmt.Appendf(nil, "k%d", i),
				Value: fmt.Appendf(nil, "v%d-%d", partition, i)}
			if i%3 == 0 {
				r.Headers = []RecordHeader{{Key: "h", Value: []byte{byte(i)}}, {Key: "empty"}}
			}
			require.NoError(t, p.ProduceAsync(t.Context(), r, nil))
		}
		require.NoError(t, p.Flush(t.Context()))
	}
	const total = 1000
	cfg := ConsumerConfig{Reset: ResetEarliest, PartitionMaxBytes: 4096}

	polled := newTestConsumer(t, n, cfg)
	polled.Subscribe("t")
	var want []Record
	for len(want) < total {
		got, err := polled.Poll(t.Context())
		require.NoError(t, err)
		for _, pr := range got {
			want = append(want, pr.Records...)
		}
	}
	each := newTestConsumer(t, n, cfg)
	each.Subscribe("t")
	got := pollEachAll(t, each, total)

	order := func(a, b Record) int { return int(a.Partition-b.Partition)*total + int(a.Offset-b.Offset) }
	slices.SortFunc(want, order)
	slices.SortFunc(got, order)
	require.Equal(t, want, got)
	for _, tp := range []TopicPartition{{"t", 0}, {"t", 1}} {
		pos, err := each.Position(t.Context(), tp)
		require.NoError(t, err)
		assert.Equal(t, int64(500), pos, "past what fn took, in %v", tp)
	}
}

// TestPollEachStopsAtAnError: an error from fn ends PollEach, which
// returns it and how many records fn took before; the next PollEach
// starts at the record fn failed on.
func TestPollEachStopsAtAnError(t *testing.T) {
	n, want := newBacklog(t)
	c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest})
	c.Assign(TopicPartition{"t", 0})
	failed := errors.New("the handler failed")
	var got []string
	taken, err := c.PollEach(t.Context(), func(r *Record) error {
		if len(got) == 5 {
			return failed
		}
		got = append(got, string(r.Value))
		return nil
	})
	require.ErrorIs(t, err, failed)
	assert.Equal(t, 5, taken)
	pos, err := c.Position(t.Context(), TopicPartition{"t", 0})
	require.NoError(t, err)
	assert.Equal(t, int64(5), pos, "at the record fn failed on")
	for _, r := range pollEachAll(t, c, len(want)-5) {
		got = append(got, string(r.Value))
	}
	assert.Equal(t, want, got, "once each, in order")
}

// TestPollEachReadCommitted: with ReadCommitted, PollEach skips aborted
// transactions and the markers, and reads up to the last stable offset;
// reads of a batch each, so that some hold nothing to hand but batches to
// step past.
func TestPollEachReadCommitted(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	n := txnTopicWithAnAbort(t, ctx)

	for isolation, want := range map[IsolationLevel][]int64{ReadCommitted: {0, 3}, ReadUncommitted: {0, 1, 2, 3, 4, 7}} {
		c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest, Isolation: isolation, PartitionMaxBytes: 1})
		c.Assign(TopicPartition{"t", 0})
		var offsets []int64
		for _, r := range pollEachAll(t, c, len(want)) {
			offsets = append(offsets, r.Offset)
		}
		assert.Equal(t, want, offsets, "%v", isolation)
		ended, end := context.WithCancel(ctx)
		end() // a PollEach that reads what is there, then ends
		_, err := c.PollEach(ended, func(r *Record) error { return fmt.Errorf("handed %d", r.Offset) })
		require.ErrorIs(t, err, context.Canceled)
		pos, err := c.Position(ctx, TopicPartition{"t", 0})
		require.NoError(t, err)
		assert.Equal(t, int64(7), min(pos, 7), "%v: read up to the open transaction at least", isolation)
	}
}

// TestPollEachWaits: PollEach waits for a record as Poll does, and ends
// with its context.
func TestPollEachWaits(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	c := newTestConsumer(t, n, ConsumerConfig{Reset: ResetEarliest})
	c.Subscribe("t")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	taken, err := c.PollEach(ctx, func(*Record) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, taken)

	done := make(chan []string, 1)
	go func() {
		var got []string
		_, err := c.PollEach(t.Context(), func(r *Record) error { got = append(got, string(r.Value)); return nil })
		assert.NoError(t, err)
		done <- got
	}()
	produceValues(t, newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner()}), "t", 0, "late")
	assert.Equal(t, []string{"late"}, <-done)
}

// pollEachAll takes count records through PollEach, each copied: what
// fn is given is valid only until it returns.
func pollEachAll(t *testing.T, c *Consumer, count int) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // fail, not hang, short of count
	defer cancel()
	var got []Record
	for len(got) < count {
		_, err := c.PollEach(ctx, func(r *Record) error {
			kept := *r
			kept.Key, kept.Value = slices.Clone(r.Key), slices.Clone(r.Value)
			kept.Headers = nil
			for _, h := range r.Headers {
				kept.Headers = append(kept.Headers, RecordHeader{Key: h.Key, Value: slices.Clone(h.Value)})
			}
			got = append(got, kept)
			return nil
		})
		require.NoError(t, err)
	}
	return got
}
