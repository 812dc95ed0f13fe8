// A segment: one .log file of batches with its offset and time indexes.

package creek

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// Segment file suffixes. A segment is named by its base offset, zero-padded
// to 20 digits, so that a directory listing sorts in offset order.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	txnIndexSuffix  = ".txnindex"
)

// indexSuffixes are the suffixes of a segment's index files, which go with
// its .log file.
var indexSuffixes = []string{indexSuffix, timeIndexSuffix, txnIndexSuffix}

func segmentPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one run of the log: a .log file of batches from base onwards
// and its three indexes. The appender (holding Log.appendMu) writes the active
// segment; readers use size and next, which the appender publishes after the
// bytes are written, so they never see a partial batch.
type segment struct {
	dir       string
	base      int64
	log       fsx.File
	index     *offsetIndex
	timeIndex *timeIndex
	txnIndex  *txnIndex

	size atomic.Int64 // bytes of whole batches
	next atomic.Int64 // the offset after the last batch; base when empty

	// maxTimestamp is the newest record timestamp, -1 when empty. The
	// appender writes it; offset-for-time lookups read it.
	maxTimestamp atomic.Int64

	// verifiedBelow is the position below which this process has not yet
	// checked the batches' CRCs: reads validate those, every time. Batches
	// at or above it passed Validate on append, in recovery or in the
	// cleaner, and reads check only their framing. Set before the segment
	// is shared; lowered by truncation under Log.segsMu.
	verifiedBelow int64

	// Appender only (or immutable once the segment is sealed).
	firstTimestamp  int64 // the first batch's max timestamp, for age rolls; -1 when empty
	bytesSinceIndex int
	lastBatchBase   int64 // base offset of the newest batch
}

// segmentFiles names the four files of a segment.
type segmentFiles struct{ log, index, timeIndex, txnIndex string }

func segmentFilesAt(dir string, base int64) segmentFiles {
	return segmentFiles{
		log:       segmentPath(dir, base, logSuffix),
		index:     segmentPath(dir, base, indexSuffix),
		timeIndex: segmentPath(dir, base, timeIndexSuffix),
		txnIndex:  segmentPath(dir, base, txnIndexSuffix),
	}
}

// all lists the paths, the .log file's last: renaming the files in this
// order commits a segment with its name.
func (f segmentFiles) all() []string { return []string{f.index, f.timeIndex, f.txnIndex, f.log} }

// openSegment opens (creating when create is set) the four files of the
// segment at base.
func openSegment(fs fsx.FS, dir string, base int64, create bool) (*segment, error) {
	return openSegmentFiles(fs, dir, base, segmentFilesAt(dir, base), create)
}

// openSegmentFiles opens a segment whose files are at paths, which differ
// from its final names while the cleaner writes it.
func openSegmentFiles(fs fsx.FS, dir string, base int64, paths segmentFiles, create bool) (*segment, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	s := &segment{dir: dir, base: base, firstTimestamp: -1, lastBatchBase: -1}
	s.maxTimestamp.Store(-1)
	var err error
	if s.log, err = fs.OpenFile(paths.log, flag, 0o644); err != nil {
		return nil, err
	}
	// Index files are derived data: open or create them whatever create says.
	idx, err := fs.OpenFile(paths.index, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, errors.Join(err, s.log.Close())
	}
	tidx, err := fs.OpenFile(paths.timeIndex, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, errors.Join(err, s.log.Close(), idx.Close())
	}
	txidx, err := fs.OpenFile(paths.txnIndex, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, errors.Join(err, s.log.Close(), idx.Close(), tidx.Close())
	}
	closeAll := func(err error) error {
		return errors.Join(err, s.log.Close(), idx.Close(), tidx.Close(), txidx.Close())
	}
	if create {
		// A new segment's index files may be left over from a segment that
		// was truncated away; they describe nothing now.
		if err := errors.Join(idx.Truncate(0), tidx.Truncate(0), txidx.Truncate(0)); err != nil {
			return nil, closeAll(err)
		}
	}
	s.index = &offsetIndex{file: idx, base: base}
	s.timeIndex = &timeIndex{file: tidx, base: base}
	s.txnIndex = &txnIndex{file: txidx}
	if err := s.txnIndex.load(); err != nil {
		return nil, closeAll(err)
	}
	s.next.Store(base)
	return s, nil
}

// name returns the path of the segment's .log file, for messages.
func (s *segment) name() string { return segmentPath(s.dir, s.base, logSuffix) }

// append writes one batch, whose header is h, at the end of the segment and
// indexes it when an index interval has passed. The batch becomes visible to
// readers only when the write has succeeded.
func (s *segment) append(b []byte, h batch.Header, indexInterval int) error {
	pos := s.size.Load()
	if _, err := s.log.WriteAt(b, pos); err != nil {
		return fmt.Errorf("write %s at %d: %w", s.name(), pos, err)
	}
	if err := s.indexBatch(h, pos, indexInterval); err != nil {
		return err
	}
	s.next.Store(h.LastOffset() + 1) // before size: a reader that sees the batch sees its offsets in range
	s.size.Store(pos + int64(len(b)))
	return nil
}

// indexBatch records a batch that starts at pos in the segment's state and,
// once per index interval, in its indexes. Recovery calls it for every batch
// it keeps, so a rebuilt index is the index the appender would have written.
func (s *segment) indexBatch(h batch.Header, pos int64, indexInterval int) error {
	if s.bytesSinceIndex >= indexInterval || pos == 0 {
		if err := s.index.append(h.BaseOffset, pos); err != nil {
			return err
		}
		if err := s.timeIndex.maybeAppend(max(s.maxTimestamp.Load(), h.MaxTimestamp), h.BaseOffset); err != nil {
			return err
		}
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += h.Size()
	s.maxTimestamp.Store(max(s.maxTimestamp.Load(), h.MaxTimestamp))
	if s.firstTimestamp < 0 {
		s.firstTimestamp = h.MaxTimestamp
	}
	s.lastBatchBase = h.BaseOffset
	return nil
}

// seal prepares the segment to become read-only and syncs its files.
func (s *segment) seal() error {
	if err := s.sealIndexes(); err != nil {
		return err
	}
	return s.sync(true)
}

// sealIndexes puts the segment's newest timestamp into the time index, so
// that it survives a reopen.
func (s *segment) sealIndexes() error {
	if s.lastBatchBase >= 0 {
		return s.timeIndex.maybeAppend(s.maxTimestamp.Load(), s.lastBatchBase)
	}
	return nil
}

// sync syncs the log file and, with indexes, the index files too.
func (s *segment) sync(indexes bool) error {
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.name(), err)
	}
	if !indexes {
		return nil
	}
	if err := s.index.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.index.file.Name(), err)
	}
	if err := s.timeIndex.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.timeIndex.file.Name(), err)
	}
	return s.txnIndex.sync()
}

// truncateAt cuts the segment at position, a batch boundary, whose first
// removed batch starts at offset (the new next offset). State kept only by
// the appender (timestamps, index interval) is rebuilt by the caller when it
// matters: Log.truncate reindexes the remaining tail.
func (s *segment) truncateAt(position, offset int64) error {
	if err := s.log.Truncate(position); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", s.name(), position, err)
	}
	if err := s.index.truncateAfter(position); err != nil {
		return err
	}
	if err := s.timeIndex.truncateFrom(offset); err != nil {
		return err
	}
	if err := s.txnIndex.cutFrom(offset); err != nil {
		return err
	}
	s.size.Store(position)
	s.next.Store(offset)
	s.verifiedBelow = min(s.verifiedBelow, position)
	return nil
}

// close closes the segment's files.
func (s *segment) close() error {
	return errors.Join(s.log.Close(), s.index.file.Close(), s.timeIndex.file.Close(), s.txnIndex.file.Close())
}

// remove closes and deletes the segment's files. The caller syncs the
// directory.
func (s *segment) remove(fs fsx.FS) error {
	err := s.close()
	for _, f := range segmentFilesAt(s.dir, s.base).all() {
		if rerr := fs.Remove(f); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// find returns the position and header of the first batch whose last offset
// is at or after offset, scanning from the index's hint. found is false when
// every batch in the segment lies below offset.
func (s *segment) find(offset int64) (pos int64, h batch.Header, found bool, err error) {
	buf := findBuffers.Get().(*[]byte)
	sc := scanner{file: s.log, pos: s.index.lookup(offset), end: s.size.Load(), chunk: findChunk, buf: (*buf)[:0]}
	after := int64(-1) // the last offset of the batch before; unknown at the index's hint
	for sc.next(false) {
		if err := s.checkOffsets(sc.header, after, sc.pos); err != nil {
			sc.err = err
			break
		}
		if sc.header.LastOffset() >= offset {
			pos, h, found = sc.pos, sc.header, true
			break
		}
		after = sc.header.LastOffset()
	}
	*buf = sc.buf[:0] // keep a buffer the scanner grew
	findBuffers.Put(buf)
	if errors.Is(sc.err, errShortBatch) {
		sc.err = s.corrupt(sc.pos, sc.err) // reads stop at whole batches: a short one is a bad length
	}
	return pos, h, found, sc.err
}

// checkOffsets refuses a batch read at pos whose offsets fall outside the
// segment, or do not follow after, the last offset of the batch before it
// (-1: unknown). The CRC does not cover a batch's base offset: one flipped
// bit there would otherwise serve the batch at the wrong offsets, or hide
// it and every batch after it.
func (s *segment) checkOffsets(h batch.Header, after, pos int64) error {
	if err := offsetsFit(h, after, s.base, s.next.Load()); err != nil {
		return s.corrupt(pos, err)
	}
	return nil
}

// offsetsFit checks that a batch's offsets follow after, the last offset
// of the batch before it (-1: unknown), start at or past base and end
// below end (-1: no bound).
func offsetsFit(h batch.Header, after, base, end int64) error {
	if h.BaseOffset < base || h.BaseOffset <= after || end >= 0 && h.LastOffset() >= end {
		return fmt.Errorf("batch offsets %d..%d do not follow offset %d in a segment of offsets %d up to %d",
			h.BaseOffset, h.LastOffset(), after, base, end)
	}
	return nil
}

// findChunk is how much find reads at a time: an index interval and a
// header, so that one read usually reaches the batch it looks for.
const findChunk = 16 << 10

// findBuffers recycles find's scanner buffers: every Read calls find.
var findBuffers = sync.Pool{New: func() any { b := make([]byte, 0, findChunk); return &b }}

// read appends to dst the whole batches that start at position pos and fit
// in maxBytes, or, when passFirst is set, the first batch alone when it is
// larger (KIP-74: a reader always makes progress). Every batch is
// validated: a corrupt one is never returned.
func (s *segment) read(dst []byte, pos int64, maxBytes int, passFirst bool) ([]byte, error) {
	end := s.size.Load()
	start := len(dst)
	dst, err := readAt(s.log, dst, pos, int(max(min(int64(maxBytes), end-pos), 0)))
	if err != nil {
		return dst[:start], err
	}
	var kept int
	after := int64(-1)
	for b := dst[start:]; len(b) > 0; {
		if !holdsWholeBatch(b) {
			break // the rest of the window holds a partial batch
		}
		one, rest, err := batch.Next(b)
		if err != nil {
			break
		}
		h, err := s.check(one, pos+int64(kept), after)
		if err != nil {
			if kept > 0 {
				break // return what is good; the next read reports the bad batch
			}
			return dst[:start], err
		}
		after = h.LastOffset()
		kept += len(one)
		b = rest
	}
	if kept > 0 || !passFirst {
		return dst[:start+kept], nil
	}
	// The first batch is larger than maxBytes. What was read is its
	// beginning: read the rest.
	have := len(dst) - start
	if have < batch.HeaderSize {
		if dst, err = readAt(s.log, dst, pos+int64(have), batch.HeaderSize-have); err != nil {
			return dst[:start], err
		}
		have = batch.HeaderSize
	}
	h, err := batch.ParseHeader(dst[start:])
	if err != nil {
		return dst[:start], s.corrupt(pos, err)
	}
	if int64(h.Size()) > end-pos {
		return dst[:start], s.corrupt(pos, errShortBatch)
	}
	if rest := h.Size() - have; rest > 0 {
		if dst, err = readAt(s.log, dst, pos+int64(have), rest); err != nil {
			return dst[:start], err
		}
	} else {
		dst = dst[:start+h.Size()]
	}
	if _, err := s.check(dst[start:], pos, -1); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// holdsWholeBatch reports whether b starts with a whole batch by its length
// field. It is the cheap test a read window's end needs; batch.Next, which
// builds an error for a partial batch, would allocate on every read.
func holdsWholeBatch(b []byte) bool {
	if len(b) < batch.HeaderSize {
		return false
	}
	length := int64(binary.BigEndian.Uint32(b[batch.LengthFieldEnd-4:]))
	return int64(len(b)) >= batch.LengthFieldEnd+length
}

// check validates the batch b read at pos, which follows a batch ending at
// offset after (-1: unknown): its CRC too when this process has not checked
// it before (see verifiedBelow), else its framing; and its offsets.
func (s *segment) check(b []byte, pos, after int64) (batch.Header, error) {
	var h batch.Header
	var err error
	if pos < s.verifiedBelow {
		h, err = batch.Validate(b)
	} else {
		h, err = batch.ParseHeader(b)
	}
	if err != nil {
		return h, s.corrupt(pos, err)
	}
	return h, s.checkOffsets(h, after, pos)
}

func (s *segment) corrupt(pos int64, err error) error {
	return &CorruptError{Path: s.name(), Position: pos, Reason: err.Error()}
}

// readAt appends n bytes of f at pos to dst, growing it as needed. Fewer
// than n bytes is an error: callers read only below a size they loaded.
func readAt(f fsx.File, dst []byte, pos int64, n int) ([]byte, error) {
	start := len(dst)
	dst = grow(dst, n)
	got, err := f.ReadAt(dst[start:], pos)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return dst[:start], fmt.Errorf("read %s at %d: %w", f.Name(), pos, err)
	}
	return dst, nil
}

// grow returns dst with room for n more bytes and length len(dst)+n.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		bigger := make([]byte, len(dst), len(dst)+n)
		copy(bigger, dst)
		dst = bigger
	}
	return dst[:len(dst)+n]
}
