// Retention (cleanup.policy=delete) and DeleteRecordsBefore: the log start
// offset moves up.

package creek

import (
	"context"
	"errors"
	"fmt"
)

// DeleteRecordsBefore moves the log start offset up to offset, as Kafka's
// DeleteRecords does: reads below it give ErrOffsetOutOfRange, and segments
// that hold only records below it are deleted. Moving it down is a no-op; an
// offset past the log end gives ErrOffsetOutOfRange.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	unlock, err := l.lockSegments()
	if err != nil {
		return err
	}
	defer unlock()
	if end := l.endOffset.Load(); offset > end {
		return fmt.Errorf("%w: delete before %d, past the end %d", ErrOffsetOutOfRange, offset, end)
	}
	if offset <= l.startOffset.Load() {
		return nil
	}
	l.startOffset.Store(offset)
	n := 0
	for n < len(l.segments) && l.segmentEndLocked(n) <= offset {
		n++
	}
	if n == 0 {
		return l.writeCheckpointLocked()
	}
	return l.deleteOldestLocked(n)
}

// EnforceRetention deletes the oldest segments that Retention and
// RetentionBytes no longer keep, and returns how many it deleted. The
// background loop calls it every CheckInterval; it does nothing under
// CleanupCompact. As in Kafka, a segment goes by time when its newest record
// is older than Retention (the active segment too, after a roll), and by size
// while the log without it is still at or over RetentionBytes.
func (l *Log) EnforceRetention() (int, error) {
	if !l.cfg.Cleanup.deletes() || l.cfg.Retention <= 0 && l.cfg.RetentionBytes <= 0 {
		return 0, nil
	}
	unlock, err := l.lockSegments()
	if err != nil {
		return 0, err
	}
	defer unlock()
	now := l.now().UnixMilli()
	var total int64
	for _, s := range l.segments {
		total += s.size.Load()
	}
	n := 0
	for _, s := range l.segments {
		size := s.size.Load()
		if size == 0 {
			break
		}
		newest := s.maxTimestamp.Load()
		expired := l.cfg.Retention > 0 && newest >= 0 && now-newest > l.cfg.Retention.Milliseconds()
		tooBig := l.cfg.RetentionBytes > 0 && s != l.active && total-size >= l.cfg.RetentionBytes
		if !expired && !tooBig {
			break
		}
		total -= size
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.deleteOldestLocked(n)
}

// housekeep applies retention and compaction from the background loop.
func (l *Log) housekeep() {
	if n, err := l.EnforceRetention(); err != nil && !errors.Is(err, ErrClosed) {
		l.log.Error("retention", "err", err)
	} else if n > 0 {
		l.log.Info("retention deleted segments", "count", n, "log_start_offset", l.StartOffset())
	}
	if st, err := l.Compact(); err != nil && !errors.Is(err, ErrClosed) {
		l.log.Error("compaction", "err", err)
	} else if st.Segments > 0 {
		l.log.Info("compacted", "segments", st.Segments, "records_removed", st.RecordsRemoved,
			"bytes_before", st.BytesBefore, "bytes_after", st.BytesAfter)
	}
}

// segmentEndLocked returns the offset after segment i's last record.
func (l *Log) segmentEndLocked(i int) int64 {
	if i+1 < len(l.segments) {
		return l.segments[i+1].base
	}
	return l.segments[i].next.Load()
}

// deleteOldestLocked deletes the n oldest segments and advances the log
// start offset past them. Deleting the active segment rolls a new one first,
// so the log always has a segment to append to. The checkpoint is written
// before any file goes, so a crash in between leaves files that recovery
// ignores rather than a start offset that points at nothing.
func (l *Log) deleteOldestLocked(n int) error {
	if n >= len(l.segments) {
		if l.active.size.Load() > 0 {
			if err := l.rollLocked(); err != nil {
				return err
			}
		}
		n = len(l.segments) - 1
	}
	if n == 0 {
		return l.writeCheckpointLocked()
	}
	l.segsMu.Lock()
	victims := l.segments[:n]
	l.segments = append([]*segment(nil), l.segments[n:]...)
	l.segsMu.Unlock()
	l.startOffset.Store(max(l.startOffset.Load(), l.segments[0].base))
	if err := l.writeCheckpointLocked(); err != nil {
		return errors.Join(err, closeAll(victims))
	}
	var err error
	for _, s := range victims {
		err = errors.Join(err, s.remove(l.fs))
	}
	if err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		return fmt.Errorf("delete segments: %w", err)
	}
	return nil
}

func closeAll(segments []*segment) error {
	var err error
	for _, s := range segments {
		err = errors.Join(err, s.close())
	}
	return err
}

// DeleteRecords moves a partition's log start offset up to before (Kafka's
// DeleteRecords; -1 means the high watermark) and returns the new log
// start offset. An offset past the high watermark gives
// ErrOffsetOutOfRange. In a cluster only the partition's leader takes it
// (ErrNotLeader elsewhere); its followers follow the new start offset.
func (n *Node) DeleteRecords(ctx context.Context, topic string, partition int32, before int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	p, err := n.partition(topic, partition)
	if err != nil {
		return -1, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.checkLeaderLocked(-1); err != nil {
		return -1, err
	}
	hw := p.highWatermarkLocked()
	if before == -1 {
		before = hw
	}
	if before > hw {
		return -1, fmt.Errorf("%w: delete records of %s-%d before %d, past the high watermark %d",
			ErrOffsetOutOfRange, topic, partition, before, hw)
	}
	if err := p.log.DeleteRecordsBefore(before); err != nil {
		return -1, fmt.Errorf("delete records of %s-%d: %w", topic, partition, err)
	}
	return p.log.StartOffset(), nil
}
