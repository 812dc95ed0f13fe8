package epochs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden checkpoint, the bytes on disk, is in the root package's
// golden_test.go.

func TestMarshalCheckpoint(t *testing.T) {
	tests := []struct {
		name string
		list List
		want string
	}{
		{"empty", List{}, "0\n0\n"},
		{"two", List{entries: []Entry{{0, 0}, {3, 100}}}, "0\n2\n0 0\n3 100\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(tc.list.MarshalCheckpoint()))
		})
	}
}

func TestUnmarshalCheckpoint(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []Entry
		wantErr bool
	}{
		{"empty list", "0\n0\n", []Entry{}, false},
		{"two", "0\n2\n0 0\n3 100\n", []Entry{{0, 0}, {3, 100}}, false},
		{"no final newline", "0\n1\n3 100", []Entry{{3, 100}}, false},
		{"two epochs at one offset", "0\n2\n3 100\n4 100\n", []Entry{{3, 100}, {4, 100}}, false},
		{"nothing", "", nil, true},
		{"version only", "0\n", nil, true},
		{"unknown version", "1\n0\n", nil, true},
		{"count too big", "0\n2\n0 0\n", nil, true},
		{"count too small", "0\n0\n0 0\n", nil, true},
		{"negative count", "0\n-1\n", nil, true},
		{"count past the bound", "0\n65537\n", nil, true},
		{"count not a number", "0\nx\n", nil, true},
		{"no space", "0\n1\n3100\n", nil, true},
		{"epoch past int32", "0\n1\n2147483648 0\n", nil, true},
		{"negative epoch", "0\n1\n-1 0\n", nil, true},
		{"negative start", "0\n1\n0 -1\n", nil, true},
		{"epoch repeated", "0\n2\n1 5\n1 9\n", nil, true},
		{"epoch goes back", "0\n2\n1 5\n0 9\n", nil, true},
		{"start goes back", "0\n2\n1 9\n2 5\n", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := UnmarshalCheckpoint([]byte(tc.text))
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, l.Entries())
		})
	}
}

// FuzzEpochCheckpoint: what decodes re-encodes to the same list.
func FuzzEpochCheckpoint(f *testing.F) {
	l := List{entries: []Entry{{0, 0}, {3, 100}}}
	f.Add(l.MarshalCheckpoint())
	f.Add([]byte("0\n0\n"))
	f.Add([]byte("0\n2\n1 5\n0 9\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := UnmarshalCheckpoint(b)
		if err != nil {
			return
		}
		again, err := UnmarshalCheckpoint(list.MarshalCheckpoint())
		require.NoError(t, err)
		require.Equal(t, list, again)
	})
}
