// Syncing a rolled segment in the background, and moving the recovery point
// past it.

package creek

import "slices"

// flushInBackgroundLocked syncs a segment that was just rolled, away from
// the append path, then moves the recovery point to base, the first offset
// after it. Flushes may overlap, but each moves the recovery point only
// after the one before it has: the recovery point must never pass a segment
// that is not yet synced.
func (l *Log) flushInBackgroundLocked(old *segment, base int64) {
	previous, done := l.lastFlush, make(chan struct{})
	l.lastFlush = done
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(done)
		err := l.syncSealed(old)
		if previous != nil {
			<-previous
		}
		l.appendMu.Lock()
		defer l.appendMu.Unlock()
		if err != nil {
			l.failLocked(err)
			return
		}
		if l.failed != nil || base > l.endOffset.Load() || base <= l.recoveryPoint {
			return // truncated or failed meanwhile; nothing to record
		}
		l.recoveryPoint = base
		l.group.markDurable(base)
		if err := l.writeCheckpointLocked(); err != nil {
			l.failLocked(err)
		}
	}()
}

// syncSealed syncs a sealed segment unless truncation or deletion removed
// it first. Holding segsMu shared keeps its files open meanwhile.
func (l *Log) syncSealed(s *segment) error {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if !slices.Contains(l.segments, s) {
		return nil
	}
	if err := s.sync(true); err != nil {
		return err
	}
	l.stats.syncs.Add(1)
	return nil
}
