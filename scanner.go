// Scanning a segment's batches from a position, for recovery and compaction.

package creek

import (
	"errors"
	"io"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// batchMinSize is the smallest batch the format allows: a header and no
// records. It bounds how many batches (and index entries) a file can hold.
const batchMinSize = batch.HeaderSize

// errShortBatch marks a batch cut off by the end of the file: a torn tail.
var errShortBatch = errors.New("batch runs past the end of the file")

// scanner walks the batches of a segment file from a position, reading the
// file in chunks so that small batches do not cost a read call each.
type scanner struct {
	file fsx.File
	end  int64 // scanning stops here: the segment's size when it started

	pos    int64        // where the current batch starts
	size   int64        // the current batch's size; 0 before the first
	header batch.Header // the current batch's header
	err    error

	buf    []byte
	bufPos int64 // file position of buf[0]
	chunk  int
}

func newScanner(file fsx.File, pos, end int64, chunk int) *scanner {
	return &scanner{file: file, pos: pos, end: end, chunk: chunk}
}

// next moves to the following batch. With validate it checks the batch's
// CRC and framing; without, only its header. It returns false at the end or
// on an error, which err then holds: errShortBatch for a torn tail, a
// *CorruptError for bad bytes, or the read error.
func (s *scanner) next(validate bool) bool {
	s.pos += s.size
	s.size = 0
	if s.pos >= s.end || s.err != nil {
		return false
	}
	if s.end-s.pos < batch.HeaderSize {
		s.err = errShortBatch
		return false
	}
	head, err := s.window(s.pos, batch.HeaderSize)
	if err != nil {
		s.err = err
		return false
	}
	h, err := batch.ParseHeader(head)
	if err != nil {
		s.err = s.corrupt(err)
		return false
	}
	if int64(h.Size()) > s.end-s.pos {
		s.err = errShortBatch
		return false
	}
	if validate {
		b, err := s.window(s.pos, h.Size())
		if err != nil {
			s.err = err
			return false
		}
		if h, err = batch.Validate(b); err != nil {
			s.err = s.corrupt(err)
			return false
		}
	}
	s.header = h
	s.size = int64(h.Size())
	return true
}

// bytes returns the current batch. They are valid until the next call.
func (s *scanner) bytes() ([]byte, error) { return s.window(s.pos, int(s.size)) }

// window returns the n file bytes at pos, reading a new chunk when the
// buffer does not hold them.
func (s *scanner) window(pos int64, n int) ([]byte, error) {
	if pos >= s.bufPos && pos+int64(n) <= s.bufPos+int64(len(s.buf)) {
		off := pos - s.bufPos
		return s.buf[off : off+int64(n)], nil
	}
	want := max(n, s.chunk)
	if left := s.end - pos; int64(want) > left {
		want = int(left)
	}
	if cap(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	s.bufPos = pos
	got, err := s.file.ReadAt(s.buf, pos)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = errShortBatch
		}
		s.buf = s.buf[:0]
		return nil, err
	}
	s.buf = s.buf[:got]
	return s.buf[:n], nil
}

func (s *scanner) corrupt(err error) error {
	return &CorruptError{Path: s.file.Name(), Position: s.pos, Reason: err.Error()}
}
