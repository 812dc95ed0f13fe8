package creek

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func received(ch <-chan error) (error, bool) {
	select {
	case err := <-ch:
		return err, true
	default:
		return nil, false
	}
}

// TestReplicaTrackerHighWatermark: the high watermark is the least end
// offset over the ISR, and an acks=all write completes when it passes.
func TestReplicaTrackerHighWatermark(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newReplicaTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, 10*time.Second, now)
	require.NoError(t, tr.checkAppend())
	done := tr.appended(5)
	assert.Equal(t, int64(0), tr.highWatermark(), "followers have nothing yet")
	moved, _ := tr.fetched(2, 5, now)
	assert.False(t, moved, "follower 3 holds it back")
	_, ok := received(done)
	assert.False(t, ok)
	moved, _ = tr.fetched(3, 3, now)
	assert.True(t, moved)
	assert.Equal(t, int64(3), tr.highWatermark())
	tr.fetched(3, 5, now)
	assert.Equal(t, int64(5), tr.highWatermark())
	err, ok := received(done)
	require.True(t, ok, "acknowledged once every in-sync replica has it")
	require.NoError(t, err)

	tr.fetched(3, 2, now) // a follower that truncated reports less
	assert.Equal(t, int64(5), tr.highWatermark(), "the high watermark never goes back")
}

// A retried batch that every in-sync replica has already is acknowledged
// at once: nothing new is appended, so the high watermark would never
// move to release it. (TestClusterChaos found this: an idempotent
// producer retried such a batch at a new leader forever.)
func TestReplicaTrackerRetryOfReplicatedBatch(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newReplicaTracker(1, 0, []int32{1, 2}, []int32{1, 2}, 0, 0, 2, 10*time.Second, now)
	tr.appended(5)
	tr.fetched(2, 5, now)
	require.Equal(t, int64(5), tr.highWatermark())
	err, ok := received(tr.appended(5))
	require.True(t, ok, "answered without waiting")
	require.NoError(t, err)
}

// TestReplicaTrackerShrinkAndExpand: a follower that does not catch up
// within lagMax leaves the ISR, which lets writes complete without it; it
// returns once it reaches the high watermark.
func TestReplicaTrackerShrinkAndExpand(t *testing.T) {
	now := time.Unix(1000, 0)
	lag := 10 * time.Second
	tr := newReplicaTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, lag, now)
	done := tr.appended(10)
	for i := range 5 { // follower 2 keeps up; follower 3 is silent
		now = now.Add(3 * time.Second)
		tr.fetched(2, 10, now)
		if i < 3 {
			assert.Empty(t, tr.tick(now))
		}
	}
	assert.Equal(t, []int32{3}, tr.tick(now), "silent for more than lagMax")
	_, ok := received(done)
	assert.False(t, ok)
	tr.setISR([]int32{1, 2}) // the controller committed the shrink
	err, ok := received(done)
	require.True(t, ok, "the write no longer waits for the dropped follower")
	require.NoError(t, err)

	_, expand := tr.fetched(3, 4, now)
	assert.False(t, expand, "still behind the high watermark")
	_, expand = tr.fetched(3, 10, now)
	assert.True(t, expand, "caught up: ask the controller to add it back")
}

// TestReplicaTrackerSteadyFollowerStaysInSync: under constant appends a
// follower never has the leader's very latest, yet it stays in sync as
// long as each fetch covers what the leader had at the one before.
func TestReplicaTrackerSteadyFollowerStaysInSync(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newReplicaTracker(1, 0, []int32{1, 2}, []int32{1, 2}, 0, 0, 1, 10*time.Second, now)
	end := int64(0)
	for range 100 {
		end += 10
		now = now.Add(time.Second)
		fetchedUpTo := tr.leaderEnd // what the leader had before this append
		tr.appended(end)
		tr.fetched(2, fetchedUpTo, now)
		require.Empty(t, tr.tick(now))
	}
}

func TestReplicaTrackerMinISRAndLostLeadership(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newReplicaTracker(1, 4, []int32{1, 2, 3}, []int32{1}, 0, 7, 2, 10*time.Second, now)
	require.ErrorIs(t, tr.checkAppend(), ErrNotEnoughReplicas)
	assert.Equal(t, int64(7), tr.highWatermark(), "a leader alone in its ISR has all it has")
	assert.Equal(t, int16(19), KafkaCode(tr.checkAppend()))

	tr.setISR([]int32{1, 2})
	require.NoError(t, tr.checkAppend())
	done := tr.appended(9)
	tr.abandon() // deposed before follower 2 had it
	err, ok := received(done)
	require.True(t, ok)
	require.ErrorIs(t, err, ErrNotLeader, "never acknowledged")
}

// TestReplicaTrackerNotEnoughAfterAppend: a write that waited while its
// ISR shrank below min.insync.replicas completes with Kafka's
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, not as a success.
func TestReplicaTrackerNotEnoughAfterAppend(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newReplicaTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, 10*time.Second, now)
	tr.fetched(2, 0, now)
	tr.fetched(3, 0, now)
	done := tr.appended(5)
	tr.fetched(2, 5, now)
	_, ok := received(done)
	require.False(t, ok, "follower 3 is in sync and lacks the write")
	tr.setISR([]int32{1})
	err, ok := received(done)
	require.True(t, ok)
	require.ErrorIs(t, err, ErrNotEnoughReplicasAfterAppend)
	assert.Equal(t, int16(20), KafkaCode(err))
}
