package creek

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// replicaBatch builds a batch of n records at base offset, stamped with
// a leader epoch, as a leader's log holds it.
func replicaBatch(t *testing.T, base int64, n int, epoch int32) []byte {
	t.Helper()
	b := testBatch(t, int(base), n, 8, 1000)
	batch.SetBaseOffset(b, base)
	batch.SetPartitionLeaderEpoch(b, epoch)
	return b
}

// testFollower opens a partition following node 2 at epoch 3 whose log
// holds batches of the given sizes, the first ones of epoch 0 and the
// rest, from offset epoch1At, of epoch 1.
func testFollower(t *testing.T, sizes []int, epoch1At int64) *partition {
	t.Helper()
	p, err := openPartition(fsx.NewMem(), "/n", "t", 0, topicConfig{log: LogConfig{}.withDefaults()},
		LogConfig{Logger: discardLogger()}, time.Now)
	require.NoError(t, err)
	t.Cleanup(func() { p.close() })
	require.True(t, p.follow(roleFollower, 2, 3))
	require.NoError(t, p.truncateToLeader(3, -1, -1)) // an empty log: nothing to cut
	var batches []byte
	offset := int64(0)
	for _, n := range sizes {
		epoch := int32(0)
		if offset >= epoch1At {
			epoch = 1
		}
		batches = append(batches, replicaBatch(t, offset, n, epoch)...)
		offset += int64(n)
	}
	require.NoError(t, p.appendReplica(batches, 0, 2, 3))
	return p
}

// TestLeaderRefusesDivergedReplicaFetch: a follower's fetch counts as its
// log end only if the leader's log holds the follower's last epoch up to
// the fetch offset (KIP-595); otherwise the leader names where they
// diverge. A leader that counted such fetches took followers with other
// records at the same offsets into the ISR.
func TestLeaderRefusesDivergedReplicaFetch(t *testing.T) {
	p := testFollower(t, []int{5, 5, 5, 5}, 10) // epoch 0 at 0, epoch 1 at 10; ends at 20
	led, err := p.becomeLeader(2, leaderState{leader: 2, epoch: 4, replicas: []int32{2, 3}, isr: []int32{2}}, time.Minute)
	require.NoError(t, err)
	require.True(t, led)
	for _, tc := range []struct {
		name      string
		lastEpoch int32
		offset    int64
		diverged  bool
		epoch     int32
		end       int64
	}{
		{"in step", 4, 20, false, -1, -1},
		{"behind in an old epoch", 0, 7, false, -1, -1},
		{"past the end of its epoch here", 0, 12, true, 0, 10},
		{"an epoch the leader never had", 2, 15, true, 1, 20},
		{"past the leader's log end", 4, 25, true, 4, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diverged, epoch, end, err := p.divergence(tc.lastEpoch, tc.offset)
			require.NoError(t, err)
			assert.Equal(t, tc.diverged, diverged)
			if tc.diverged {
				assert.Equal(t, tc.epoch, epoch)
				assert.Equal(t, tc.end, end)
			}
		})
	}
	_, _, _, err = p.divergence(-1, 25)
	require.ErrorIs(t, err, ErrOffsetOutOfRange, "without an epoch, past the end is out of range")
}

// TestFollowerTruncatesWhereTheLeaderSaysItDiverges: told that its epoch
// 1 ends at 12 on the leader, a follower cuts its log at the batch
// boundary at or below 12 and forgets its epoch 1, which began at 10.
func TestFollowerTruncatesWhereTheLeaderSaysItDiverges(t *testing.T) {
	p := testFollower(t, []int{5, 5, 4, 6}, 10) // batches at 0, 5, 10, 14; epoch 1 from 10
	require.NoError(t, p.truncateDiverged(2, 3, 0, 12))
	assert.Equal(t, int64(10), p.log.EndOffset(), "epoch 0 ends at 10 here: the lesser end")
	assert.Equal(t, int32(0), p.epochs.latest())

	require.NoError(t, p.truncateDiverged(2, 3, 0, 7))
	assert.Equal(t, int64(5), p.log.EndOffset(), "cut on the boundary of the batch holding offset 7")
}

// TestFollowerThatCannotContinueCopiesAgain: a leader's batch that
// begins inside the follower's last batch means their logs hold different
// batches at the same offsets; the follower copies the leader's log
// again rather than fail the same way at every fetch. One looped on that
// error thousands of times a second and never rejoined the ISR.
func TestFollowerThatCannotContinueCopiesAgain(t *testing.T) {
	p := testFollower(t, []int{5, 7}, 100) // ends at 12
	err := p.appendReplica(replicaBatch(t, 10, 5, 0), 0, 2, 3)
	require.ErrorIs(t, err, errReplicaMisaligned)
	require.NoError(t, p.refetchAll(0, 2, 3))
	assert.Equal(t, int64(0), p.log.EndOffset())
	assert.Equal(t, int32(-1), p.epochs.latest())
	require.NoError(t, p.appendReplica(replicaBatch(t, 0, 15, 0), 15, 2, 3))
	assert.Equal(t, int64(15), p.log.EndOffset(), "it copies the leader's log from its start")
}
