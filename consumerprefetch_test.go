package creek

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsumerReadsAheadInOrder: a backlog read in small windows, so that
// each Poll leaves a window read ahead, and in Polls of a few records, so
// that a window is handed out over several: every record comes once, in
// order, with its topic and partition; a Seek drops what was read ahead
// and the next Poll starts where it says.
func TestConsumerReadsAheadInOrder(t *testing.T) {
	n, want := newBacklog(t)

	c := newTestConsumer(t, n, ConsumerConfig{PartitionMaxBytes: 4096, MaxPollRecords: 7})
	tp := TopicPartition{"t", 0}
	c.Seek(tp, 0)
	var got []string
	for len(got) < 1000 {
		polled, err := c.Poll(t.Context())
		require.NoError(t, err)
		for _, pr := range polled {
			for _, r := range pr.Records {
				got = append(got, string(r.Value))
			}
			_ = append(pr.Records, Record{Value: []byte("the caller's")}) // the records are the caller's
		}
	}
	assert.Equal(t, want[:len(got)], got, "once each, in order")
	c.mu.Lock()
	readAhead := len(c.prefetched)
	c.mu.Unlock()
	assert.Equal(t, 1, readAhead, "the next windows are read while the caller handles this one")

	c.Seek(tp, 10)
	assert.Equal(t, want[10:17], pollValues(t, c)[tp], "from where Seek says, not from what was read ahead")
	got = want[:17]
	for len(got) < len(want) {
		got = append(got, pollValues(t, c)[tp]...)
	}
	assert.Equal(t, want, got)
}

// TestConsumerHandsOutAWindowOverSeveralPolls: a window read ahead that
// holds more than a Poll's budget is handed out in order over several;
// what the caller appends to one Poll's records never writes over the
// next's.
func TestConsumerHandsOutAWindowOverSeveralPolls(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	c := newTestConsumer(t, n, ConsumerConfig{})
	tp := TopicPartition{"t", 0}
	records := make([]Record, 10)
	for i := range records {
		records[i] = Record{Topic: "t", Offset: int64(20 + i), Value: []byte{byte(i)}}
	}
	done := make(chan struct{})
	close(done)
	c.prefetched[tp] = []*prefetch{{from: 20, done: done, records: records}}

	first, ok := c.takePrefetched(tp, 20, 3)
	require.True(t, ok)
	require.Len(t, first, 3)
	_ = append(first, Record{Value: []byte("the caller's")})
	second, ok := c.takePrefetched(tp, 23, 3)
	require.True(t, ok)
	assert.Equal(t, []byte{3}, second[0].Value, "not written over by the first Poll's caller")
	_, ok = c.takePrefetched(tp, 30, 3)
	assert.False(t, ok, "a window from another offset is not used")
}

// TestConsumerKeepsTwoWindowsReadAhead: from a backlog, once the caller
// has taken a window, windowsAhead windows are read ahead again, the
// next one started from where the last one ends.
func TestConsumerKeepsTwoWindowsReadAhead(t *testing.T) {
	n, want := newBacklog(t)

	c := newTestConsumer(t, n, ConsumerConfig{PartitionMaxBytes: 4096})
	tp := TopicPartition{"t", 0}
	c.Seek(tp, 0)
	var got []string
	for range 3 {
		got = append(got, pollValues(t, c)[tp]...)
		c.prefetching.Wait()
		c.mu.Lock()
		queue := append([]*prefetch(nil), c.prefetched[tp]...)
		c.mu.Unlock()
		require.Len(t, queue, windowsAhead)
		assert.Equal(t, queue[0].next, queue[1].from, "the second starts where the first ends")
	}
	assert.Equal(t, want[:len(got)], got)
}

// TestConsumerDecodesNoWindowItDropped: a window dropped while it is read
// (by a Seek, or Close) is not decoded: its records would be thrown away,
// and Close waits for the reads ahead.
func TestConsumerDecodesNoWindowItDropped(t *testing.T) {
	n, _ := newBacklog(t)
	c := newTestConsumer(t, n, ConsumerConfig{PartitionMaxBytes: 4096})
	tp := TopicPartition{"t", 0}
	p, err := n.partition("t", 0)
	require.NoError(t, err)

	c.mu.Lock() // readAhead takes it once read, before it decodes
	c.startPrefetchLocked(tp, p, 0)
	pf := c.prefetched[tp][0]
	c.dropPrefetchedLocked(tp)
	c.mu.Unlock()
	<-pf.done
	assert.Positive(t, pf.next, "read")
	assert.Zero(t, len(pf.records), "not decoded")
	assert.Zero(t, c.prefetchBytes)
}

// newBacklog returns a node whose topic "t" holds 2000 values in batches
// of about 500 bytes, and the values.
func newBacklog(t *testing.T) (*Node, []string) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p := newTestProducer(t, n, ProducerConfig{Partitioner: ManualPartitioner(), BatchBytes: 500})
	var want []string
	for i := range 2000 {
		want = append(want, fmt.Sprintf("v%04d", i))
	}
	produceValues(t, p, "t", 0, want...)
	return n, want
}
