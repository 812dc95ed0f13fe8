// Package epochs holds a partition's leader epochs (KIP-101): the list of
// where each epoch's batches begin, the rules that grow and cut it, the
// answer to OffsetsForLeaderEpoch it gives, and the text checkpoint it is
// saved in. It does no I/O; the root package reads and writes the
// checkpoint file and rebuilds the list from the log.
package epochs

import (
	"fmt"
	"slices"
)

// Entry is where one leader epoch's batches begin in the log.
type Entry struct {
	Epoch       int32
	StartOffset int64 // the offset its first batch has or will have
}

// List is a partition's leader epochs, each with the offset its first
// batch has or will have, in increasing order of epoch and non-decreasing
// order of start offset: what a leader answers OffsetsForLeaderEpoch from,
// and what a follower finds its divergence point by. The zero value is an
// empty list. It is not safe for concurrent use.
type List struct {
	entries []Entry
}

// Entries returns a copy of the list, oldest epoch first.
func (l *List) Entries() []Entry { return slices.Clone(l.entries) }

// Latest returns the newest epoch, or -1 when there is none.
func (l *List) Latest() int32 {
	if len(l.entries) == 0 {
		return -1
	}
	return l.entries[len(l.entries)-1].Epoch
}

// Assign records that epoch begins at start, unless it is already the
// newest, and reports whether the list changed. An epoch older than the
// newest, or a start before the newest epoch's, is refused: batches never
// go back.
func (l *List) Assign(epoch int32, start int64) (changed bool, err error) {
	if n := len(l.entries); n > 0 {
		last := l.entries[n-1]
		if epoch == last.Epoch {
			return false, nil
		}
		if epoch < last.Epoch || start < last.StartOffset {
			return false, fmt.Errorf("leader epoch %d at %d after epoch %d at %d", epoch, start, last.Epoch, last.StartOffset)
		}
	}
	l.entries = append(l.entries, Entry{Epoch: epoch, StartOffset: start})
	return true, nil
}

// EndOffsetFor answers OffsetsForLeaderEpoch as Kafka does, given the
// log end offset: for the newest epoch, logEnd; for an older one, the
// largest epoch not above it and the start of the next epoch; for one
// older than every epoch, the epoch asked and the first epoch's start;
// (-1, -1) for an epoch newer than all, a negative one, or an empty list.
func (l *List) EndOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	n := len(l.entries)
	if epoch < 0 || n == 0 {
		return -1, -1
	}
	if epoch == l.entries[n-1].Epoch {
		return epoch, logEnd
	}
	higher := 0
	for higher < n && l.entries[higher].Epoch <= epoch {
		higher++
	}
	switch {
	case higher == n:
		return -1, -1
	case higher == 0:
		return epoch, l.entries[0].StartOffset
	}
	return l.entries[higher-1].Epoch, l.entries[higher].StartOffset
}

// TruncateFrom forgets the epochs that begin at or after end, after the
// log was truncated there, and reports whether the list changed.
func (l *List) TruncateFrom(end int64) (changed bool) {
	return l.cut(func(e Entry) bool { return e.StartOffset >= end })
}

// ForgetAfter forgets, after a follower's log was cut at end where it
// diverged from its leader's, the epochs that begin past end, and those
// that begin at end and are newer than keep, the leader's epoch that ends
// there: such an epoch holds nothing the leader has (a follower that led
// it wrote nothing in it), and naming it in a fetch would find the logs
// diverged again. With keep math.MaxInt32 it forgets only the epochs past
// end, as after a log shorter than its checkpoint. It reports whether the
// list changed.
func (l *List) ForgetAfter(end int64, keep int32) (changed bool) {
	return l.cut(func(e Entry) bool { return e.StartOffset > end || e.StartOffset == end && e.Epoch > keep })
}

// cut drops the newest entries while drop holds for them.
func (l *List) cut(drop func(Entry) bool) bool {
	n := len(l.entries)
	for n > 0 && drop(l.entries[n-1]) {
		n--
	}
	if n == len(l.entries) {
		return false
	}
	l.entries = l.entries[:n]
	return true
}
