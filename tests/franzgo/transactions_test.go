package franzgo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
)

// produceInTxn runs one transaction of values on producer, ending it as
// commit says.
func produceInTxn(ctx context.Context, t *testing.T, producer *kgo.Client, commit bool, values ...string) {
	t.Helper()
	require.NoError(t, producer.BeginTransaction())
	for _, v := range values {
		require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr())
	}
	end := kgo.TryAbort
	if commit {
		end = kgo.TryCommit
	}
	require.NoError(t, producer.EndTransaction(ctx, end))
}

// readAll reads topic from its start until it has read want records, with
// the isolation level given.
func readAll(ctx context.Context, t *testing.T, n *creek.Node, topic string, want int, isolation kgo.IsolationLevel) []string {
	t.Helper()
	c := newClient(t, n, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(isolation),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < want {
		fetches := c.PollFetches(ctx)
		require.NoError(t, fetches.Err0())
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// TestTransactionsCommitAndAbort: a transactional producer's committed
// records reach a read_committed consumer and its aborted ones do not,
// while a read_uncommitted consumer reads both; a read_committed consumer
// stops at an open transaction, and goes on once it commits.
func TestTransactionsCommitAndAbort(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
	producer := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))

	produceInTxn(ctx, t, producer, true, "c1", "c2", "c3")
	produceInTxn(ctx, t, producer, false, "a1", "a2")
	produceInTxn(ctx, t, producer, true, "c4")
	assert.Equal(t, []string{"c1", "c2", "c3", "c4"}, readAll(ctx, t, n, "t", 4, kgo.ReadCommitted()))
	assert.Equal(t, []string{"c1", "c2", "c3", "a1", "a2", "c4"}, readAll(ctx, t, n, "t", 6, kgo.ReadUncommitted()))

	// An open transaction holds a read_committed reader back.
	require.NoError(t, producer.BeginTransaction())
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte("open")}).FirstErr())
	adm := kadm.NewClient(newClient(t, n))
	ends, err := adm.ListEndOffsets(ctx, "t")
	require.NoError(t, err)
	uncommittedEnd, _ := ends.Lookup("t", 0)
	committedEnds, err := adm.ListCommittedOffsets(ctx, "t")
	require.NoError(t, err)
	stable, _ := committedEnds.Lookup("t", 0)
	assert.Less(t, stable.Offset, uncommittedEnd.Offset, "the last stable offset stops at the open transaction")
	require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
	assert.Equal(t, []string{"c1", "c2", "c3", "c4", "open"}, readAll(ctx, t, n, "t", 5, kgo.ReadCommitted()))
}

// TestTransactionsFenceAnOlderProducer: a second producer with the same
// transactional ID fences the first, whose open transaction is aborted.
func TestTransactionsFenceAnOlderProducer(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
	first := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
	require.NoError(t, first.BeginTransaction())
	require.NoError(t, first.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie")}).FirstErr())

	second := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
	produceInTxn(ctx, t, second, true, "live")

	err := first.EndTransaction(ctx, kgo.TryCommit)
	require.Error(t, err)
	assert.True(t, errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch), "got %v", err)
	assert.Equal(t, []string{"live"}, readAll(ctx, t, n, "t", 1, kgo.ReadCommitted()))
}

// TestTransactionsAtBothVersions: franz-go takes up transaction version 2
// (KIP-890's second part) when the node has it finalized: it skips
// AddPartitionsToTxn, and every end bumps its epoch; at version 1 the
// epoch stays. Either way the committed records, and only they, reach a
// read_committed reader.
func TestTransactionsAtBothVersions(t *testing.T) {
	for _, version := range []int16{1, 2} {
		t.Run(fmt.Sprintf("transaction.version=%d", version), func(t *testing.T) {
			n := openNodeWith(t, creek.Config{TransactionVersion: version})
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
			producer := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
			adm := kadm.NewClient(newClient(t, n))
			var epochs []int16
			for i, commit := range []bool{true, false, true} {
				produceInTxn(ctx, t, producer, commit, "v"+strconv.Itoa(i))
				described, err := adm.DescribeTransactions(ctx, "tx")
				require.NoError(t, err)
				require.NoError(t, described["tx"].Err)
				epochs = append(epochs, described["tx"].ProducerEpoch)
			}
			if version == 2 {
				// franz-go learns the feature with its first transaction,
				// whose end is at version 1, and takes the version up for
				// the next with an InitProducerID: a bump of its own.
				assert.Less(t, epochs[0], epochs[1], "%v", epochs)
				assert.Equal(t, epochs[1]+1, epochs[2], "every end bumps the epoch: %v", epochs)
			} else {
				assert.Equal(t, []int16{epochs[0], epochs[0], epochs[0]}, epochs, "the epoch stays")
			}
			assert.Equal(t, []string{"v0", "v2"}, readAll(ctx, t, n, "t", 2, kgo.ReadCommitted()))
		})
	}
}

// TestTransactionsDescribeAndList: kadm describes and lists the
// coordinator's transactional IDs.
func TestTransactionsDescribeAndList(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
	producer := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
	require.NoError(t, producer.BeginTransaction())
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr())

	adm := kadm.NewClient(newClient(t, n))
	described, err := adm.DescribeTransactions(ctx, "tx")
	require.NoError(t, err)
	d, ok := described["tx"]
	require.True(t, ok)
	require.NoError(t, d.Err)
	assert.Equal(t, "Ongoing", d.State)
	assert.Contains(t, d.Topics, "t")

	listed, err := adm.ListTransactions(ctx, nil, nil)
	require.NoError(t, err)
	assert.Contains(t, listed.TransactionalIDs(), "tx")
	require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
}

// TestTransactionsConsumeTransformProduce runs franz-go's
// GroupTransactSession over creek: records read from one topic, written
// to another and their offsets committed in the same transactions, with
// a second session joining halfway (a rebalance). Every input record's
// output is read exactly once with read_committed, and the group's
// committed offsets end at the input's end.
func TestTransactionsConsumeTransformProduce(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const partitions, records = 3, 600
	require.NoError(t, n.CreateTopic(ctx, "in", creek.TopicSpec{Partitions: partitions}))
	require.NoError(t, n.CreateTopic(ctx, "out", creek.TopicSpec{Partitions: partitions}))
	input := newClient(t, n, kgo.DefaultProduceTopic("in"))
	for i := range records {
		input.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, nil)
	}
	require.NoError(t, input.Flush(ctx))

	session := func(name string, done <-chan struct{}) error {
		s, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(n.Addr().String()), kgo.TransactionalID(name),
			kgo.ConsumerGroup("etl"), kgo.ConsumeTopics("in"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RequireStableFetchOffsets(),
			kgo.DefaultProduceTopic("out"))
		if err != nil {
			return err
		}
		defer s.Close()
		for {
			select {
			case <-done:
				return nil
			default:
			}
			poll, pollCancel := context.WithTimeout(ctx, 200*time.Millisecond)
			fetches := s.PollFetches(poll)
			pollCancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := s.Begin(); err != nil {
				return err
			}
			fetches.EachRecord(func(r *kgo.Record) {
				s.Produce(ctx, &kgo.Record{Value: append([]byte("out-"), r.Value...)}, nil)
			})
			if _, err := s.End(ctx, kgo.TryCommit); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	done := make(chan struct{})
	errs := make(chan error, 2)
	go func() { errs <- session("etl-a", done) }()
	got := map[string]int{}
	out := newClient(t, n, kgo.ConsumeTopics("out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	second := false
	for total := 0; total < records; {
		fetches := out.PollFetches(ctx)
		require.NoError(t, fetches.Err0())
		fetches.EachRecord(func(r *kgo.Record) { got[string(r.Value)]++; total++ })
		if !second && total > records/3 {
			second = true
			go func() { errs <- session("etl-b", done) }()
		}
	}
	close(done)
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	for i := range records {
		assert.Equal(t, 1, got["out-"+strconv.Itoa(i)], "record %d", i)
	}
	assert.Len(t, got, records)

	adm := kadm.NewClient(newClient(t, n))
	committed, err := adm.FetchOffsets(ctx, "etl")
	require.NoError(t, err)
	var sum int64
	committed.Each(func(o kadm.OffsetResponse) { sum += o.At })
	assert.Equal(t, int64(records), sum, "the group's offsets end at the input's end")
}

// TestDescribeProducers: kadm describes a partition's producers: an
// idempotent one with its last sequence, and a transactional one with
// the first offset of its open transaction and the coordinator epoch of
// its last commit.
func TestDescribeProducers(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
	idempotent := newClient(t, n, kgo.DefaultProduceTopic("t"))
	for _, v := range []string{"i1", "i2", "i3"} { // 0-2, one batch each
		require.NoError(t, idempotent.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr())
	}
	producer := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
	produceInTxn(ctx, t, producer, true, "c1") // 3, its commit at 4
	require.NoError(t, producer.BeginTransaction())
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte("open")}).FirstErr()) // 5

	adm := kadm.NewClient(newClient(t, n))
	described, err := adm.DescribeTransactions(ctx, "tx")
	require.NoError(t, err)
	txnProducer := described["tx"].ProducerID
	topics, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"t": {0: {}}})
	require.NoError(t, err)
	p, ok := topics["t"].Partitions[0]
	require.True(t, ok)
	require.NoError(t, p.Err)
	require.Len(t, p.ActiveProducers, 2)
	tx, ok := p.ActiveProducers[txnProducer]
	require.True(t, ok, "the transactional producer %d is listed", txnProducer)
	assert.Equal(t, int64(5), tx.CurrentTxnStartOffset)
	assert.Equal(t, int32(0), tx.LastSequence,
		"the open transaction's one batch: the epoch moved on after the first (transaction version 2), and the sequence started again")
	assert.Equal(t, described["tx"].ProducerEpoch, tx.ProducerEpoch)
	assert.Equal(t, int32(0), tx.CoordinatorEpoch, "a lone node's coordinator wrote the commit at epoch 0")
	for id, other := range p.ActiveProducers {
		if id != txnProducer {
			assert.Equal(t, int32(2), other.LastSequence, "the idempotent producer's three records")
			assert.Equal(t, int64(-1), other.CurrentTxnStartOffset)
			assert.Equal(t, int32(-1), other.CoordinatorEpoch)
			assert.Positive(t, other.LastTimestamp)
		}
	}
	require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
}
