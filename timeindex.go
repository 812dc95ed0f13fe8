// A segment's sparse time index: max timestamp to relative offset.

package creek

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/creekmq/creek/internal/fsx"
)

// Time index entry layout, Kafka's widths. Part of the format.
//
//	+----------------------+----------------------+
//	| max timestamp (8)    | relative offset (4)  |   big-endian
//	+----------------------+----------------------+
//
// An entry (T, O) says: every record in the batches up to and including the
// batch that starts at base+O has a timestamp at or below T. Entries are
// added beside offset index entries, only when T grows, so both columns
// increase.
const timeIndexEntrySize = 12

type timeEntry struct {
	timestamp int64
	relOffset uint32
}

// timeIndex maps timestamps to offsets for one segment.
type timeIndex struct {
	file fsx.File
	base int64

	mu      sync.RWMutex
	entries []timeEntry
	scratch [timeIndexEntrySize]byte
}

// lookupBefore returns the base offset of a batch from which a scan for the
// first record at or after timestamp can start: the batch of the last entry
// whose timestamp is below timestamp, or the segment's base.
func (x *timeIndex) lookupBefore(timestamp int64) int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.entries), func(i int) bool { return x.entries[i].timestamp >= timestamp })
	if i == 0 {
		return x.base
	}
	return x.base + int64(x.entries[i-1].relOffset)
}

// maxTimestamp returns the largest indexed timestamp, or -1.
func (x *timeIndex) maxTimestamp() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.entries) == 0 {
		return -1
	}
	return x.entries[len(x.entries)-1].timestamp
}

// empty reports whether the index has no entries. A segment holding any
// batch has at least one.
func (x *timeIndex) empty() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.entries) == 0
}

// maybeAppend adds (timestamp, baseOffset) when timestamp is newer than the
// last entry.
func (x *timeIndex) maybeAppend(timestamp, baseOffset int64) error {
	x.mu.Lock()
	n := len(x.entries)
	if n > 0 && timestamp <= x.entries[n-1].timestamp {
		x.mu.Unlock()
		return nil
	}
	e := timeEntry{timestamp: timestamp, relOffset: uint32(baseOffset - x.base)}
	x.entries = append(x.entries, e)
	x.mu.Unlock()
	binary.BigEndian.PutUint64(x.scratch[0:], uint64(e.timestamp))
	binary.BigEndian.PutUint32(x.scratch[8:], e.relOffset)
	if _, err := x.file.WriteAt(x.scratch[:], int64(n)*timeIndexEntrySize); err != nil {
		return fmt.Errorf("write %s: %w", x.file.Name(), err)
	}
	return nil
}

// truncateFrom drops the entries for batches at or after baseOffset.
func (x *timeIndex) truncateFrom(baseOffset int64) error {
	x.mu.Lock()
	rel := baseOffset - x.base
	i := sort.Search(len(x.entries), func(i int) bool { return int64(x.entries[i].relOffset) >= rel })
	x.entries = x.entries[:i]
	x.mu.Unlock()
	return x.file.Truncate(int64(i) * timeIndexEntrySize)
}

func (x *timeIndex) reset() error { return x.truncateFrom(x.base) }

// load reads the index file and reports whether it is consistent with a
// segment whose offsets lie below nextOffset. An inconsistent index is left
// empty for the caller to rebuild.
func (x *timeIndex) load(nextOffset int64) (ok bool, err error) {
	size, err := x.file.Size()
	if err != nil {
		return false, err
	}
	if size%timeIndexEntrySize != 0 || size/timeIndexEntrySize > nextOffset-x.base {
		return false, x.reset()
	}
	buf := make([]byte, size)
	if n, err := x.file.ReadAt(buf, 0); n < len(buf) {
		return false, fmt.Errorf("read %s: %w", x.file.Name(), err)
	}
	entries := make([]timeEntry, 0, size/timeIndexEntrySize)
	for b := buf; len(b) > 0; b = b[timeIndexEntrySize:] {
		e := timeEntry{int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint32(b[8:])}
		if n := len(entries); n > 0 && (e.timestamp <= entries[n-1].timestamp || e.relOffset <= entries[n-1].relOffset) {
			return false, x.reset()
		}
		if x.base+int64(e.relOffset) >= nextOffset {
			return false, x.reset()
		}
		entries = append(entries, e)
	}
	x.mu.Lock()
	x.entries = entries
	x.mu.Unlock()
	return true, nil
}

// OffsetForTime returns the offset of the first record whose timestamp is at
// or after ts (Unix milliseconds) and at or above the log start offset, as
// Kafka's ListOffsets does, and false when there is none. Batches stamped
// with LogAppendTime count their records at the batch's time.
func (l *Log) OffsetForTime(ts int64) (int64, bool, error) {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if l.segments == nil {
		return -1, false, ErrClosed
	}
	start := l.startOffset.Load()
	for _, s := range l.segments {
		// Segments are in offset order, not time order: the first one
		// holding a record at or after ts holds the earliest such offset.
		if s.maxTimestamp.Load() < ts || s.next.Load() <= start {
			continue
		}
		offset, found, err := s.offsetForTime(ts, start)
		if err != nil || found {
			return offset, found, err
		}
	}
	return -1, false, nil
}

// offsetForTime looks for the first record of s at or after ts and start.
func (s *segment) offsetForTime(ts, start int64) (int64, bool, error) {
	from := max(s.timeIndex.lookupBefore(ts), start)
	sc := newScanner(s.log, s.index.lookup(from), s.size.Load(), 64<<10)
	for sc.next(true) {
		h := sc.header
		if h.MaxTimestamp < ts || h.LastOffset() < start || h.Control() {
			continue
		}
		b, err := sc.bytes()
		if err != nil {
			return -1, false, err
		}
		records, err := decodeRecords(b)
		if err != nil {
			return -1, false, s.corrupt(sc.pos, err)
		}
		for _, r := range records {
			if r.Offset(h) >= start && r.Timestamp(h) >= ts {
				return r.Offset(h), true, nil
			}
		}
	}
	return -1, false, sc.err
}
