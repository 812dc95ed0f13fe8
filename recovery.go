// Recovery: opening a log after a crash, validating and cutting its tail.

package creek

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/creekmq/creek/internal/framefile"
)

// recoveryChunk is how much of a segment recovery reads at a time.
const recoveryChunk = 1 << 20

// recover opens the segments in l.dir and brings them to a consistent state.
//
// Everything below the checkpoint's recovery point was synced and validated
// before, so those segments only need their indexes checked. From the
// recovery point on, every batch is validated, and the first bad one marks
// a torn tail: it is cut off, with every segment after it. A bad batch below
// the recovery point is corruption, reported and never skipped.
func (l *Log) recover() error {
	if err := l.fs.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	// Without a checkpoint nothing says what was flushed: every sealed
	// segment is validated and corruption in one is an error, not a tail
	// to cut. A new log writes its checkpoint at once, so a missing one
	// means a lost one.
	cp, err := readCheckpoint(l.fs, l.dir)
	known := err == nil
	if err != nil && !errors.Is(err, errNoCheckpoint) {
		l.log.Warn("ignoring damaged checkpoint; validating every segment", "err", err)
	}
	if !known {
		cp = checkpoint{}
	}
	if err := l.finishCompaction(); err != nil {
		return err
	}
	bases, err := l.listSegments()
	if err != nil {
		return err
	}
	if len(bases) == 0 {
		// A new log, or one whose every segment was deleted: never reuse an
		// offset that was handed out before.
		bases = []int64{max(cp.recoveryPoint, cp.logStartOffset)}
		s, err := openSegment(l.fs, l.dir, bases[0], true)
		if err != nil {
			return err
		}
		l.segments = []*segment{s}
		if err := l.fs.SyncDir(l.dir); err != nil {
			return errors.Join(err, s.close())
		}
		cp = checkpoint{recoveryPoint: bases[0], logStartOffset: bases[0], cleanedOffset: bases[0]}
		if err := writeCheckpoint(l.fs, l.dir, cp); err != nil {
			return errors.Join(err, s.close())
		}
		known = true
	} else {
		for _, base := range bases {
			s, err := openSegment(l.fs, l.dir, base, false)
			if err != nil {
				return errors.Join(err, l.closeSegments())
			}
			l.segments = append(l.segments, s)
		}
	}
	for i := 0; i < len(l.segments); i++ {
		next := int64(-1) // unknown for the last segment
		if i+1 < len(l.segments) {
			next = l.segments[i+1].base
		}
		// A sealed segment was flushed if the recovery point passed it, or,
		// with no checkpoint, by assumption (see above).
		flushed := next >= 0 && (next <= cp.recoveryPoint || !known)
		s := l.segments[i]
		cut, err := l.recoverSegment(s, next, cp.recoveryPoint, flushed && known, flushed)
		if err == nil && !flushed && next >= 0 && s.next.Load() < next {
			// Its last batches never reached the disk: what follows them
			// would sit after a hole. (Compaction, which leaves gaps, only
			// rewrites flushed segments.)
			l.log.Warn("unflushed segment ends before the next begins", "segment", s.name(),
				"end_offset", s.next.Load(), "next_base", next)
			cut = true
		}
		if err == nil && cut && next >= 0 {
			err = l.dropSegmentsAfter(i)
		}
		if err != nil {
			return errors.Join(err, l.closeSegments())
		}
	}
	l.active = l.segments[len(l.segments)-1]
	end := l.active.next.Load()
	l.endOffset.Store(end)
	l.startOffset.Store(min(max(cp.logStartOffset, l.segments[0].base), end))
	l.recoveryPoint = min(cp.recoveryPoint, end)
	l.cleanedOffset = min(cp.cleanedOffset, end)
	if cp.recoveryPoint > end {
		l.log.Error("log ends below its recovery point: synced data is missing",
			"recovery_point", cp.recoveryPoint, "end_offset", end)
	}
	return nil
}

// listSegments returns the base offsets of the .log files in l.dir, in
// order, and removes files that describe no segment: index files without a
// log, and temporary files of an interrupted checkpoint.
func (l *Log) listSegments() ([]int64, error) {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	logs := map[int64]bool{}
	var bases []int64
	for _, name := range names {
		if base, ok := parseSegmentName(name, logSuffix); ok {
			logs[base] = true
			bases = append(bases, base)
		}
	}
	for _, name := range names {
		orphan := strings.HasSuffix(name, framefile.TempSuffix)
		for _, suffix := range indexSuffixes {
			if base, ok := parseSegmentName(name, suffix); ok && !logs[base] {
				orphan = true
			}
		}
		if orphan {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, err
			}
		}
	}
	return bases, nil // ReadDir sorts, and the names are zero-padded
}

// finishCompaction completes a compaction swap that committed (its log is
// named .swap) and removes the files of one that did not (.cleaned, and
// index files renamed to .swap before the log was).
func (l *Log) finishCompaction() error {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if first, end, ok := parseCleanName(name, swapSuffix); ok {
			l.log.Warn("finishing an interrupted compaction swap", "first", first, "end", end)
			if err := l.finishSwap(first, end, nil); err != nil {
				return err
			}
		}
	}
	if names, err = l.fs.ReadDir(l.dir); err != nil {
		return err
	}
	for _, name := range names {
		if strings.HasSuffix(name, cleanedSuffix) || strings.HasSuffix(name, swapSuffix) {
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseSegmentName returns the base offset of a segment file name with the
// given suffix.
func parseSegmentName(name, suffix string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	return base, err == nil && base >= 0
}

// dropSegmentsAfter removes the segments after index i: recovery cut a
// torn tail in segment i, and nothing written after it was synced.
func (l *Log) dropSegmentsAfter(i int) error {
	var err error
	for _, s := range l.segments[i+1:] {
		l.log.Warn("removing segment after a torn tail", "segment", s.name(), "bytes", s.size.Load())
		err = errors.Join(err, s.remove(l.fs))
	}
	l.segments = l.segments[:i+1]
	if err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// recoverSegment sets s's size, next offset and appender state and makes its
// indexes consistent. next is the following segment's base, or -1 for the
// last segment. A trusted segment is only checked for index consistency; a
// flushed one has no torn tail, so a bad batch in it is an error. cut
// reports that a torn tail was cut off.
func (l *Log) recoverSegment(s *segment, next, recoveryPoint int64, trusted, flushed bool) (cut bool, err error) {
	size, err := s.log.Size()
	if err != nil {
		return false, err
	}
	s.size.Store(size)
	// Where validation starts: past everything below the recovery point
	// when the indexes can be trusted to find it.
	from := int64(0)
	switch {
	case trusted:
		// Sealed, synced and validated before: check only the indexes.
		ok, err := s.loadIndexes(next)
		if err != nil {
			return false, err
		}
		if ok {
			s.verifiedBelow = size // trusted, not verified: reads check CRCs
			s.next.Store(next)
			s.maxTimestamp.Store(s.timeIndex.maxTimestamp())
			return false, nil
		}
		l.log.Warn("rebuilding inconsistent index", "segment", s.name())
	case recoveryPoint > s.base:
		ok, err := s.loadIndexes(recoveryPoint)
		if err != nil {
			return false, err
		}
		if ok {
			if from, err = s.positionOf(recoveryPoint); err != nil {
				from = 0
			}
		}
	}
	if err := s.index.truncateAfter(from); err != nil {
		return false, err
	}
	if err := s.restoreState(from); err != nil {
		return false, err
	}
	s.verifiedBelow = from
	return l.validateFrom(s, from, !flushed, next >= 0)
}

// validateFrom validates the batches of s from position from onwards and
// indexes each. A short or corrupt batch in a segment that was not flushed
// before the recovery point is a torn tail: it is cut off, with a warning,
// and cut is true. In a flushed segment it is corruption: an error.
// sealed says whether segments follow s.
func (l *Log) validateFrom(s *segment, from int64, unflushed, sealed bool) (cut bool, err error) {
	if err := s.timeIndex.truncateFrom(s.next.Load()); err != nil {
		return false, err
	}
	sc := newScanner(s.log, from, s.size.Load(), recoveryChunk)
	for sc.next(true) {
		// The CRC does not cover the base offset: check that offsets move
		// forward (compaction leaves gaps, nothing goes back) and fit the
		// indexes' 32-bit relative offsets.
		if h := sc.header; h.BaseOffset < s.next.Load() || h.LastOffset()-s.base > math.MaxInt32 {
			sc.err = sc.corrupt(fmt.Errorf("batch offsets %d..%d do not follow offset %d in a segment based at %d",
				h.BaseOffset, h.LastOffset(), s.next.Load(), s.base))
			break
		}
		if err := s.indexBatch(sc.header, sc.pos, l.cfg.IndexIntervalBytes); err != nil {
			return false, err
		}
		s.next.Store(sc.header.LastOffset() + 1)
	}
	var corrupt *CorruptError
	switch {
	case sc.err == nil && sealed:
		return false, s.seal() // the newest timestamp goes into the time index, as at a roll
	case sc.err == nil:
		return false, nil
	case !errors.Is(sc.err, errShortBatch) && !errors.As(sc.err, &corrupt):
		return false, sc.err // a read error: nothing is known about the bytes
	case !unflushed:
		if corrupt == nil {
			corrupt = &CorruptError{Path: s.name(), Position: sc.pos, Reason: sc.err.Error()}
		}
		return false, fmt.Errorf("flushed segment: %w", corrupt)
	}
	l.log.Warn("cutting torn tail", "segment", s.name(), "position", sc.pos,
		"bytes", s.size.Load()-sc.pos, "reason", sc.err.Error())
	if err := s.log.Truncate(sc.pos); err != nil {
		return false, err
	}
	s.size.Store(sc.pos)
	if sealed {
		return true, s.seal()
	}
	return true, s.log.Sync()
}

// lastIndexedBatchMatches reports whether the newest offset index entry
// points at a batch with the offset it claims: a cheap check that the index
// belongs to this log file.
func (s *segment) lastIndexedBatchMatches() bool {
	e, ok := s.index.last()
	if !ok {
		return s.size.Load() == 0
	}
	sc := newScanner(s.log, int64(e.position), s.size.Load(), batchMinSize)
	return sc.next(false) && sc.header.BaseOffset == s.base+int64(e.relOffset)
}

// loadIndexes loads both index files and reports whether they can be
// trusted for a segment whose offsets lie below next: each consistent in
// itself, the time index not empty when the log is not, and the newest
// offset index entry pointing at the batch it names.
func (s *segment) loadIndexes(next int64) (bool, error) {
	okIdx, err := s.index.load(s.size.Load())
	if err != nil {
		return false, err
	}
	okTime, err := s.timeIndex.load(next)
	if err != nil {
		return false, err
	}
	return okIdx && okTime && s.timeIndexCovers() && s.lastIndexedBatchMatches(), nil
}

// timeIndexCovers reports whether the time index has an entry when the
// segment has a batch: the first batch is always indexed.
func (s *segment) timeIndexCovers() bool { return s.size.Load() == 0 || !s.timeIndex.empty() }

// positionOf returns the position of the batch that starts at offset.
func (s *segment) positionOf(offset int64) (int64, error) {
	sc := newScanner(s.log, s.index.lookup(offset), s.size.Load(), 64<<10)
	for sc.next(false) {
		if sc.header.BaseOffset == offset {
			return sc.pos, nil
		}
		if sc.header.BaseOffset > offset {
			break
		}
	}
	if sc.pos >= s.size.Load() && sc.err == nil {
		return sc.pos, nil // offset is the end of the segment
	}
	return 0, fmt.Errorf("no batch starts at offset %d in %s", offset, s.name())
}

// restoreState recomputes the appender's view of the batches below
// position from, which are trusted: the newest timestamp, the next offset,
// and the bytes since the last index entry.
func (s *segment) restoreState(from int64) error {
	s.firstTimestamp, s.lastBatchBase, s.bytesSinceIndex = -1, -1, 0
	s.maxTimestamp.Store(-1)
	s.next.Store(s.base)
	if from == 0 {
		return nil
	}
	first := newScanner(s.log, 0, from, batchMinSize)
	if !first.next(false) {
		return fmt.Errorf("restore %s: %w", s.name(), first.err)
	}
	s.firstTimestamp = first.header.MaxTimestamp
	maxTimestamp := s.timeIndex.maxTimestamp()
	start := int64(0)
	if e, ok := s.index.last(); ok {
		start = int64(e.position)
	}
	sc := newScanner(s.log, start, from, 64<<10)
	for sc.next(false) {
		maxTimestamp = max(maxTimestamp, sc.header.MaxTimestamp)
		s.lastBatchBase = sc.header.BaseOffset
		s.next.Store(sc.header.LastOffset() + 1)
		s.bytesSinceIndex += int(sc.size)
	}
	if sc.err != nil {
		return fmt.Errorf("restore %s: %w", s.name(), sc.err)
	}
	s.maxTimestamp.Store(maxTimestamp)
	return nil
}

func (l *Log) closeSegments() error {
	var err error
	for _, s := range l.segments {
		err = errors.Join(err, s.close())
	}
	l.segments = nil
	return err
}
