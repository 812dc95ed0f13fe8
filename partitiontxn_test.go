package creek

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txnlog"
)

// txnBatch builds a transactional batch of n records from producer id at
// epoch, starting at sequence seq.
func txnBatch(t testing.TB, id int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	records := make([]batch.Record, n)
	for i := range records {
		records[i] = batch.Record{OffsetDelta: int32(i), Value: []byte{byte(seq), byte(i)}}
	}
	b, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq,
		Transactional: true}, records...)
	require.NoError(t, err)
	return b
}

// txnTopic returns a node with topic "t" of one partition, and that
// partition.
func txnTopic(t *testing.T, cfg Config) (*Node, *partition) {
	t.Helper()
	cfg.Logger = discardLogger()
	n := newTestNode(t, cfg)
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	return n, p
}

// diskTxnTopic opens a node on a directory of the test's with topic "t"
// of one partition, and returns its config, for reopenTxnTopic, and the
// partition.
func diskTxnTopic(t *testing.T) (Config, *Node, *partition) {
	t.Helper()
	cfg := Config{Dir: t.TempDir(), Logger: discardLogger()}
	n, err := Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() }) // a no-op once the test closed it
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	return cfg, n, p
}

// reopenTxnTopic opens the node of diskTxnTopic again, after the test
// closed it, and returns it and partition t-0; the test's end closes it.
func reopenTxnTopic(t *testing.T, cfg Config) (*Node, *partition) {
	t.Helper()
	n, err := Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	return n, p
}

// txnState returns a partition's last stable offset and every aborted
// transaction it knows.
func txnState(p *partition) (int64, []txnlog.Aborted) {
	p.mu.RLock()
	lso := p.lastStableLocked()
	p.mu.RUnlock()
	return lso, p.abortedIn(0, math.MaxInt64)
}

// committedFetch reads partition 0 of "t" from offset as a read_committed
// Kafka consumer does, and returns the answer with the offset after the
// last batch read (offset itself when it read none).
func committedFetch(t *testing.T, n *Node, offset int64) (kafka.FetchResult, int64) {
	t.Helper()
	res, err := kafkaBroker{n}.Fetch(nil, kafka.FetchPartition{Topic: "t", Offset: offset, MaxBytes: 1 << 20,
		ReplicaID: -1, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, Isolation: int8(ReadCommitted)})
	require.NoError(t, err)
	next := offset
	if len(res.Records) > 0 {
		next = lastOffsetIn(res.Records) + 1
	}
	return res, next
}

// TestTxnLastStableOffset: transactions open and end on a partition; the
// last stable offset stays at the first offset of the oldest open one, a
// read_committed fetch stops there, and reads the aborted transactions of
// what it read.
func TestTxnLastStableOffset(t *testing.T) {
	n, p := txnTopic(t, Config{})
	ctx := t.Context()
	const a, b = 100, 200
	steps := []struct {
		name        string
		do          func() error
		wantLSO     int64
		wantAborted []kafka.AbortedTxn // of a read_committed fetch from 0
	}{
		{"a plain record at 0", func() error { _, err := n.ProduceBatch(ctx, "t", 0, testBatch(t, 0, 1, 4, 0)); return err }, 1, nil},
		{"a opens at 1 (1-2)", func() error { _, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, a, 0, 0, 2)); return err }, 1, nil},
		{"b opens at 3", func() error { _, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, b, 0, 0, 1)); return err }, 1, nil},
		{"a goes on at 4", func() error { _, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, a, 0, 2, 1)); return err }, 1, nil},
		{"a commits at 5", func() error { return p.writeMarker(ctx, txnlog.Marker{ProducerID: a, Commit: true}) }, 3, nil},
		{"b aborts at 6", func() error { return p.writeMarker(ctx, txnlog.Marker{ProducerID: b}) }, 7,
			[]kafka.AbortedTxn{{ProducerID: b, FirstOffset: 3}}},
		{"a opens again at 7", func() error { _, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, a, 0, 3, 1)); return err }, 7,
			[]kafka.AbortedTxn{{ProducerID: b, FirstOffset: 3}}},
	}
	for _, st := range steps {
		require.NoError(t, st.do(), st.name)
		lso, _ := txnState(p)
		assert.Equal(t, st.wantLSO, lso, "%s: the last stable offset", st.name)
		res, next := committedFetch(t, n, 0)
		assert.Equal(t, st.wantLSO, res.LastStableOffset, "%s: the fetch's last stable offset", st.name)
		assert.Equal(t, p.log.EndOffset(), res.HighWatermark, st.name)
		assert.Equal(t, st.wantLSO, next, "%s: a read_committed fetch reads to the last stable offset", st.name)
		want := st.wantAborted
		if want == nil {
			want = []kafka.AbortedTxn{}
		}
		assert.Equal(t, want, res.Aborted, "%s: aborted transactions, a list even when empty", st.name)
	}
	res, _ := committedFetch(t, n, 7)
	assert.Equal(t, []kafka.AbortedTxn{}, res.Aborted, "a read past b's abort meets none")
	assert.Empty(t, res.Records, "nothing below the last stable offset from 7")

	uncommitted, err := kafkaBroker{n}.Fetch(nil, kafka.FetchPartition{Topic: "t", MaxBytes: 1 << 20, ReplicaID: -1,
		CurrentLeaderEpoch: -1, LastFetchedEpoch: -1})
	require.NoError(t, err)
	assert.Nil(t, uncommitted.Aborted, "read_uncommitted gets no list")
	assert.Equal(t, p.log.EndOffset(), lastOffsetIn(uncommitted.Records)+1, "read_uncommitted reads to the high watermark")
}

// TestTxnRefused: what a partition refuses of a producer's batches and
// markers because of its transactions, with Kafka's codes.
func TestTxnRefused(t *testing.T) {
	const id = 7
	tests := []struct {
		name     string
		batch    func(t *testing.T) []byte // after id opened a transaction at epoch 1
		marker   *txnlog.Marker
		want     error
		wantCode int16
	}{
		{"outside the transaction", func(t *testing.T) []byte { return idempotentBatch(t, id, 1, 1, 1) }, nil,
			ErrInvalidTxnState, kerr.InvalidTxnState.Code},
		{"an older epoch", func(t *testing.T) []byte { return txnBatch(t, id, 0, 0, 1) }, nil,
			ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch.Code},
		{"a marker of an older epoch", nil, &txnlog.Marker{ProducerID: id, Epoch: 0, Commit: true},
			ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch.Code},
		{"a control batch from a client", func(t *testing.T) []byte {
			b, err := txnlog.BuildMarker(txnlog.Marker{ProducerID: id, Epoch: 1, Commit: true}, 0)
			require.NoError(t, err)
			return b
		}, nil, ErrInvalidRecord, kerr.InvalidRecord.Code},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, p := txnTopic(t, Config{})
			_, err := n.ProduceBatch(t.Context(), "t", 0, txnBatch(t, id, 1, 0, 1))
			require.NoError(t, err)
			if tc.marker != nil {
				err = p.writeMarker(t.Context(), *tc.marker)
			} else {
				_, err = n.ProduceBatch(t.Context(), "t", 0, tc.batch(t))
			}
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.wantCode, KafkaCode(err))
			assert.Equal(t, int64(1), p.log.EndOffset(), "nothing appended")
			lso, _ := txnState(p)
			assert.Equal(t, int64(0), lso, "the transaction is still open")
		})
	}
}

// TestTxnMarkerEpoch: a marker's epoch counts for the producer's
// sequences, as Kafka's appendEndTxnMarker has it: a coordinator that
// aborts with a bumped epoch fences the producer's old one, and the new
// epoch starts at sequence 0; a marker for a producer with no transaction
// here is appended and changes nothing else. The epoch survives a
// restart, in the producer snapshot.
func TestTxnMarkerEpoch(t *testing.T) {
	const id = 9
	cfg, n, p := diskTxnTopic(t)
	ctx := t.Context()
	_, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 0, 0, 2))
	require.NoError(t, err)
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: id, Epoch: 1}), "an abort at a bumped epoch")
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 55, Epoch: 3, Commit: true}), "a marker with nothing here")
	assert.Equal(t, int64(4), p.log.EndOffset(), "both markers are appended")
	lso, aborted := txnState(p)
	assert.Equal(t, int64(4), lso)
	assert.Equal(t, []txnlog.Aborted{{ProducerID: id, FirstOffset: 0, LastOffset: 2, LastStable: 3}}, aborted)

	check := func(n *Node, when string) {
		_, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 0, 2, 1))
		require.ErrorIs(t, err, ErrInvalidProducerEpoch, "%s: the old epoch is fenced", when)
		_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 1, 2, 1))
		require.ErrorIs(t, err, ErrOutOfOrderSequence, "%s: the new epoch starts at 0", when)
	}
	check(n, "before a restart")
	require.NoError(t, n.Close())
	n, _ = reopenTxnTopic(t, cfg)
	check(n, "after a restart")
	_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 1, 0, 1))
	require.NoError(t, err, "the new epoch at 0")
}

// TestTxnListOffsets: the end a read_committed client lists is the last
// stable offset, and a timestamp finds no record at or past it.
func TestTxnListOffsets(t *testing.T) {
	n, p := txnTopic(t, Config{})
	ctx := t.Context()
	_, err := n.ProduceBatch(ctx, "t", 0, testBatch(t, 0, 2, 4, 1_000))
	require.NoError(t, err)
	open, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: 3, Transactional: true, BaseTimestamp: 2_000},
		batch.Record{Value: []byte("x")})
	require.NoError(t, err)
	_, err = n.ProduceBatch(ctx, "t", 0, open)
	require.NoError(t, err)
	tests := []struct {
		name      string
		timestamp int64
		isolation IsolationLevel
		want      int64
	}{
		{"latest, uncommitted", listLatest, ReadUncommitted, 3},
		{"latest, committed", listLatest, ReadCommitted, 2},
		{"earliest, committed", listEarliest, ReadCommitted, 0},
		{"a committed record", 1_000, ReadCommitted, 0},
		{"an open transaction's record, uncommitted", 1_500, ReadUncommitted, 2},
		{"an open transaction's record, committed", 1_500, ReadCommitted, -1},
	}
	for _, tc := range tests {
		got, _, err := kafkaBroker{n}.ListOffset("t", 0, tc.timestamp, int8(tc.isolation))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 3, Commit: true}))
	got, _, err := kafkaBroker{n}.ListOffset("t", 0, 1_500, int8(ReadCommitted))
	require.NoError(t, err)
	assert.Equal(t, int64(2), got, "committed: found")
}

// TestTxnRestart: a node restarted on its directory knows the open
// transaction and the aborted one it had: from a clean close's snapshots,
// from an older transaction snapshot and the log after it, and from a
// replay of the whole log when the snapshots are gone or describe more
// than the log holds.
func TestTxnRestart(t *testing.T) {
	tests := []struct {
		name  string
		after func(t *testing.T, fs fsx.FS, dir string, early []byte) // with the node closed
	}{
		{"clean", func(*testing.T, fsx.FS, string, []byte) {}},
		{"without snapshots", func(t *testing.T, fs fsx.FS, dir string, _ []byte) {
			require.NoError(t, fs.Remove(filepath.Join(dir, producerSnapshotName)))
			require.NoError(t, fs.Remove(filepath.Join(dir, txnSnapshotName)))
		}},
		{"an older transaction snapshot", func(t *testing.T, fs fsx.FS, dir string, early []byte) {
			require.NoError(t, framefile.WriteAtomic(fs, dir, txnSnapshotName, early))
		}},
		{"a snapshot past the log's end", func(t *testing.T, fs fsx.FS, dir string, _ []byte) {
			require.NoError(t, framefile.WriteAtomic(fs, dir, txnSnapshotName, txnlog.NewTracker().MarshalSnapshot(1000)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Dir: t.TempDir(), Logger: discardLogger()}
			n, err := Open(cfg)
			require.NoError(t, err)
			ctx := t.Context()
			require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
			p, err := n.partition("t", 0)
			require.NoError(t, err)
			var early []byte
			for i, b := range [][]byte{testBatch(t, 0, 1, 4, 0), txnBatch(t, 1, 0, 0, 2), txnBatch(t, 2, 0, 0, 1)} {
				_, err := n.ProduceBatch(ctx, "t", 0, b)
				require.NoError(t, err)
				if i == 1 { // 1 is open at 1, 2 not yet
					p.producersMu.Lock()
					early = p.txns.MarshalSnapshot(p.log.EndOffset())
					p.producersMu.Unlock()
				}
			}
			require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 1})) // 1 aborts at 4; 2 stays open at 3
			wantLSO, wantAborted := txnState(p)
			require.Equal(t, int64(3), wantLSO)
			require.Len(t, wantAborted, 1)
			require.NoError(t, n.Close())
			dir := partitionDir(cfg.Dir, "t", 0)
			tc.after(t, n.fs, dir, early)

			n, err = Open(cfg)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, n.Close()) })
			p, err = n.partition("t", 0)
			require.NoError(t, err)
			lso, aborted := txnState(p)
			assert.Equal(t, wantLSO, lso)
			assert.Equal(t, wantAborted, aborted)
			_, err = n.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 2, 0, 1, 1))
			require.ErrorIs(t, err, ErrInvalidTxnState, "2's transaction is still open")
		})
	}
}

// TestTxnFetchOverKafka: a Kafka consumer's Fetch, read_committed, gets
// the last stable offset and the aborted transactions of what it read, a
// list even when empty; read_uncommitted gets null there and reads to the
// high watermark.
func TestTxnFetchOverKafka(t *testing.T) {
	n, p := txnTopic(t, Config{Listen: "127.0.0.1:0"})
	ctx := t.Context()
	for _, b := range [][]byte{txnBatch(t, 1, 0, 0, 2), txnBatch(t, 2, 0, 0, 1)} { // 1 at 0-1, 2 at 2
		_, err := n.ProduceBatch(ctx, "t", 0, b)
		require.NoError(t, err)
	}
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 1})) // abort at 3; 2 still open
	fetch := func(isolation int8, offset int64) kmsg.FetchResponseTopicPartition {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxBytes, req.IsolationLevel = -1, 1<<20, isolation
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = "t", n.topicID("t")
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
		rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
		req.Topics = []kmsg.FetchRequestTopic{rt}
		resp := groupRequest[*kmsg.FetchResponse](t, ctx, n, req)
		require.Len(t, resp.Topics, 1)
		require.Len(t, resp.Topics[0].Partitions, 1)
		got := resp.Topics[0].Partitions[0]
		require.Zero(t, got.ErrorCode)
		return got
	}

	committed := fetch(1, 0)
	assert.Equal(t, int64(2), committed.LastStableOffset)
	assert.Equal(t, int64(4), committed.HighWatermark)
	assert.Equal(t, int64(2), lastOffsetIn(committed.RecordBatches)+1, "read_committed stops at the last stable offset")
	require.Len(t, committed.AbortedTransactions, 1)
	assert.Equal(t, int64(1), committed.AbortedTransactions[0].ProducerID)
	assert.Equal(t, int64(0), committed.AbortedTransactions[0].FirstOffset)

	none := fetch(1, 2)
	assert.NotNil(t, none.AbortedTransactions, "read_committed gets a list")
	assert.Empty(t, none.AbortedTransactions)
	assert.Empty(t, none.RecordBatches)

	uncommitted := fetch(0, 0)
	assert.Equal(t, int64(2), uncommitted.LastStableOffset)
	assert.Nil(t, uncommitted.AbortedTransactions, "read_uncommitted gets null")
	assert.Equal(t, int64(4), lastOffsetIn(uncommitted.RecordBatches)+1)

	list := kmsg.NewPtrListOffsetsRequest()
	list.IsolationLevel = 1
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "t"
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Timestamp = -1
	lt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{lp}
	list.Topics = []kmsg.ListOffsetsRequestTopic{lt}
	listed := groupRequest[*kmsg.ListOffsetsResponse](t, ctx, n, list)
	assert.Equal(t, int64(2), listed.Topics[0].Partitions[0].Offset, "read_committed lists the last stable offset")
}

// txnTopicWithAnAbort returns a node whose topic "t" holds a plain
// record (offset 0), an aborted transaction (1, 2 and 4, its marker 5), a
// committed one (3, its marker 6) and an open one (7): read_committed
// reads offsets 0 and 3, up to the last stable offset 7.
func txnTopicWithAnAbort(t *testing.T, ctx context.Context) *Node {
	t.Helper()
	n, p := txnTopic(t, Config{})
	produce := func(b []byte) {
		_, err := n.ProduceBatch(ctx, "t", 0, b)
		require.NoError(t, err)
	}
	produce(testBatch(t, 0, 1, 4, 0))                                                  // 0: plain
	produce(txnBatch(t, 1, 0, 0, 2))                                                   // 1-2: producer 1, aborted below
	produce(txnBatch(t, 2, 0, 0, 1))                                                   // 3: producer 2, committed below
	produce(txnBatch(t, 1, 0, 2, 1))                                                   // 4: producer 1
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 1}))               // 5
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 2, Commit: true})) // 6
	produce(txnBatch(t, 3, 0, 0, 1))                                                   // 7: producer 3, open
	return n
}

// TestTxnConsumerReadCommitted: the embedded consumer with ReadCommitted
// reads below the last stable offset and skips aborted transactions'
// records; with ReadUncommitted it reads them all.
func TestTxnConsumerReadCommitted(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	n := txnTopicWithAnAbort(t, ctx)

	read := func(isolation IsolationLevel, count int) []int64 {
		c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, Isolation: isolation})
		require.NoError(t, err)
		defer c.Close()
		c.Assign(TopicPartition{"t", 0})
		var offsets []int64
		for len(offsets) < count {
			polled, err := c.Poll(ctx)
			require.NoError(t, err)
			for _, pr := range polled {
				for _, r := range pr.Records {
					offsets = append(offsets, r.Offset)
				}
			}
		}
		pos, err := c.Position(ctx, TopicPartition{"t", 0})
		require.NoError(t, err)
		assert.Equal(t, int64(7), min(pos, 7), "%v: read up to the open transaction at least", isolation)
		lag, err := c.Lag(ctx, TopicPartition{"t", 0})
		require.NoError(t, err)
		if isolation == ReadCommitted {
			assert.Equal(t, int64(0), lag, "nothing to read below the last stable offset")
		}
		return offsets
	}
	assert.Equal(t, []int64{0, 3}, read(ReadCommitted, 2))
	assert.Equal(t, []int64{0, 1, 2, 3, 4, 7}, read(ReadUncommitted, 6))

	c, err := n.NewConsumer(ConsumerConfig{Isolation: ReadCommitted})
	require.NoError(t, err)
	defer c.Close()
	c.Assign(TopicPartition{"t", 0})
	pos, err := c.Position(ctx, TopicPartition{"t", 0})
	require.NoError(t, err)
	assert.Equal(t, int64(7), pos, "ResetLatest starts a read_committed consumer at the last stable offset")
	_, err = n.NewConsumer(ConsumerConfig{Isolation: 5})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// TestTxnFetchWaitsForLastStable: a read_committed fetch waiting for data
// is woken when a marker moves the last stable offset, though the high
// watermark had passed its records already.
func TestTxnFetchWaitsForLastStable(t *testing.T) {
	n, p := txnTopic(t, Config{})
	ctx := t.Context()
	_, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, 0, 2))
	require.NoError(t, err)
	got := make(chan []byte, 1)
	go func() {
		b, err := p.fetch(ctx, nil, 0, FetchOptions{MaxWait: time.Minute, isolation: ReadCommitted})
		assert.NoError(t, err)
		got <- b
	}()
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 1, Commit: true}))
	b := <-got
	assert.Equal(t, int64(3), lastOffsetIn(b)+1, "the committed records and their marker")
}

// TestTxnReadCommittedConcurrent: a read_committed reader fetching while
// a producer writes transactions never gets a batch of an open one: the
// last batch it reads is always a marker, as each transaction of one
// batch ends with its marker before the next begins.
func TestTxnReadCommittedConcurrent(t *testing.T) {
	n, p := txnTopic(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done }) // a failed check stops the writer too
	go func() {
		defer close(done)
		for i := range int32(200) {
			if _, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, i, 1)); !assert.NoError(t, err) {
				return
			}
			if !assert.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 1, Commit: true})) {
				return
			}
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		b, err := p.fetch(ctx, nil, 0, FetchOptions{MaxBytes: 1 << 30, isolation: ReadCommitted})
		require.NoError(t, err)
		var last batch.Header
		for rest := b; len(rest) > 0; {
			one, next, err := batch.Next(rest)
			require.NoError(t, err)
			last, err = batch.ParseHeader(one)
			require.NoError(t, err)
			rest = next
		}
		if len(b) > 0 {
			require.True(t, last.Control(), "the last batch read at %d is of an open transaction", last.BaseOffset)
		}
	}
}

// TestTxnMarkerCoordinatorFenced: once a partition wrote a producer's
// marker at coordinator epoch 5, a marker at 4, from a coordinator since
// deposed, is refused with TRANSACTION_COORDINATOR_FENCED and ends
// nothing, before and after a restart: from the transaction snapshot, or
// replayed from the log without one. One at 5 is still accepted.
func TestTxnMarkerCoordinatorFenced(t *testing.T) {
	const id = 7
	tests := []struct {
		name  string
		after func(t *testing.T, fs fsx.FS, dir string) // with the node closed
	}{
		{"from the snapshot", func(*testing.T, fsx.FS, string) {}},
		{"replayed without snapshots", func(t *testing.T, fs fsx.FS, dir string) {
			require.NoError(t, fs.Remove(filepath.Join(dir, producerSnapshotName)))
			require.NoError(t, fs.Remove(filepath.Join(dir, txnSnapshotName)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, n, p := diskTxnTopic(t)
			ctx := t.Context()
			// 0: a transaction; 1: its commit by the coordinator at 5; 2: the next transaction.
			_, err := n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 0, 0, 1))
			require.NoError(t, err)
			require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: id, Commit: true, CoordinatorEpoch: 5}))
			_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 0, 1, 1))
			require.NoError(t, err)

			refused := func(n *Node, p *partition, when string) {
				err := p.writeMarker(ctx, txnlog.Marker{ProducerID: id, Commit: true, CoordinatorEpoch: 4})
				require.ErrorIs(t, err, ErrTxnCoordinatorFenced, when)
				assert.Equal(t, kerr.TransactionCoordinatorFenced.Code, KafkaCode(err), when)
				assert.Equal(t, int64(3), p.log.EndOffset(), "%s: nothing appended", when)
				states, err := n.DescribeProducers("t", 0)
				require.NoError(t, err)
				require.Len(t, states, 1)
				assert.Equal(t, int32(5), states[0].CoordinatorEpoch, when)
				assert.Equal(t, int64(2), states[0].CurrentTxnStartOffset, "%s: the transaction is still open", when)
			}
			refused(n, p, "before a restart")
			require.NoError(t, n.Close())
			tc.after(t, n.fs, partitionDir(cfg.Dir, "t", 0))
			n, p = reopenTxnTopic(t, cfg)
			refused(n, p, "after a restart")
			require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: id, CoordinatorEpoch: 5}), "the same coordinator")
			lso, _ := txnState(p)
			assert.Equal(t, int64(4), lso, "its abort ended the transaction")
		})
	}
}

// TestSnapshotsAtRoll: a roll of the log's segment writes the producer
// and transaction snapshots, as Kafka takes its producer snapshot at every
// roll, so that a restart after a crash replays the log from there, not
// from its start; and the state read back from them and the log after is
// the state before the crash.
func TestSnapshotsAtRoll(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n, err := openNode(fs, "/n", Config{Logger: discardLogger()}, clock.now)
	require.NoError(t, err)
	crashed := n
	t.Cleanup(func() { crashed.Close() }) // after the crash, on the files it had
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigSegmentBytes: "1024"}}))
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, 0, 1)) // producer 1's transaction stays open
	require.NoError(t, err)
	dir := partitionDir("/n", "t", 0)
	seq := int32(0)
	for p.log.rolls.Load() == 0 {
		_, err := n.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 2, 0, seq, 10))
		require.NoError(t, err)
		seq += 10
	}
	snapshotEnd := p.log.EndOffset()
	b, err := framefile.ReadFile(fs, filepath.Join(dir, txnSnapshotName), 1<<20)
	require.NoError(t, err, "written at the roll, without a close")
	snap, err := txnlog.UnmarshalSnapshot(b)
	require.NoError(t, err)
	assert.Equal(t, snapshotEnd, snap.End)
	_, err = framefile.ReadFile(fs, filepath.Join(dir, producerSnapshotName), 1<<20)
	require.NoError(t, err)

	last := idempotentBatch(t, 2, 0, seq, 10) // after the snapshot
	lastOffset, err := n.ProduceBatch(ctx, "t", 0, last)
	require.NoError(t, err)
	wantLSO, wantAborted := txnState(p)

	n, err = openNode(fs.CrashClone(), "/n", Config{Logger: discardLogger()}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	p, err = n.partition("t", 0)
	require.NoError(t, err)
	lso, aborted := txnState(p)
	assert.Equal(t, [2]any{wantLSO, wantAborted}, [2]any{lso, aborted}, "producer 1's transaction is still open")
	retried, err := n.ProduceBatch(ctx, "t", 0, last)
	require.NoError(t, err)
	assert.Equal(t, lastOffset, retried, "a retry of the batch after the snapshot is known from the log")
	_, err = n.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 2, 0, seq+10, 1))
	require.NoError(t, err, "and the next one follows it")
}

// TestAProducerWithATransactionOpenDoesNotExpire: producer.id.expiration.ms
// forgets an idle producer, but not one with a transaction open in the
// partition, as Kafka: its next batch is still checked against its last.
func TestAProducerWithATransactionOpenDoesNotExpire(t *testing.T) {
	clock := new(fakeClock).set(1e12)
	n, err := openNode(fsx.NewMem(), "/n", Config{Logger: discardLogger()}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigProducerIDExpirationMs: "1000"}}))
	_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, 0, 1)) // open
	require.NoError(t, err)
	_, err = n.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 2, 0, 0, 1))
	require.NoError(t, err)
	clock.advance(2 * time.Hour)
	_, err = n.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 3, 0, 0, 1)) // sweeps
	require.NoError(t, err)
	states, err := n.DescribeProducers("t", 0)
	require.NoError(t, err)
	var ids []int64
	for _, s := range states {
		ids = append(ids, s.ProducerID)
	}
	assert.Equal(t, []int64{1, 3}, ids, "2 expired; 1 has its transaction open")
	_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, 2, 1))
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "1's sequence is still known: 1 comes next, not 2")
	_, err = n.ProduceBatch(ctx, "t", 0, txnBatch(t, 1, 0, 1, 1))
	require.NoError(t, err)
}
