package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

func TestCheckpointRoundTrip(t *testing.T) {
	fs := fsx.NewMem()
	require.NoError(t, fs.MkdirAll("/log", 0o755))
	want := checkpoint{recoveryPoint: 1 << 40, logStartOffset: 17, cleanedOffset: 9}
	require.NoError(t, writeCheckpoint(fs, "/log", want))
	got, err := readCheckpoint(fs, "/log")
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = readCheckpoint(fs, "/elsewhere")
	require.ErrorIs(t, err, errNoCheckpoint)
}

func TestCheckpointRejectsDamage(t *testing.T) {
	good := checkpoint{recoveryPoint: 5, logStartOffset: 2, cleanedOffset: 1}.marshal()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:10]},
		{"long", append(append([]byte(nil), good...), 0)},
		{"bad magic", flipByte(0)(append([]byte(nil), good...))},
		{"bad version", flipByte(5)(append([]byte(nil), good...))},
		{"flipped offset", flipByte(12)(append([]byte(nil), good...))},
		{"flipped crc", flipByte(-1)(append([]byte(nil), good...))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unmarshalCheckpoint(tc.b)
			require.Error(t, err)
		})
	}
}

func FuzzCheckpoint(f *testing.F) {
	f.Add(checkpoint{recoveryPoint: 5, logStartOffset: 2, cleanedOffset: 1}.marshal())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := unmarshalCheckpoint(b)
		if err != nil {
			return
		}
		assert.Equal(t, b, c.marshal(), "what decodes re-encodes to the same bytes")
	})
}
