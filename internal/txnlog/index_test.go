package txnlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIndexRoundTrip(t *testing.T) {
	entries := []Aborted{{7, 2, 8, 5}, {8, 11, 12, 13}}
	var b []byte
	for _, a := range entries {
		b = AppendEntry(b, a)
	}
	require.Len(t, b, 2*EntrySize)
	got, err := ParseIndex(b)
	require.NoError(t, err)
	assert.Equal(t, entries, got)
	got, err = ParseIndex(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestParseIndexRefusesDamage(t *testing.T) {
	good := AppendEntry(AppendEntry(nil, Aborted{7, 2, 8, 5}), Aborted{8, 11, 12, 13})
	version := append([]byte(nil), good...)
	version[EntrySize+1] = 1
	for name, b := range map[string][]byte{
		"a torn entry":     good[:len(good)-1],
		"a version":        version,
		"out of order":     AppendEntry(AppendEntry(nil, Aborted{8, 11, 12, 13}), Aborted{7, 2, 8, 5}),
		"first after last": AppendEntry(nil, Aborted{7, 9, 8, 5}),
		"no producer":      AppendEntry(nil, Aborted{-1, 2, 8, 5}),
	} {
		_, err := ParseIndex(b)
		assert.Error(t, err, name)
	}
}

// FuzzParseIndex: any bytes give entries or an error, never a panic, and
// entries parsed are written back as the same bytes.
func FuzzParseIndex(f *testing.F) {
	f.Add(AppendEntry(AppendEntry(nil, Aborted{7, 2, 8, 5}), Aborted{8, 11, 12, 13}))
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseIndex(b)
		if err != nil {
			return
		}
		var again []byte
		for _, a := range entries {
			again = AppendEntry(again, a)
		}
		assert.Equal(t, len(b), len(again))
		if len(b) > 0 {
			assert.Equal(t, b, again)
		}
	})
}
