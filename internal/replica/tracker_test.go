package replica

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
	tr := NewTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, 10*time.Second, now)
	require.NoError(t, tr.CheckAppend())
	done := tr.Appended(5)
	assert.Equal(t, int64(0), tr.HighWatermark(), "followers have nothing yet")
	moved, _ := tr.Fetched(2, 5, now)
	assert.False(t, moved, "follower 3 holds it back")
	_, ok := received(done)
	assert.False(t, ok)
	moved, _ = tr.Fetched(3, 3, now)
	assert.True(t, moved)
	assert.Equal(t, int64(3), tr.HighWatermark())
	tr.Fetched(3, 5, now)
	assert.Equal(t, int64(5), tr.HighWatermark())
	err, ok := received(done)
	require.True(t, ok, "acknowledged once every in-sync replica has it")
	require.NoError(t, err)

	tr.Fetched(3, 2, now) // a follower that truncated reports less
	assert.Equal(t, int64(5), tr.HighWatermark(), "the high watermark never goes back")
}

// A retried batch that every in-sync replica has already is acknowledged
// at once: nothing new is appended, so the high watermark would never
// move to release it. (TestClusterChaos found this: an idempotent
// producer retried such a batch at a new leader forever.)
func TestReplicaTrackerRetryOfReplicatedBatch(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker(1, 0, []int32{1, 2}, []int32{1, 2}, 0, 0, 2, 10*time.Second, now)
	tr.Appended(5)
	tr.Fetched(2, 5, now)
	require.Equal(t, int64(5), tr.HighWatermark())
	err, ok := received(tr.Appended(5))
	require.True(t, ok, "answered without waiting")
	require.NoError(t, err)
}

// TestReplicaTrackerShrinkAndExpand: a follower that does not catch up
// within lagMax leaves the ISR, which lets writes complete without it; it
// returns once it reaches the high watermark.
func TestReplicaTrackerShrinkAndExpand(t *testing.T) {
	now := time.Unix(1000, 0)
	lag := 10 * time.Second
	tr := NewTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, lag, now)
	done := tr.Appended(10)
	for i := range 5 { // follower 2 keeps up; follower 3 is silent
		now = now.Add(3 * time.Second)
		tr.Fetched(2, 10, now)
		if i < 3 {
			assert.Empty(t, tr.Tick(now))
		}
	}
	assert.Equal(t, []int32{3}, tr.Tick(now), "silent for more than lagMax")
	_, ok := received(done)
	assert.False(t, ok)
	tr.SetISR([]int32{1, 2}) // the controller committed the shrink
	err, ok := received(done)
	require.True(t, ok, "the write no longer waits for the dropped follower")
	require.NoError(t, err)

	_, expand := tr.Fetched(3, 4, now)
	assert.False(t, expand, "still behind the high watermark")
	_, expand = tr.Fetched(3, 10, now)
	assert.True(t, expand, "caught up: ask the controller to add it back")
}

// TestReplicaTrackerSteadyFollowerStaysInSync: under constant appends a
// follower never has the leader's very latest, yet it stays in sync as
// long as each fetch covers what the leader had at the one before.
func TestReplicaTrackerSteadyFollowerStaysInSync(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker(1, 0, []int32{1, 2}, []int32{1, 2}, 0, 0, 1, 10*time.Second, now)
	end := int64(0)
	for range 100 {
		end += 10
		now = now.Add(time.Second)
		fetchedUpTo := tr.leaderEnd // what the leader had before this append
		tr.Appended(end)
		tr.Fetched(2, fetchedUpTo, now)
		require.Empty(t, tr.Tick(now))
	}
}

func TestReplicaTrackerMinISRAndLostLeadership(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker(1, 4, []int32{1, 2, 3}, []int32{1}, 0, 7, 2, 10*time.Second, now)
	require.ErrorIs(t, tr.CheckAppend(), ErrNotEnoughReplicas)
	assert.Equal(t, int64(7), tr.HighWatermark(), "a leader alone in its ISR has all it has")

	tr.SetISR([]int32{1, 2})
	require.NoError(t, tr.CheckAppend())
	done := tr.Appended(9)
	tr.Abandon() // deposed before follower 2 had it
	err, ok := received(done)
	require.True(t, ok)
	require.ErrorIs(t, err, ErrNotLeader, "never acknowledged")
}

// TestReplicaTrackerNotEnoughAfterAppend: a write that waited while its
// ISR shrank below min.insync.replicas completes with Kafka's
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, not as a success.
func TestReplicaTrackerNotEnoughAfterAppend(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker(1, 0, []int32{1, 2, 3}, []int32{1, 2, 3}, 0, 0, 2, 10*time.Second, now)
	tr.Fetched(2, 0, now)
	tr.Fetched(3, 0, now)
	done := tr.Appended(5)
	tr.Fetched(2, 5, now)
	_, ok := received(done)
	require.False(t, ok, "follower 3 is in sync and lacks the write")
	tr.SetISR([]int32{1})
	err, ok := received(done)
	require.True(t, ok)
	require.ErrorIs(t, err, ErrNotEnoughReplicasAfterAppend)
}
