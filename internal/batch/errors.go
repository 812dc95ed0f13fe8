package batch

import (
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt matches every error this package returns for malformed bytes.
// The root package re-exports it as creek.ErrCorrupt.
var ErrCorrupt = errors.New("creek: corrupt data")

// CorruptError reports bytes that fail validation or decoding. It matches
// ErrCorrupt with errors.Is, and unwraps to its cause Err when there is one.
//
// A batch cut short — the bytes end before the header or before the length
// the header declares — has Err == io.ErrUnexpectedEOF, so a caller reading
// a stream can tell "need more bytes" (errors.Is(err, io.ErrUnexpectedEOF))
// from bytes that can never become valid.
type CorruptError struct {
	Offset int64  // byte position within the input where the problem is
	Reason string // what is wrong, for people
	Err    error  // underlying cause, or nil
}

// Error describes the problem and where it is.
func (e *CorruptError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("creek: corrupt batch at byte %d: %s: %v", e.Offset, e.Reason, e.Err)
	}
	return fmt.Sprintf("creek: corrupt batch at byte %d: %s", e.Offset, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the cause: io.ErrUnexpectedEOF for a short batch, a codec's
// error for a compressed payload that does not decompress, or nil.
func (e *CorruptError) Unwrap() error { return e.Err }

// corruptf returns a *CorruptError with a formatted reason.
func corruptf(offset int, format string, args ...any) error {
	return &CorruptError{Offset: int64(offset), Reason: fmt.Sprintf(format, args...)}
}

// short reports input that ends at offset before the batch does.
func short(offset int, reason string) error {
	return &CorruptError{Offset: int64(offset), Reason: reason, Err: io.ErrUnexpectedEOF}
}
