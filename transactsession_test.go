package creek

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransactSessionExactlyOnce: two sessions in one group turn every
// input record into one output record, the second joining halfway (a
// rebalance that aborts the first's round in flight), and one round
// aborted on purpose: a read_committed reader sees each output once, and
// the group's offsets end at the input's end.
func TestTransactSessionExactlyOnce(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), TransactionStatePartitions: 1, OffsetsTopicPartitions: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const partitions, records = 3, 300
	require.NoError(t, n.CreateTopic(ctx, "in", TopicSpec{Partitions: partitions}))
	require.NoError(t, n.CreateTopic(ctx, "out", TopicSpec{Partitions: partitions}))
	input, err := n.NewProducer(ProducerConfig{Partitioner: RoundRobinPartitioner()})
	require.NoError(t, err)
	defer input.Close()
	for i := range records {
		require.NoError(t, input.ProduceAsync(ctx, &Record{Topic: "in", Value: []byte(strconv.Itoa(i))}, nil))
	}
	require.NoError(t, input.Flush(ctx))

	done := make(chan struct{})
	var wg sync.WaitGroup
	run := func(name string, abortFirst bool) {
		defer wg.Done()
		s, err := n.NewTransactSession(ProducerConfig{TransactionalID: name},
			ConsumerConfig{Group: "etl", Reset: ResetEarliest, MaxPollRecords: 20})
		if !assert.NoError(t, err) {
			return
		}
		defer s.Close()
		s.Consumer().Subscribe("in")
		for round := 0; ; round++ {
			select {
			case <-done:
				return
			default:
			}
			poll, pollCancel := context.WithTimeout(ctx, 100*time.Millisecond)
			polled, err := s.Poll(poll)
			pollCancel()
			if err != nil && poll.Err() == nil {
				assert.NoError(t, err)
				return
			}
			for _, pr := range polled {
				for _, r := range pr.Records {
					assert.NoError(t, s.Producer().ProduceAsync(ctx, &Record{Topic: "out", Value: append([]byte("out-"), r.Value...)}, nil))
				}
			}
			if _, err := s.End(ctx, !(abortFirst && round == 0)); err != nil {
				assert.NoError(t, err)
				return
			}
		}
	}
	wg.Add(1)
	go run("etl-a", true)
	got := map[string]int{}
	reader, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, Isolation: ReadCommitted})
	require.NoError(t, err)
	defer reader.Close()
	reader.Subscribe("out")
	second := false
	for total := 0; total < records; {
		polled, err := reader.Poll(ctx)
		require.NoError(t, err)
		for _, pr := range polled {
			for _, r := range pr.Records {
				got[string(r.Value)]++
				total++
			}
		}
		if !second && total > records/3 {
			second = true
			wg.Add(1)
			go run("etl-b", false)
		}
	}
	close(done)
	wg.Wait()
	for i := range records {
		assert.Equal(t, 1, got["out-"+strconv.Itoa(i)], "record %d", i)
	}
	committed := n.CommittedOffsets("etl")
	var sum int64
	for _, c := range committed {
		sum += c.Offset
	}
	assert.Equal(t, int64(records), sum, "%v", committed)
}
