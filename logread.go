// Reading the log: Read, the window of batches a fetch takes across
// segments, and the report of a corrupt batch a read finds.

package creek

import (
	"errors"
	"fmt"
	"sort"

	"github.com/creekmq/creek/internal/batch"
)

// Read appends to dst whole batches starting with the one that holds offset,
// up to maxBytes in all but always at least one batch, and returns the
// extended slice. Batches come from one segment; read again from the offset
// after the last batch for more. Reading at the log end offset returns dst
// unchanged; reading below the start or past the end gives
// ErrOffsetOutOfRange. Every batch returned has passed its CRC check in
// this process: on append, in recovery, or here, on its first read when
// recovery trusted it to a checkpoint; one that fails gives a
// *CorruptError, and its offsets are checked on every read. The returned batches may begin below
// offset, as Kafka's do: the caller skips records it did not ask for.
func (l *Log) Read(dst []byte, offset int64, maxBytes int) ([]byte, error) {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if err := l.readableRLocked(offset); err != nil {
		return dst, err
	}
	for i := l.segmentIndexRLocked(offset); i < len(l.segments); i++ {
		s := l.segments[i]
		pos, _, found, err := s.find(offset)
		if err != nil {
			return dst, l.reportCorrupt(err)
		}
		if found {
			dst, err = s.read(dst, pos, maxBytes, true)
			return dst, l.reportCorrupt(err)
		}
	}
	return dst, nil
}

// readableRLocked checks that the log is open and offset within it, from
// its start to its end offset (where a read finds nothing yet).
func (l *Log) readableRLocked(offset int64) error {
	if l.segments == nil {
		return ErrClosed
	}
	if start, end := l.startOffset.Load(), l.endOffset.Load(); offset < start || offset > end {
		return fmt.Errorf("%w: %d is outside [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
	}
	return nil
}

// reportCorrupt logs damage a read found, once for each place (every
// later read of it fails the same way, and says so to its caller), and
// returns err.
func (l *Log) reportCorrupt(err error) error {
	var c *CorruptError
	if !errors.As(err, &c) {
		return err
	}
	l.corruptMu.Lock()
	defer l.corruptMu.Unlock()
	if l.corrupt[*c] {
		return err
	}
	if l.corrupt == nil || len(l.corrupt) >= 1024 {
		l.corrupt = map[CorruptError]bool{}
	}
	l.corrupt[*c] = true
	l.log.Error("corrupt batch in the log: reads stop at it; see docs/OPERATIONS.md on repairing a segment",
		"file", c.Path, "position", c.Position, "reason", c.Reason)
	return err
}

// segmentIndexRLocked returns the index of the segment that would hold
// offset: the last one whose base is at or below it.
func (l *Log) segmentIndexRLocked(offset int64) int {
	i := sort.Search(len(l.segments), func(i int) bool { return l.segments[i].base > offset })
	return max(i-1, 0)
}

// readWindow appends to dst whole batches from the one that holds offset
// on, across segments, each beginning below limit, while they fit in
// maxBytes; when passFirst is set the first batch comes whole even if it
// alone passes maxBytes (KIP-74: a reader always makes progress). It
// returns what it read before an error with the error; the batches before
// a bad one are sound. A batch that does not fit in what is left of
// maxBytes is not read: reading it whole, to drop it, would read twice the
// window from a log of batches near maxBytes.
func (l *Log) readWindow(dst []byte, offset, limit int64, maxBytes int, passFirst bool) ([]byte, error) {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if err := l.readableRLocked(offset); err != nil {
		return dst, err
	}
	start := len(dst)
	for i := l.segmentIndexRLocked(offset); i < len(l.segments) && offset < limit && len(dst)-start < maxBytes; i++ {
		s := l.segments[i]
		pos, _, found, err := s.find(offset)
		if err != nil {
			return dst, l.reportCorrupt(err)
		}
		if !found {
			continue
		}
		before := len(dst)
		dst, err = s.read(dst, pos, maxBytes-(before-start), passFirst && before == start)
		dst = cutBatchesAt(dst, before, limit)
		if err != nil || len(dst) == before {
			return dst, l.reportCorrupt(err)
		}
		offset = lastOffsetIn(dst[before:]) + 1
		if offset < s.next.Load() {
			break // the next batch of this segment did not fit
		}
	}
	return dst, nil
}

// cutBatchesAt drops the batches of b[from:] that begin at or after
// limit: a reader below the high watermark, or the last stable offset,
// sees none past it.
func cutBatchesAt(b []byte, from int, limit int64) []byte {
	pos := from
	for pos < len(b) {
		one, _, err := batch.Next(b[pos:])
		if err != nil {
			break
		}
		if h, err := batch.ParseHeader(one); err != nil || h.BaseOffset >= limit {
			return b[:pos]
		}
		pos += len(one)
	}
	return b
}
