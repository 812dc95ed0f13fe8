package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txn"
	"github.com/creekmq/creek/internal/txnlog"
)

// txnNode opens a node in memory on fs with clock, small coordinator
// topics and topic "t".
func txnNode(t *testing.T, fs fsx.FS, clock *fakeClock) *Node {
	t.Helper()
	n, err := openNode(fs, "/n", Config{Logger: discardLogger(), TransactionStatePartitions: 2, OffsetsTopicPartitions: 2}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	if _, err := n.partition("t", 0); err != nil {
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	}
	return n
}

// produceTxnBatch appends one transactional batch of the producer's to
// t-0, its sequence starting at seq.
func produceTxnBatch(t *testing.T, n *Node, pid int64, epoch int16, seq int32) {
	t.Helper()
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	_, _, err = p.produce(t.Context(), txnBatch(t, pid, epoch, seq, 1), true)
	require.NoError(t, err)
}

// markersIn returns the transaction markers of a partition's log.
func markersIn(t *testing.T, n *Node, topic string, index int32) []txnlog.Marker {
	t.Helper()
	p, err := n.partition(topic, index)
	require.NoError(t, err)
	var out []txnlog.Marker
	require.NoError(t, readCoordinatorPartition(p, func(b []byte) error {
		if h, err := batch.ParseHeader(b); err == nil && h.Control() {
			m, err := txnlog.ParseMarker(b)
			require.NoError(t, err)
			out = append(out, m)
		}
		return nil
	}))
	return out
}

// awaitTxnState waits until the markers of the transactional ID, if
// being written, are, and checks that it is then in state want: the state
// changes before the markers' writer ends.
func awaitTxnState(t *testing.T, n *Node, id string, want txn.State) txn.Metadata {
	t.Helper()
	tp, err := n.ownTxn(t.Context(), id)
	require.NoError(t, err)
	n.awaitTxnEnd(t.Context(), tp, id)
	m, err := n.describeTxn(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, want, m.State)
	return m
}

// TestTxnCoordinatorCommits steps one transaction through the node's
// coordinator: the commit marker lands on the partition with the
// producer's epoch, and the ID is CompleteCommit, with no partitions.
func TestTxnCoordinatorCommits(t *testing.T) {
	n := txnNode(t, fsx.NewMem(), new(fakeClock).set(1e12))
	ctx := t.Context()
	pid, epoch := openTxnOnT0(t, n)
	require.NoError(t, endTxnV1(ctx, n, "tx", pid, epoch, true))
	m := awaitTxnState(t, n, "tx", txn.CompleteCommit)
	assert.Empty(t, m.Partitions)
	assert.Equal(t, []txnlog.Marker{{ProducerID: pid, Epoch: epoch, Commit: true}}, markersIn(t, n, "t", 0))

	_, err := n.addPartitionsToTxn(ctx, "tx", pid, epoch-1, []TopicPartition{{"t", 0}})
	assert.ErrorIs(t, err, kerr.ProducerFenced, "an older epoch is fenced")
	unknown, err := n.addPartitionsToTxn(ctx, "tx", pid, epoch, []TopicPartition{{"nope", 0}, {"t", 0}})
	assert.ErrorIs(t, err, kerr.OperationNotAttempted)
	assert.ErrorIs(t, unknown[TopicPartition{"nope", 0}], ErrUnknownTopic)
}

// TestTxnCoordinatorAbortsATimedOutTransaction: a transaction open past
// its timeout is aborted under the next epoch, which fences its producer.
func TestTxnCoordinatorAbortsATimedOutTransaction(t *testing.T) {
	clock := new(fakeClock).set(1e12)
	n := txnNode(t, fsx.NewMem(), clock)
	ctx := t.Context()
	pid, epoch, err := n.initTxnProducer(ctx, "tx", time.Minute, -1, -1)
	require.NoError(t, err)
	_, err = n.addPartitionsToTxn(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	require.NoError(t, err)
	produceTxnBatch(t, n, pid, epoch, 0)

	clock.advance(59 * time.Second)
	n.expireTxns(ctx)
	m, err := n.describeTxn(ctx, "tx")
	require.NoError(t, err)
	assert.Equal(t, txn.Ongoing, m.State, "not past its timeout yet")

	clock.advance(2 * time.Second)
	n.expireTxns(ctx)
	m = awaitTxnState(t, n, "tx", txn.CompleteAbort)
	assert.Equal(t, epoch+1, m.Epoch)
	assert.Equal(t, []txnlog.Marker{{ProducerID: pid, Epoch: epoch + 1}}, markersIn(t, n, "t", 0))
	assert.ErrorIs(t, endTxnV1(ctx, n, "tx", pid, epoch, true), kerr.ProducerFenced)
}

// TestTxnCoordinatorFinishesAfterRestart: a transaction whose commit was
// decided but whose markers were not written when the node stopped gets
// them when it opens again.
func TestTxnCoordinatorFinishesAfterRestart(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n := txnNode(t, fs, clock)
	ctx := t.Context()
	pid, epoch, err := n.initTxnProducer(ctx, "tx", time.Minute, -1, -1)
	require.NoError(t, err)
	_, err = n.addPartitionsToTxn(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	require.NoError(t, err)
	produceTxnBatch(t, n, pid, epoch, 0)
	m, err := n.describeTxn(ctx, "tx")
	require.NoError(t, err)
	m.State = txn.PrepareCommit // the decision, written as the coordinator writes it, markers not yet
	b, err := batch.Build(batch.BuildOptions{BaseTimestamp: clock.now().UnixMilli()},
		batch.Record{Key: txn.MarshalKey("tx"), Value: txn.MarshalValue(m)})
	require.NoError(t, err)
	require.NoError(t, n.writeCoordinatorRecords(ctx, n.txnStateTopic(), "tx", b))
	require.NoError(t, n.Close())

	n = txnNode(t, fs, clock)
	awaitTxnState(t, n, "tx", txn.CompleteCommit)
	assert.Equal(t, []txnlog.Marker{{ProducerID: pid, Epoch: epoch, Commit: true}}, markersIn(t, n, "t", 0))
}

// TestTxnOffsetsCountOnceCommitted: offsets committed in a transaction
// count when its marker commits them, not before, never when it aborts,
// and the same after a restart reads them back from __consumer_offsets.
func TestTxnOffsetsCountOnceCommitted(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n := txnNode(t, fs, clock)
	ctx := t.Context()
	run := func(id string, offset int64, commit bool) {
		pid, epoch, err := n.initTxnProducer(ctx, id, time.Minute, -1, -1)
		require.NoError(t, err)
		require.NoError(t, n.addOffsetsToTxn(ctx, id, pid, epoch, "g"))
		require.NoError(t, n.commitTxnOffsets(ctx, "g", pid, epoch, groupIdentity{Generation: -1},
			map[TopicPartition]CommittedOffset{{"t", 0}: {Offset: offset, LeaderEpoch: -1}}, kafka.Txn{ID: id}))
		assert.True(t, n.unstableOffset("g", TopicPartition{"t", 0}), "pending until the transaction ends")
		assert.NotEqual(t, offset, n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset)
		require.NoError(t, endTxnV1(ctx, n, id, pid, epoch, commit))
		awaitTxnState(t, n, id, map[bool]txn.State{true: txn.CompleteCommit, false: txn.CompleteAbort}[commit])
		assert.False(t, n.unstableOffset("g", TopicPartition{"t", 0}))
	}
	run("a", 5, true)
	assert.Equal(t, int64(5), n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset)
	run("b", 9, false)
	assert.Equal(t, int64(5), n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset, "an aborted commit does not count")
	run("a", 7, true)
	require.NoError(t, n.Close())

	n = txnNode(t, fs, clock)
	assert.Equal(t, int64(7), n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset, "read back from the log")
	assert.False(t, n.unstableOffset("g", TopicPartition{"t", 0}))
}

// TestTxnOffsetsPendingAfterRestart: offsets of a transaction still open
// when the node stopped stay pending when it opens again.
func TestTxnOffsetsPendingAfterRestart(t *testing.T) {
	fs, clock := fsx.NewMem(), new(fakeClock).set(1e12)
	n := txnNode(t, fs, clock)
	ctx := context.Background()
	pid, epoch, err := n.initTxnProducer(ctx, "a", time.Minute, -1, -1)
	require.NoError(t, err)
	require.NoError(t, n.addOffsetsToTxn(ctx, "a", pid, epoch, "g"))
	require.NoError(t, n.commitTxnOffsets(ctx, "g", pid, epoch, groupIdentity{Generation: -1},
		map[TopicPartition]CommittedOffset{{"t", 0}: {Offset: 3, LeaderEpoch: -1}}, kafka.Txn{ID: "a"}))
	require.NoError(t, n.Close())

	n = txnNode(t, fs, clock)
	assert.True(t, n.unstableOffset("g", TopicPartition{"t", 0}))
	require.NoError(t, endTxnV1(ctx, n, "a", pid, epoch, true))
	awaitTxnState(t, n, "a", txn.CompleteCommit)
	assert.Equal(t, int64(3), n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset)
}

// openTxnOnT0 begins a transaction of transactional ID "tx" with one
// batch in t-0, and returns its producer ID and epoch.
func openTxnOnT0(t *testing.T, n *Node) (int64, int16) {
	t.Helper()
	pid, epoch, err := n.initTxnProducer(t.Context(), "tx", time.Minute, -1, -1)
	require.NoError(t, err)
	_, err = n.addPartitionsToTxn(t.Context(), "tx", pid, epoch, []TopicPartition{{"t", 0}})
	require.NoError(t, err)
	produceTxnBatch(t, n, pid, epoch, 0)
	return pid, epoch
}

// endTxnV1 ends a transaction at transaction version 1, as a client that
// keeps its epoch does.
func endTxnV1(ctx context.Context, n *Node, id string, pid int64, epoch int16, commit bool) error {
	_, _, err := n.endTxn(ctx, id, pid, epoch, commit, txn.V1)
	return err
}

// TestTxnCoordinatorStopsWhenFenced: a partition that refuses the
// coordinator's marker as from a fenced coordinator (a newer one wrote
// the producer's marker there, at coordinator epoch 5) makes it stop
// writing that transaction's markers, as a coordinator that lost its
// partition does, rather than retry forever; the transaction is left in
// PrepareCommit for the newer coordinator.
func TestTxnCoordinatorStopsWhenFenced(t *testing.T) {
	n := txnNode(t, fsx.NewMem(), new(fakeClock).set(1e12))
	ctx := t.Context()
	pid, epoch := openTxnOnT0(t, n)
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: pid, Epoch: epoch, Commit: true, CoordinatorEpoch: 5}))

	tp, err := n.ownTxn(ctx, "tx")
	require.NoError(t, err)
	require.Less(t, tp.epoch, int32(5))
	require.NoError(t, endTxnV1(ctx, n, "tx", pid, epoch, true))
	wait, cancel := context.WithTimeout(ctx, 30*time.Second) // bounds a failure: the writer would never end
	defer cancel()
	n.awaitTxnEnd(wait, tp, "tx")
	require.NoError(t, wait.Err(), "the markers' writer ended")
	m, err := n.describeTxn(ctx, "tx")
	require.NoError(t, err)
	assert.Equal(t, txn.PrepareCommit, m.State)
	assert.Len(t, markersIn(t, n, "t", 0), 1, "only the newer coordinator's marker")
	assert.ErrorIs(t, errorForCode(kerr.TransactionCoordinatorFenced.Code, "marker"), ErrTxnCoordinatorFenced,
		"a partition on another node refuses it so too")
}
