package framefile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	wide   = Format{Name: "wide file", Magic: 0x63726b78, VersionWidth: Version16, Oldest: 1, Current: 2}
	narrow = Format{Name: "narrow file", Magic: 0x63726b79, VersionWidth: Version8, Oldest: 1, Current: 1}
)

// TestSealLayout pins the layout byte for byte in both widths; the CRCs
// were computed apart from Go's hash/crc32, by a bitwise CRC-32C.
func TestSealLayout(t *testing.T) {
	assert.Equal(t, []byte{'c', 'r', 'k', 'x', 0, 2, 'h', 'i', 0xb9, 0xb8, 0x6b, 0xbc}, wide.Seal([]byte("hi")))
	assert.Equal(t, []byte{'c', 'r', 'k', 'y', 1, 'h', 'i', 0x6a, 0x51, 0x2d, 0x94}, narrow.Seal([]byte("hi")))
	assert.Equal(t, 12, wide.Size(2))
	assert.Equal(t, 11, narrow.Size(2))
}

func TestOpen(t *testing.T) {
	body := []byte("a body of some length")
	tests := []struct {
		name    string
		format  Format
		tear    func(frame []byte) []byte
		version uint16
		err     string // empty: the frame opens
	}{
		{"good frame", wide, keep, 2, ""},
		{"good narrow frame", narrow, keep, 1, ""},
		{"empty body", wide, func([]byte) []byte { return wide.Seal(nil) }, 2, ""},
		{"older version", wide, withVersion(wide, 1), 1, ""},
		{"empty", wide, func([]byte) []byte { return nil }, 0, "wide file is 0 bytes, shorter than its frame"},
		{"truncated to the header", wide, cut(6), 0, "wide file is 6 bytes, shorter than its frame"},
		{"truncated narrow", narrow, cut(8), 0, "narrow file is 8 bytes, shorter than its frame"},
		{"truncated body", wide, cut(12), 0, "wide file fails its CRC"},
		{"bad magic", wide, flip(0), 0, "wide file has a bad magic number"},
		{"another format's magic", narrow, func([]byte) []byte { return wide.Seal(body) }, 0, "narrow file has a bad magic number"},
		{"unknown version", wide, withVersion(wide, 3), 0, "wide file version 3 is unknown"},
		{"version too old", wide, withVersion(wide, 0), 0, "wide file version 0 is unknown"},
		{"unknown narrow version", narrow, flip(4), 0, "narrow file version 17 is unknown"},
		{"flipped crc byte", wide, flip(-1), 0, "wide file fails its CRC"},
		{"flipped body byte", wide, flip(8), 0, "wide file fails its CRC"},
		{"extra byte", wide, func(b []byte) []byte { return append(b, 0) }, 0, "wide file fails its CRC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := tc.tear(tc.format.Seal(body))
			version, got, err := tc.format.Open(frame)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrCorrupt)
				var ce *CorruptError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.format.Name, ce.Format)
				assert.Equal(t, tc.err, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.version, version)
			assert.Equal(t, frame[tc.format.headerSize():len(frame)-crcSize], got)
		})
	}
}

func TestOpenBodyCannotOverwriteCRC(t *testing.T) {
	frame := wide.Seal([]byte("abc"))
	_, body, err := wide.Open(frame)
	require.NoError(t, err)
	_ = append(body, 'x')
	_, _, err = wide.Open(frame)
	assert.NoError(t, err, "appending to the body copies it")
}

func TestMalformedFormatPanics(t *testing.T) {
	for _, f := range []Format{
		{Name: "no width", Current: 1},
		{Name: "too wide", VersionWidth: Version8, Current: 256},
		{Name: "backwards", VersionWidth: Version16, Oldest: 3, Current: 2},
	} {
		assert.Panics(t, func() { f.Seal(nil) }, f.Name)
	}
}

func keep(b []byte) []byte { return b }

func cut(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:n] } }

// flip flips a bit of the byte at i, counted from the end when negative.
func flip(i int) func([]byte) []byte {
	return func(b []byte) []byte { b[(i+len(b))%len(b)] ^= 0x10; return b }
}

// withVersion re-frames a frame's body under another version of f.
func withVersion(f Format, version uint16) func([]byte) []byte {
	return func(b []byte) []byte {
		f.Current, f.Oldest = version, min(f.Oldest, version)
		return f.Seal(b[f.headerSize() : len(b)-crcSize])
	}
}
