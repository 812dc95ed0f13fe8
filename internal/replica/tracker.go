// Package replica holds a partition leader's pure view of its followers:
// their log end offsets, the high watermark, the acks=all writes waiting
// for it, and when followers fall out of the in-sync replicas or catch up
// again. It does no I/O; the root package steps it and acts on what it
// says.
package replica

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The errors a Tracker answers writes with; the root package exports them
// under the same names.
var (
	// ErrNotEnoughReplicas refuses an acks=all write, before it is
	// appended, while the ISR is smaller than min.insync.replicas.
	ErrNotEnoughReplicas = errors.New("creek: fewer in-sync replicas than min.insync.replicas")
	// ErrNotEnoughReplicasAfterAppend answers an acks=all write that was
	// appended while the ISR then shrank below min.insync.replicas.
	ErrNotEnoughReplicasAfterAppend = errors.New("creek: written, but to fewer in-sync replicas than min.insync.replicas")
	// ErrNotLeader answers a waiting write whose leader lost leadership.
	ErrNotLeader = errors.New("creek: not the leader for this partition")
)

// Tracker is a partition leader's view of its followers, as Kafka's
// leader keeps it (DESIGN.md decision 7): each follower's log end offset,
// learnt from the offsets it fetches from; the high watermark, the minimum
// log end offset over the in-sync replicas, below which consumers read and
// above which acks=all writes wait; and when followers fall out of sync or
// catch up. It is a plain struct stepped by fetches, appends and ticks of
// an injected clock, and says what to ask the controller; it does no I/O
// and is not safe for concurrent use.
type Tracker struct {
	self        int32
	leaderEpoch int32
	isr         []int32
	minISR      int
	lagMax      time.Duration // replica.lag.time.max.ms

	leaderEnd int64 // the leader's log end offset
	hw        int64
	followers map[int32]*followerProgress
	waiters   []hwWaiter
}

// followerProgress is what the leader knows of one follower.
type followerProgress struct {
	end            int64     // its log end offset: the offset it fetches from
	caughtUpAt     time.Time // the last time it had everything the leader had
	lastFetchAt    time.Time // when it last fetched
	lastFetchLeads int64     // the leader's end offset at that fetch
}

// hwWaiter is an acks=all write waiting for the high watermark to pass it.
type hwWaiter struct {
	end  int64      // the offset after the write's last record
	done chan error // nil once the high watermark passes (ErrNotEnoughReplicasAfterAppend if the ISR shrank below min.insync.replicas meanwhile); ErrNotLeader if leadership is lost first
}

// NewTracker starts tracking as the new leader of a partition at a
// leader epoch, with the replicas and ISR the controller committed. The
// high watermark starts at the leader's end offset only if the ISR is the
// leader alone; otherwise at start, until followers report.
func NewTracker(self, leaderEpoch int32, replicas, isr []int32, start, leaderEnd int64,
	minISR int, lagMax time.Duration, now time.Time) *Tracker {
	t := &Tracker{self: self, leaderEpoch: leaderEpoch, isr: slices.Clone(isr), minISR: max(minISR, 1),
		lagMax: lagMax, leaderEnd: leaderEnd, hw: start, followers: map[int32]*followerProgress{}}
	for _, r := range replicas {
		if r != self {
			t.followers[r] = &followerProgress{end: -1, caughtUpAt: now}
		}
	}
	t.advanceHW()
	return t
}

// CheckAppend refuses an acks=all write when the ISR is smaller than
// min.insync.replicas: Kafka's NOT_ENOUGH_REPLICAS, before anything is
// appended.
func (t *Tracker) CheckAppend() error {
	if len(t.isr) < t.minISR {
		return fmt.Errorf("%w: %d in sync of %d required", ErrNotEnoughReplicas, len(t.isr), t.minISR)
	}
	return nil
}

// Appended records the leader's new end offset after an append, and
// returns a channel that receives nil once the high watermark reaches it:
// when every in-sync replica has the write (acks=all).
func (t *Tracker) Appended(end int64) <-chan error {
	w := hwWaiter{end: end, done: make(chan error, 1)}
	if end <= t.hw {
		// Replicated already: an idempotent producer's retry of a batch
		// stored before. The high watermark may never move again to
		// release it.
		w.done <- nil
		return w.done
	}
	t.waiters = append(t.waiters, w)
	t.Grew(end)
	return w.done
}

// Grew records the leader's new end offset after an append that waits for
// no replica (acks=1), and returns whether the high watermark moved, as it
// does at once for a partition whose ISR is the leader alone. Appends that
// run concurrently may report their ends out of order; the largest counts.
func (t *Tracker) Grew(end int64) (hwMoved bool) {
	t.leaderEnd = max(t.leaderEnd, end)
	return t.advanceHW()
}

// Fetched records a follower's fetch from offset: it has everything
// before it. It returns whether the high watermark moved, and whether the
// follower, out of sync, has caught up to the high watermark and should be
// added to the ISR. A follower is caught up as of now if it has all the
// leader has, or as of its previous fetch if it has all the leader had
// then (Kafka's lastCaughtUpTime).
func (t *Tracker) Fetched(follower int32, offset int64, now time.Time) (hwMoved, expand bool) {
	f := t.followers[follower]
	if f == nil {
		return false, false
	}
	f.end = offset
	switch {
	case offset >= t.leaderEnd:
		f.caughtUpAt = now
	case offset >= f.lastFetchLeads && f.lastFetchAt.After(f.caughtUpAt):
		f.caughtUpAt = f.lastFetchAt
	}
	f.lastFetchAt, f.lastFetchLeads = now, t.leaderEnd
	hwMoved = t.advanceHW()
	return hwMoved, !slices.Contains(t.isr, follower) && offset >= t.hw
}

// Tick returns the in-sync followers that have not caught up within
// lagMax: the leader asks the controller to drop them from the ISR.
func (t *Tracker) Tick(now time.Time) (shrink []int32) {
	for _, r := range t.isr {
		if f := t.followers[r]; f != nil && now.Sub(f.caughtUpAt) > t.lagMax {
			shrink = append(shrink, r)
		}
	}
	return shrink
}

// SetISR applies an ISR the controller committed at the tracker's leader
// epoch, and returns whether the high watermark moved, as lagging members
// no longer hold it back.
func (t *Tracker) SetISR(isr []int32) (hwMoved bool) {
	t.isr = slices.Clone(isr)
	return t.advanceHW()
}

// SetMinISR applies a new min.insync.replicas (at least 1).
func (t *Tracker) SetMinISR(n int) { t.minISR = max(n, 1) }

// MinISR returns the min.insync.replicas acks=all writes need.
func (t *Tracker) MinISR() int { return t.minISR }

// InSync returns the in-sync replicas.
func (t *Tracker) InSync() []int32 { return slices.Clone(t.isr) }

// HighWatermark returns the offset consumers read below.
func (t *Tracker) HighWatermark() int64 { return t.hw }

// advanceHW moves the high watermark to the minimum end offset over the
// ISR (never back), releases the writes it passed, and returns whether it
// moved.
func (t *Tracker) advanceHW() bool {
	hw := t.leaderEnd
	for _, r := range t.isr {
		if f := t.followers[r]; f != nil {
			hw = min(hw, f.end)
		}
	}
	if hw <= t.hw {
		return false
	}
	t.hw = hw
	var result error
	if len(t.isr) < t.minISR { // the write is here, but not on as many replicas as promised
		result = fmt.Errorf("%w: %d in sync of %d required", ErrNotEnoughReplicasAfterAppend, len(t.isr), t.minISR)
	}
	kept := t.waiters[:0]
	for _, w := range t.waiters {
		if w.end <= hw {
			w.done <- result
		} else {
			kept = append(kept, w)
		}
	}
	t.waiters = kept
	return true
}

// Abandon answers every waiting write with ErrNotLeader: the leader lost
// its leadership before the write was replicated, so it must not be
// acknowledged; the client retries at the new leader.
func (t *Tracker) Abandon() {
	for _, w := range t.waiters {
		w.done <- ErrNotLeader
	}
	t.waiters = nil
}
