package framefile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzOpen: Open never panics, whatever it is given; what it opens seals
// back to the same bytes; and every body sealed opens to itself.
func FuzzOpen(f *testing.F) {
	f.Add(wide.Seal([]byte(`{"topics":[]}`)))
	f.Add(narrow.Seal([]byte("stable")))
	f.Add(wide.Seal(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, format := range []Format{wide, narrow} {
			if version, body, err := format.Open(b); err == nil {
				format.Current = version
				assert.Equal(t, b, format.Seal(body), "what opens seals to the same bytes")
			} else {
				require.ErrorIs(t, err, ErrCorrupt)
			}
			version, body, err := format.Open(format.Seal(b))
			require.NoError(t, err)
			assert.Equal(t, format.Current, version)
			assert.Equal(t, b, body, "what seals opens to the same body")
		}
	})
}
