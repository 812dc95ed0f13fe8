package txn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestVersion2BumpsTheEpochAtEveryEnd: at transaction version 2 each end
// writes its markers at the next epoch, which the producer goes on with;
// a retry at the epoch before is answered as the end it repeats, and
// nothing else at that epoch is served.
func TestVersion2BumpsTheEpochAtEveryEnd(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0))
	pid, epoch, err := h.endV2("x", 1000, 0, true)
	require.NoError(t, err)
	assert.Equal(t, [2]any{int64(1000), int16(1)}, [2]any{pid, epoch}, "the producer goes on at the next epoch")
	m := h.is("x", 1000, 1, PrepareCommit)
	assert.Equal(t, int16(0), m.LastEpoch)
	assert.Equal(t, []Partition{a0}, m.SortedPartitions(), "the markers, at epoch 1, go to a0")

	assert.ErrorIs(t, h.end2("x", 1000, 0, true), kerr.ConcurrentTransactions, "a retry while the markers are written")
	assert.ErrorIs(t, h.end2("x", 1000, 0, false), kerr.ProducerFenced, "the other end, at the old epoch")
	assert.ErrorIs(t, h.add("x", 1000, 1, b0), kerr.ConcurrentTransactions, "the next transaction waits for the markers")
	for _, commit := range []bool{true, false} {
		assert.ErrorIs(t, h.end2("x", 1000, 1, commit), kerr.ConcurrentTransactions,
			"the next transaction's end (commit %v) waits for the markers too", commit)
	}
	assert.ErrorIs(t, h.add("x", 1000, 0, b0), kerr.ProducerFenced, "a late add of the transaction ended")

	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 1, CompleteCommit)
	pid, epoch, err = h.endV2("x", 1000, 0, true)
	require.NoError(t, err, "a retry of the completed commit")
	assert.Equal(t, [2]any{int64(1000), int16(1)}, [2]any{pid, epoch})
	assert.ErrorIs(t, h.end2("x", 1000, 0, false), kerr.ProducerFenced)

	require.NoError(t, h.add("x", 1000, 1, b0), "the next transaction, at the new epoch")
	assert.ErrorIs(t, h.end2("x", 1000, 0, true), kerr.ProducerFenced, "a retry once the next transaction began")
	pid, epoch, err = h.endV2("x", 1000, 1, false)
	require.NoError(t, err)
	assert.Equal(t, [2]any{int64(1000), int16(2)}, [2]any{pid, epoch})
	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 2, CompleteAbort)
}

// TestVersion2AbortsWithNothingOngoing: an abort with no transaction
// ongoing bumps the epoch and is complete at once; a commit is refused.
func TestVersion2AbortsWithNothingOngoing(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	assert.ErrorIs(t, h.end2("x", 1000, 0, true), kerr.InvalidTxnState, "nothing to commit")
	pid, epoch, err := h.endV2("x", 1000, 0, false)
	require.NoError(t, err)
	assert.Equal(t, [2]any{int64(1000), int16(1)}, [2]any{pid, epoch})
	m := h.is("x", 1000, 1, CompleteAbort)
	assert.Empty(t, m.Partitions)
	assert.Empty(t, h.c.InDoubt(), "no markers to write")
	_, _, err = h.endV2("x", 1000, 0, false)
	assert.NoError(t, err, "a retry")
	_, epoch, err = h.endV2("x", 1000, 1, false)
	require.NoError(t, err, "again, at the new epoch")
	assert.Equal(t, int16(2), epoch)
}

// TestVersion2RotatesAnExhaustedEpoch: an end whose bump leaves the epoch
// exhausted writes its markers at that epoch under the old producer ID
// and gives the producer a new ID at epoch 0 — in the record, so that a
// new coordinator completing the end rotates too; a retry of the end, or
// an InitProducerID by the old ID and epoch, finds the new one.
func TestVersion2RotatesAnExhaustedEpoch(t *testing.T) {
	h := newHarness(t)
	last := int16(math.MaxInt16 - 2)
	h.c.Load(Metadata{TransactionalID: "x", ProducerID: 7, PrevProducerID: NoProducerID, NextProducerID: NoProducerID,
		Epoch: last, LastEpoch: NoEpoch, Timeout: DefaultMaxTimeout, State: Empty, LastUpdate: h.now})
	require.NoError(t, h.add("x", 7, last, a0))
	pid, epoch, err := h.endV2("x", 7, last, true)
	require.NoError(t, err)
	assert.Equal(t, [2]any{int64(1000), int16(0)}, [2]any{pid, epoch}, "a new producer ID")
	m := h.is("x", 7, last+1, PrepareCommit)
	assert.Equal(t, int64(1000), m.NextProducerID)

	// A new coordinator reads the record and completes the end.
	v, err := Unmarshal(MarshalKey("x"), MarshalValue(m))
	require.NoError(t, err)
	assert.Equal(t, int64(1000), v.NextProducerID, "kept in the record")
	h2 := newHarness(t)
	v.LastEpoch = NoEpoch // not in the record
	h2.c.Load(v)
	require.Len(t, h2.c.InDoubt(), 1)
	require.NoError(t, h2.markers("x"))
	m = h2.is("x", 1000, 0, CompleteCommit)
	assert.Equal(t, int64(7), m.PrevProducerID)

	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 0, CompleteCommit)
	pid, epoch, err = h.endV2("x", 7, last, true)
	require.NoError(t, err, "a retry by the old ID")
	assert.Equal(t, [2]any{int64(1000), int16(0)}, [2]any{pid, epoch})
	require.NoError(t, h.init("x", 7, last), "the old ID recovers (KIP-360)")
	h.is("x", 1000, 0, Empty)
	assert.ErrorIs(t, h.init("x", 7, last-1), kerr.ProducerFenced, "an older epoch of it does not")
}

// TestVersion2DoesNotTakeAFenceForARetry: a timeout's abort bumps the
// epoch too, but the producer it fenced did not ask for it, so its end
// at the old epoch stays fenced.
func TestVersion2DoesNotTakeAFenceForARetry(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0))
	h.after(2 * DefaultMaxTimeout)
	for _, tr := range h.c.Expire(h.now) {
		require.NoError(t, h.write(tr, nil))
	}
	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 1, CompleteAbort)
	assert.ErrorIs(t, h.end2("x", 1000, 0, false), kerr.ProducerFenced)
	assert.ErrorIs(t, h.end2("x", 1000, 0, true), kerr.ProducerFenced)
}

func (h *harness) end2(id string, pid int64, epoch int16, commit bool) error {
	h.t.Helper()
	_, _, err := h.endV2(id, pid, epoch, commit)
	return err
}
