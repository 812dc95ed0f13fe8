package batch

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxPooledBuffer is the largest decompression buffer a pooled Reader keeps.
const maxPooledBuffer = 1 << 20

// readers are Readers for ValidateProduced, whose decompression buffers
// are reused across batches.
var readers = sync.Pool{New: func() any { return &Reader{checkOnly: true} }}

// ValidateProduced checks a batch a producer sent, as Kafka's LogValidator
// checks one before it is stored: what Validate checks, and also that its
// offsets are whole — NumRecords records with offset deltas 0, 1, …,
// NumRecords−1, so LastOffsetDelta is NumRecords−1 — and that every record
// is well formed, decompressing compressed records within
// DefaultMaxDecompressedBytes (a zip bomb is refused, not inflated), and,
// for gzip, LZ4 and zstd, one record at a time (validateStream), so that
// checking a batch takes memory for its largest record, not all of them. A
// stored batch may have gaps that compaction left; one a producer sends
// may not: a lastOffsetDelta of 2^31−1 over ten records would move the log
// end by two billion offsets, and a malformed record would stop every
// consumer at it. Errors are *CorruptError; those past Validate's checks
// also match ErrInvalidRecords.
func ValidateProduced(b []byte) (Header, error) {
	r := readers.Get().(*Reader)
	defer func() {
		r.clear() // retain neither b
		if cap(r.buf) > maxPooledBuffer {
			r.buf = nil // nor a large batch's records
		}
		readers.Put(r)
	}()
	h, err := Validate(b)
	if err != nil {
		return Header{}, err
	}
	if int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return Header{}, fmt.Errorf("%w: %w", ErrInvalidRecords,
			corruptf(batchLastOffsetDelta, "last offset delta %d for %d records", h.LastOffsetDelta, h.NumRecords))
	}
	if streamable(h.Compression()) && len(b) > HeaderSize {
		if err := validateStream(b, h, DefaultMaxDecompressedBytes); err != nil {
			return Header{}, fmt.Errorf("%w: %w", ErrInvalidRecords, err)
		}
		return h, nil
	}
	r.clear()
	if err := r.start(b, h); err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrInvalidRecords, err)
	}
	var rec Record
	for {
		switch err := r.Next(&rec); err {
		case nil:
		case io.EOF:
			return h, nil
		default:
			return Header{}, fmt.Errorf("%w: %w", ErrInvalidRecords, err)
		}
	}
}

// ErrInvalidRecords marks a batch, sound as a whole (length, CRC, codec),
// whose records do not match its header or do not decode: Kafka answers
// INVALID_RECORD, which a client does not retry, where a corrupt batch gets
// CORRUPT_MESSAGE, which it does.
var ErrInvalidRecords = errors.New("batch: records do not match the batch")
