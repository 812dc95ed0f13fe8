// Truncate: removing a log's tail, as a follower does where it diverged.

package creek

import (
	"errors"
	"fmt"
)

// Truncate removes every batch that holds an offset at or above offset, as a
// follower does when its log has diverged from its leader's (KIP-101), and
// returns the new log end offset: the base offset of the first batch
// removed, which is offset itself when offset falls on a batch boundary.
// Truncating at or past the end does nothing; below the log start offset it
// gives ErrOffsetOutOfRange. Readers wait while it runs.
func (l *Log) Truncate(offset int64) (int64, error) {
	unlock, err := l.lockSegments()
	if err != nil {
		return -1, err
	}
	defer unlock()
	end := l.endOffset.Load()
	if offset >= end {
		return end, nil
	}
	if offset < l.startOffset.Load() {
		return -1, fmt.Errorf("%w: truncate to %d, below the start %d", ErrOffsetOutOfRange, offset, l.startOffset.Load())
	}
	l.segsMu.Lock()
	newEnd, err := l.truncateSegmentsLocked(offset)
	l.segsMu.Unlock()
	if err != nil {
		return -1, l.failLocked(err)
	}
	l.endOffset.Store(newEnd)
	l.recoveryPoint = min(l.recoveryPoint, newEnd)
	l.startOffset.Store(min(l.startOffset.Load(), newEnd))
	l.group.setDurable(newEnd) // the cut segment was synced below
	if err := l.writeCheckpointLocked(); err != nil {
		return -1, l.failLocked(err)
	}
	return newEnd, nil
}

// truncateSegmentsLocked removes the segments above offset and cuts the one
// that holds it, which becomes the active segment.
func (l *Log) truncateSegmentsLocked(offset int64) (int64, error) {
	i := l.segmentIndexRLocked(offset)
	s := l.segments[i]
	var err error
	for _, v := range l.segments[i+1:] {
		err = errors.Join(err, v.remove(l.fs))
	}
	l.segments = l.segments[:i+1]
	l.active = s
	if err != nil {
		return 0, err
	}
	pos, h, found, err := s.find(offset)
	if err != nil {
		return 0, err
	}
	if found {
		if err := s.truncateAt(pos, h.BaseOffset); err != nil {
			return 0, err
		}
	}
	if err := s.restoreState(s.size.Load()); err != nil {
		return 0, err
	}
	if err := s.sync(true); err != nil {
		return 0, err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return 0, err
	}
	return s.next.Load(), nil
}

// resetTo empties the log and starts it again at offset, for a follower
// whose log ends below its leader's log start (Kafka's
// truncateFullyAndStartAt): the records between are gone from the leader,
// so the follower cannot fetch them, and keeps none of its own. offset
// must be past the log's end.
func (l *Log) resetTo(offset int64) error {
	unlock, err := l.lockSegments()
	if err != nil {
		return err
	}
	defer unlock()
	if end := l.endOffset.Load(); offset <= end {
		return fmt.Errorf("reset the log to %d: it ends at %d", offset, end)
	}
	s, err := openSegment(l.fs, l.dir, offset, true)
	if err != nil {
		return l.failLocked(fmt.Errorf("reset the log to %d: %w", offset, err))
	}
	l.segsMu.Lock()
	victims := l.segments
	l.segments = []*segment{s}
	l.active = s
	l.segsMu.Unlock()
	l.startOffset.Store(offset)
	l.endOffset.Store(offset)
	l.recoveryPoint = offset
	l.group.setDurable(offset)
	if err := l.writeCheckpointLocked(); err != nil {
		return l.failLocked(errors.Join(err, closeAll(victims)))
	}
	for _, v := range victims {
		err = errors.Join(err, v.remove(l.fs))
	}
	if err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		return l.failLocked(fmt.Errorf("reset the log to %d: %w", offset, err))
	}
	l.log.Info("log reset to start at its leader's log start", "offset", offset)
	return nil
}

// lockSegments stops appends and the cleaner, for a change to the log's
// segments, once the log can still change; unlock lets them go on.
func (l *Log) lockSegments() (unlock func(), err error) {
	l.cleanMu.Lock()
	l.appendMu.Lock()
	unlock = func() {
		l.appendMu.Unlock()
		l.cleanMu.Unlock()
	}
	if err := l.appendableLocked(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// discard empties the log and starts it again at offset 0, for a
// partition this node is no longer a replica of (Kafka's StopReplica with
// delete): should it become one again, it copies its leader's log from
// the start, as a new replica does. Readers wait while it runs.
func (l *Log) discard() error {
	unlock, err := l.lockSegments()
	if err != nil {
		return err
	}
	defer unlock()
	l.segsMu.Lock()
	for _, v := range l.segments { // first: the new segment may take the first one's name
		err = errors.Join(err, v.remove(l.fs))
	}
	var s *segment
	if err == nil {
		s, err = openSegment(l.fs, l.dir, 0, true)
	}
	if err != nil {
		l.segsMu.Unlock()
		return l.failLocked(fmt.Errorf("discard the log: %w", err))
	}
	l.segments, l.active = []*segment{s}, s
	l.segsMu.Unlock()
	l.startOffset.Store(0)
	l.endOffset.Store(0)
	l.recoveryPoint = 0
	l.group.setDurable(0)
	if err := errors.Join(l.writeCheckpointLocked(), l.fs.SyncDir(l.dir)); err != nil {
		return l.failLocked(fmt.Errorf("discard the log: %w", err))
	}
	return nil
}
