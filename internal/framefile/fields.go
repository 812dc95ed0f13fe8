package framefile

import (
	"encoding/binary"
	"errors"
	"slices"
)

// ErrCutShort is the error of a Fields read past the end of its bytes.
var ErrCutShort = errors.New("cut short")

// Fields reads the big-endian fields of a body, remembering the first
// shortfall: a read past the end returns zero values and sets Err, so a
// decoder reads every field of a record and checks once.
type Fields struct {
	b   []byte
	err error
}

// NewFields reads b.
func NewFields(b []byte) *Fields { return &Fields{b: b} }

// Err returns ErrCutShort once a read ran past the end, else nil.
func (f *Fields) Err() error { return f.err }

// Len returns how many bytes are left.
func (f *Fields) Len() int { return len(f.b) }

func (f *Fields) take(n int) []byte {
	if f.err != nil {
		return nil
	}
	if n < 0 || n > len(f.b) {
		f.err = ErrCutShort
		return nil
	}
	out := f.b[:n:n]
	f.b = f.b[n:]
	return out
}

// Byte reads one byte.
func (f *Fields) Byte() byte {
	if b := f.take(1); b != nil {
		return b[0]
	}
	return 0
}

// Uint16 reads a big-endian uint16.
func (f *Fields) Uint16() uint16 {
	if b := f.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

// Uint32 reads a big-endian uint32.
func (f *Fields) Uint32() uint32 {
	if b := f.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// Bytes reads n bytes into a slice of their own.
func (f *Fields) Bytes(n int) []byte { return slices.Clone(f.take(n)) }

// String16 reads a string after its uint16 length.
func (f *Fields) String16() string { return string(f.take(int(f.Uint16()))) }

// AppendString16 appends s after its uint16 length: what String16 reads.
// s must be shorter than 64 KiB.
func AppendString16(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}
