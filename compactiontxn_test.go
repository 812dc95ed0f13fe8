package creek

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txnlog"
)

// compactTxnNode opens a node in memory on fs with clock, and topic "t"
// compacted, whose tombstones and transaction markers stay an hour; it
// returns the node and t-0.
func compactTxnNode(t *testing.T, fs fsx.FS, clock *fakeClock) (*Node, *partition) {
	t.Helper()
	n, err := openNode(fs, "/n", Config{Logger: discardLogger(), TransactionStatePartitions: 2, OffsetsTopicPartitions: 2}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	if _, err := n.partition("t", 0); err != nil {
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Configs: map[string]string{
			ConfigCleanupPolicy: "compact", ConfigDeleteRetentionMs: "3600000"}}))
	}
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	return n, p
}

// keyedBatch builds a batch of one record, key=value, from producer pid
// (transactional at epoch 0 and sequence seq), or from no producer when
// pid is negative.
func keyedBatch(t *testing.T, pid int64, seq int32, key, value string) []byte {
	t.Helper()
	opts := batch.BuildOptions{BaseTimestamp: 1}
	if pid >= 0 {
		opts = batch.BuildOptions{BaseTimestamp: 1, Idempotent: true, ProducerID: pid, BaseSequence: seq, Transactional: true}
	}
	b, err := batch.Build(opts, batch.Record{Key: []byte(key), Value: []byte(value)})
	require.NoError(t, err)
	return b
}

// produceKeyed appends key=value to t-0 as keyedBatch builds it.
func produceKeyed(t *testing.T, n *Node, pid int64, seq int32, key, value string) {
	t.Helper()
	_, err := n.ProduceBatch(t.Context(), "t", 0, keyedBatch(t, pid, seq, key, value))
	require.NoError(t, err)
}

// endTxnMarker writes the marker that commits or aborts producer pid's
// transaction on p.
func endTxnMarker(t *testing.T, p *partition, pid int64, commit bool) {
	t.Helper()
	require.NoError(t, p.writeMarker(t.Context(), txnlog.Marker{ProducerID: pid, Commit: commit}))
}

// sealActive rolls p's log, so that what it holds is in sealed segments.
func sealActive(t *testing.T, p *partition) {
	t.Helper()
	p.log.appendMu.Lock()
	defer p.log.appendMu.Unlock()
	require.NoError(t, p.log.rollLocked())
}

// compactNow runs one compaction pass over p's log, whatever is dirty.
func compactNow(t *testing.T, p *partition) CompactStats {
	t.Helper()
	st, err := p.log.compact(true)
	require.NoError(t, err)
	return st
}

// committedValues reads t-0 from its start as a read_committed consumer
// does and returns the newest value of each key.
func committedValues(t *testing.T, n *Node, p *partition) map[string]string {
	t.Helper()
	values := map[string]string{}
	for offset := p.log.StartOffset(); ; {
		res, next := committedFetch(t, n, offset)
		if next == offset {
			return values
		}
		filter := newAbortedFilter(res.Aborted)
		for rest := res.Records; len(rest) > 0; {
			one, tail, err := batch.Next(rest)
			require.NoError(t, err)
			rest = tail
			h, err := batch.ParseHeader(one)
			require.NoError(t, err)
			if filter.skips(h) {
				continue
			}
			records, err := decodeRecords(one)
			require.NoError(t, err)
			for _, r := range records {
				if r.Offset(h) >= offset {
					values[string(r.Key)] = string(r.Value)
				}
			}
		}
		offset = next
	}
}

// txnBatchesIn counts the batches of t-0's log that producer pid wrote:
// its data batches, and its markers.
func txnBatchesIn(t *testing.T, p *partition, pid int64) (data, markers int) {
	t.Helper()
	for _, b := range readAll(t, p.log) {
		h, err := batch.ParseHeader(b)
		require.NoError(t, err)
		switch {
		case h.ProducerID != pid:
		case h.Control():
			markers++
		default:
			data++
		}
	}
	return data, markers
}

// stableAndEnd returns p's last stable offset and high watermark.
func stableAndEnd(p *partition) (int64, int64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.lastStableLocked(), p.highWatermarkLocked()
}

// TestCompactTxnAbortedKeepsCommitted: a newer record of a key in an
// aborted transaction does not make compaction drop the committed one,
// and the aborted batch goes; so after a restart, with its snapshots or
// without (a crash), a read_committed reader still finds the committed
// value.
func TestCompactTxnAbortedKeepsCommitted(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n, p := compactTxnNode(t, fs, clock)
	const pid = 100
	produceKeyed(t, n, -1, 0, "k", "v1")
	produceKeyed(t, n, pid, 0, "k", "v2")
	produceKeyed(t, n, -1, 0, "other", "x")
	endTxnMarker(t, p, pid, false)
	sealActive(t, p)

	st := compactNow(t, p)
	assert.Equal(t, int64(1), st.RecordsRemoved, "the aborted record")
	assert.Equal(t, map[string]string{"k": "v1", "other": "x"}, committedValues(t, n, p))
	data, markers := txnBatchesIn(t, p, pid)
	assert.Zero(t, data, "the aborted batch is gone")
	assert.Equal(t, 1, markers, "its marker stays, fresh")

	crashed := fs.CrashClone()
	require.NoError(t, n.Close())
	n, p = compactTxnNode(t, fs, clock)
	assert.Equal(t, map[string]string{"k": "v1", "other": "x"}, committedValues(t, n, p), "after a restart")
	n, p = compactTxnNode(t, crashed, clock)
	assert.Equal(t, map[string]string{"k": "v1", "other": "x"}, committedValues(t, n, p), "after a crash")
	lso, hw := stableAndEnd(p)
	assert.Equal(t, hw, lso, "no transaction open after the replay")
}

// TestCompactTxnOpenIsNotCleaned: a record of a transaction still open
// neither counts as the newest of its key nor is rewritten; once the
// transaction commits, the next pass keeps it and drops the older
// record.
func TestCompactTxnOpenIsNotCleaned(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n, p := compactTxnNode(t, fs, clock)
	const pid = 100
	produceKeyed(t, n, -1, 0, "k", "v1")
	sealActive(t, p)
	produceKeyed(t, n, pid, 0, "k", "v2")
	produceKeyed(t, n, -1, 0, "other", "x")
	sealActive(t, p) // v2 is sealed, above the last stable offset
	lso, _ := stableAndEnd(p)
	require.Equal(t, int64(1), lso)

	st := compactNow(t, p)
	assert.Zero(t, st.RecordsRemoved, "nothing below the last stable offset is superseded")
	offsets, _ := latestByKey(t, p.log)
	assert.Equal(t, []int64{0, 1}, offsets["k"], "v1 stays while v2's transaction is open")

	endTxnMarker(t, p, pid, true)
	sealActive(t, p)
	st = compactNow(t, p)
	assert.Equal(t, int64(1), st.RecordsRemoved)
	offsets, values := latestByKey(t, p.log)
	assert.Equal(t, []int64{1}, offsets["k"], "the committed v2 supersedes v1")
	assert.Equal(t, "v2", values[1])
	assert.Equal(t, map[string]string{"k": "v2", "other": "x"}, committedValues(t, n, p))
}

// TestCompactTxnOffsetsKeepsCommitted: an aborted transactional offset
// commit does not make compaction of __consumer_offsets drop the offset
// committed before it, which a restart reads back.
func TestCompactTxnOffsetsKeepsCommitted(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n, _ := compactTxnNode(t, fs, clock)
	ctx := t.Context()
	tp := TopicPartition{"t", 0}
	commit := func(id string, offset int64, commit bool) {
		pid, epoch, err := n.initTxnProducer(ctx, id, time.Minute, -1, -1)
		require.NoError(t, err)
		require.NoError(t, n.addOffsetsToTxn(ctx, id, pid, epoch, "g"))
		require.NoError(t, n.commitTxnOffsets(ctx, "g", pid, epoch, groupIdentity{Generation: -1},
			map[TopicPartition]CommittedOffset{tp: {Offset: offset, LeaderEpoch: -1}}, kafka.Txn{ID: id}))
		require.NoError(t, endTxnV1(ctx, n, id, pid, epoch, commit))
		awaitTxnEnded(t, n, id)
	}
	commit("a", 5, true)
	commit("b", 9, false)
	offsets, err := n.partition(ConsumerOffsetsTopic, keyPartition("g", 2))
	require.NoError(t, err)
	sealActive(t, offsets)
	compactNow(t, offsets)
	assert.Equal(t, int64(5), n.CommittedOffsets("g")[tp].Offset)

	crashed := fs.CrashClone() // no snapshot: the offsets are replayed from the log
	n, _ = compactTxnNode(t, crashed, clock)
	assert.Equal(t, int64(5), n.CommittedOffsets("g")[tp].Offset, "the committed offset survives the aborted one")
}

// awaitTxnEnded waits until the transactional ID's markers are written.
func awaitTxnEnded(t *testing.T, n *Node, id string) {
	t.Helper()
	tp, err := n.ownTxn(t.Context(), id)
	require.NoError(t, err)
	n.awaitTxnEnd(t.Context(), tp, id)
}

// TestCompactTxnRemovesMarkers: a marker older than DeleteRetention goes
// in a pass after the one that removed the last data of its transaction,
// abort or commit, and the aborted transaction is forgotten with it; a
// younger one stays. A restart that replays the log, even after a clean
// close whose snapshot knew the transaction, finds none open and none
// aborted.
func TestCompactTxnRemovesMarkers(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n, p := compactTxnNode(t, fs, clock)
	const aborts, commits, young = 100, 200, 300
	produceKeyed(t, n, -1, 0, "k", "v1")
	produceKeyed(t, n, aborts, 0, "k", "aborted")
	endTxnMarker(t, p, aborts, false)
	produceKeyed(t, n, commits, 0, "j", "committed")
	endTxnMarker(t, p, commits, true)
	produceKeyed(t, n, -1, 0, "j", "newer")
	sealActive(t, p)
	clock.advance(2 * time.Hour)

	compactNow(t, p) // drops the aborted batch and the superseded committed one
	for _, pid := range []int64{aborts, commits} {
		data, markers := txnBatchesIn(t, p, pid)
		assert.Zero(t, data, "producer %d", pid)
		assert.Equal(t, 1, markers, "producer %d: the marker stays through the pass that removed its data", pid)
	}

	require.NoError(t, n.Close()) // its snapshot knows the aborted transaction
	n, p = compactTxnNode(t, fs, clock)
	produceKeyed(t, n, young, 0, "y", "aborted")
	endTxnMarker(t, p, young, false)
	produceKeyed(t, n, -1, 0, "dirty", "1") // a pass needs something dirty
	sealActive(t, p)
	st := compactNow(t, p)
	assert.Equal(t, int64(2), st.MarkersRemoved)
	for _, pid := range []int64{aborts, commits} {
		data, markers := txnBatchesIn(t, p, pid)
		assert.Zero(t, data+markers, "producer %d: nothing left", pid)
	}
	aborted := p.abortedIn(0, math.MaxInt64)
	require.Len(t, aborted, 1, "the old aborted transaction is forgotten with its marker")
	assert.Equal(t, int64(young), aborted[0].ProducerID)

	produceKeyed(t, n, -1, 0, "dirty", "2")
	sealActive(t, p)
	require.Positive(t, compactNow(t, p).Segments)
	data, markers := txnBatchesIn(t, p, young)
	assert.Equal(t, [2]int{0, 1}, [2]int{data, markers}, "a marker younger than DeleteRetention stays")
	want := map[string]string{"k": "v1", "j": "newer", "dirty": "2"}
	assert.Equal(t, want, committedValues(t, n, p))

	n, p = compactTxnNode(t, fs.CrashClone(), clock)
	lso, hw := stableAndEnd(p)
	assert.Equal(t, hw, lso, "the replay finds no transaction open")
	for _, a := range p.abortedIn(0, math.MaxInt64) { // from the snapshot the last roll wrote
		assert.Equal(t, int64(young), a.ProducerID, "only a transaction whose marker is still there is known aborted")
	}
	assert.Equal(t, want, committedValues(t, n, p))
}
