package batch

import (
	"errors"
	"fmt"
	"io"
	"iter"
)

// DefaultMaxDecompressedBytes bounds the records of a compressed batch once
// decompressed, unless a Reader says otherwise: a batch that inflates past
// it is corrupt, so a few kilobytes of zip bomb cannot exhaust memory.
// Kafka's own limits (message.max.bytes, 1 MiB by default) apply to the
// compressed size, so this leaves room for highly compressible records.
const DefaultMaxDecompressedBytes = 64 << 20

// Reader decodes the records of one batch at a time, decompressing them if
// needed. The zero value is ready to use; reuse a Reader to reuse its
// decompression buffer. A Reader is not safe for concurrent use.
//
// Records alias memory the caller must not change while using them: the
// batch itself when it is uncompressed, or else the Reader's buffer, which
// the next Reset overwrites. Copy what must outlive that.
type Reader struct {
	// MaxDecompressedBytes bounds a compressed batch's records once
	// decompressed; zero means DefaultMaxDecompressedBytes.
	MaxDecompressedBytes int

	h          Header
	buf        []byte  // decompressed records, reused across batches
	d          decoder // the records; d.off is where the next one starts
	compressed bool    // whether d reads buf rather than the batch
	left       int32   // records not yet read
	read       int32   // records read
	lastDelta  int64   // OffsetDelta of the previous record; -1 before the first
	err        error   // sticky: io.EOF or a *CorruptError
	checkOnly  bool    // records are checked, not used: their headers are not kept
}

// Reset validates b as Validate does, decompresses its records if needed,
// and makes the Reader ready to return them. It retains b until the next
// Reset. Errors are *CorruptError; after one, Next returns it too.
func (r *Reader) Reset(b []byte) error {
	r.clear()
	h, err := Validate(b)
	if err != nil {
		r.err = err
		return err
	}
	return r.start(b, h)
}

// clear forgets the batch before.
func (r *Reader) clear() {
	r.h, r.d, r.compressed, r.left, r.read, r.lastDelta, r.err = Header{}, decoder{}, false, 0, 0, -1, nil
}

// start makes the Reader ready to return the records of b, whose header h
// Validate has accepted, decompressing them if needed.
func (r *Reader) start(b []byte, h Header) error {
	r.h, r.left = h, h.NumRecords
	payload := b[HeaderSize:]
	if c := h.Compression(); c == None || len(payload) == 0 {
		r.d = decoder{b: payload, checkOnly: r.checkOnly}
		return nil
	}
	limit := r.MaxDecompressedBytes
	if limit <= 0 {
		limit = DefaultMaxDecompressedBytes
	}
	buf, err := h.Compression().appendDecompressed(r.buf[:0], payload, limit)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			// The batch is whole (its CRC matched) but the stream in it
			// is cut. Hide the codec's EOF, so that io.ErrUnexpectedEOF
			// keeps meaning "the batch is short, read more".
			err = fmt.Errorf("compressed stream ends early (%v)", err)
		}
		r.err = &CorruptError{
			Offset: HeaderSize,
			Reason: fmt.Sprintf("%s records do not decompress (limit %d bytes)", h.Compression(), limit),
			Err:    err,
		}
		return r.err
	}
	r.buf = buf
	r.d = decoder{b: buf, checkOnly: r.checkOnly}
	r.compressed = true
	if h.NumRecords == 0 && len(buf) > 0 {
		r.err = r.corrupt(0, fmt.Sprintf("%d decompressed bytes for no records", len(buf)))
		return r.err
	}
	return nil
}

// Header returns the header of the batch given to Reset.
func (r *Reader) Header() Header { return r.h }

// Remaining returns how many records Next has yet to return.
func (r *Reader) Remaining() int { return int(r.left) }

// Next decodes the next record into rec, overwriting it and reusing the
// backing array of rec.Headers when it has room. It returns io.EOF after the
// last record, and a *CorruptError for a malformed record, including
// one whose offset delta does not increase or passes LastOffsetDelta and
// bytes left over after the last record; a record is returned only once it
// is known to be sound. Errors are sticky.
func (r *Reader) Next(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	if r.left == 0 {
		r.err = io.EOF
		return r.err
	}
	start := r.d.off
	decodeRecord(&r.d, rec)
	switch {
	case r.d.bad != "":
		r.err = r.corrupt(r.d.badAt, r.d.bad)
	case int64(rec.OffsetDelta) <= r.lastDelta:
		r.err = r.corrupt(start, fmt.Sprintf("offset delta %d after %d", rec.OffsetDelta, r.lastDelta))
	case rec.OffsetDelta > r.h.LastOffsetDelta:
		r.err = r.corrupt(start, fmt.Sprintf("offset delta %d past the last, %d", rec.OffsetDelta, r.h.LastOffsetDelta))
	case r.left == 1 && r.d.left() > 0:
		r.err = r.corrupt(r.d.off, fmt.Sprintf("%d bytes after the last record", r.d.left()))
	}
	if r.err != nil {
		*rec = Record{Headers: rec.Headers[:0]}
		return r.err
	}
	r.lastDelta = int64(rec.OffsetDelta)
	r.left--
	r.read++
	return nil
}

// corrupt reports a problem at offset off of the records.
func (r *Reader) corrupt(off int, reason string) error {
	if r.compressed {
		return &CorruptError{
			Offset: HeaderSize,
			Reason: fmt.Sprintf("record %d at byte %d of the decompressed records: %s", r.read, off, reason),
		}
	}
	return &CorruptError{Offset: int64(HeaderSize + off), Reason: fmt.Sprintf("record %d: %s", r.read, reason)}
}

// Records returns an iterator over the records of batch b, which it first
// checks as Validate does. It yields each record with a nil error and stops
// after the last; on a malformed batch or record it yields one
// *CorruptError, with a zero Record, and stops. No record is yielded from a
// batch whose header fails, and none that fails to decode.
//
// Records alias b when it is uncompressed, or a buffer of their own that
// nothing else writes; each has its own Headers slice.
func Records(b []byte) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var r Reader
		if err := r.Reset(b); err != nil {
			yield(Record{}, err)
			return
		}
		for {
			var rec Record
			err := r.Next(&rec)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Record{}, err)
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}
