package framefile

// format.go owns the frame: Format, Seal, Open and their errors.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// VersionWidth is how many bytes a format's version field takes. Part of
// each format: never change a format's width.
type VersionWidth int

// The widths a version field may have.
const (
	Version8  VersionWidth = 1 // one byte: Raft's stable file, the metadata snapshot
	Version16 VersionWidth = 2 // a big-endian uint16: checkpoint, registry, producer snapshot
)

const (
	magicSize = 4
	crcSize   = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Format describes one kind of framed file. Its fields are part of the
// on-disk format: a change to Magic or VersionWidth makes every existing
// file unreadable.
type Format struct {
	Name         string // what errors call a file of this kind, e.g. "topic registry"
	Magic        uint32
	VersionWidth VersionWidth
	// Oldest and Current bound the versions Open accepts; Seal writes
	// Current. A format that changes adds a version and keeps reading the
	// older ones.
	Oldest, Current uint16
}

// Size returns the length of a frame around a body of n bytes.
func (f Format) Size(n int) int { return f.headerSize() + n + crcSize }

// Seal returns body framed as the current version of f. Seal does not
// retain body. It panics if f is malformed (an unknown width, or a current
// version too wide for it): that is a programming error, not bad input.
func (f Format) Seal(body []byte) []byte {
	f.mustBeValid()
	b := make([]byte, f.headerSize(), f.Size(len(body)))
	binary.BigEndian.PutUint32(b, f.Magic)
	if f.VersionWidth == Version8 {
		b[magicSize] = byte(f.Current)
	} else {
		binary.BigEndian.PutUint16(b[magicSize:], f.Current)
	}
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// Open checks that b is one whole frame of f: long enough, with f's magic,
// a version from Oldest to Current and a matching CRC. It returns the
// version and the body, which aliases b (its capacity ends with it, so an
// append cannot overwrite the CRC). Errors are *CorruptError, matching
// ErrCorrupt. Open never panics on its input.
func (f Format) Open(b []byte) (version uint16, body []byte, err error) {
	f.mustBeValid()
	head := f.headerSize()
	if len(b) < head+crcSize {
		return 0, nil, f.corrupt("is %d bytes, shorter than its frame", len(b))
	}
	if binary.BigEndian.Uint32(b) != f.Magic {
		return 0, nil, f.corrupt("has a bad magic number")
	}
	if f.VersionWidth == Version8 {
		version = uint16(b[magicSize])
	} else {
		version = binary.BigEndian.Uint16(b[magicSize:])
	}
	if version < f.Oldest || version > f.Current {
		return 0, nil, f.corrupt("version %d is unknown", version)
	}
	end := len(b) - crcSize
	if binary.BigEndian.Uint32(b[end:]) != crc32.Checksum(b[:end], castagnoli) {
		return 0, nil, f.corrupt("fails its CRC")
	}
	return version, b[head:end:end], nil
}

func (f Format) headerSize() int { return magicSize + int(f.VersionWidth) }

func (f Format) mustBeValid() {
	switch {
	case f.VersionWidth != Version8 && f.VersionWidth != Version16:
		panic(fmt.Sprintf("framefile: %s has version width %d", f.Name, f.VersionWidth))
	case f.VersionWidth == Version8 && f.Current > 0xff:
		panic(fmt.Sprintf("framefile: %s version %d does not fit one byte", f.Name, f.Current))
	case f.Oldest > f.Current:
		panic(fmt.Sprintf("framefile: %s reads versions %d to %d", f.Name, f.Oldest, f.Current))
	}
}

// ErrCorrupt matches every *CorruptError.
var ErrCorrupt = errors.New("framefile: corrupt file")

// CorruptError reports bytes that are not a whole frame of their format.
// It matches ErrCorrupt.
type CorruptError struct {
	Format string // the Format's Name
	Reason string // what is wrong, e.g. "fails its CRC"
}

func (f Format) corrupt(reason string, args ...any) error {
	return &CorruptError{Format: f.Name, Reason: fmt.Sprintf(reason, args...)}
}

// Error reads as the file kind and what is wrong: "topic registry fails its CRC".
func (e *CorruptError) Error() string { return e.Format + " " + e.Reason }

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
