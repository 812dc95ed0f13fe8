package framefile

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// memDir returns a file system in memory holding an empty directory, /d.
func memDir(t *testing.T) *fsx.Mem {
	t.Helper()
	mem := fsx.NewMem()
	require.NoError(t, mem.MkdirAll("/d", 0o755))
	return mem
}

func TestReadFile(t *testing.T) {
	fs := memDir(t)
	frame := wide.Seal([]byte("body"))
	require.NoError(t, WriteAtomic(fs, "/d", "f", frame))
	tests := []struct {
		name    string
		path    string
		limit   int64
		missing bool // the error matches os.ErrNotExist
		fail    bool
	}{
		{"at the limit", "/d/f", int64(len(frame)), false, false},
		{"under the limit", "/d/f", 1 << 20, false, false},
		{"oversize file", "/d/f", int64(len(frame)) - 1, false, true},
		{"missing file", "/d/none", 1 << 20, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadFile(fs, tc.path, tc.limit)
			if tc.fail {
				require.Error(t, err)
				assert.Equal(t, tc.missing, errors.Is(err, os.ErrNotExist))
				assert.Nil(t, b)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, frame, b)
		})
	}
}

func TestWriteAtomicReplaces(t *testing.T) {
	fs := memDir(t)
	require.NoError(t, WriteAtomic(fs, "/d", "f", []byte("old")))
	require.NoError(t, WriteAtomic(fs, "/d", "f", []byte("new")))
	b, err := ReadFile(fs, "/d/f", 16)
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), b)
	names, err := fs.ReadDir("/d")
	require.NoError(t, err)
	assert.Len(t, names, 1, "no temporary file is left behind")
}

// TestWriteAtomicFailures fails each operation of a replacement in turn:
// every failure is reported, and the file holds the old bytes or the new.
func TestWriteAtomicFailures(t *testing.T) {
	for i := int64(0); ; i++ {
		mem := memDir(t)
		require.NoError(t, WriteAtomic(mem, "/d", "f", []byte("old")))
		err := WriteAtomic(fsx.Inject(mem, fsx.FailAt(i)), "/d", "f", []byte("new"))
		b, rerr := ReadFile(mem, "/d/f", 16)
		require.NoError(t, rerr)
		if err == nil {
			assert.Equal(t, []byte("new"), b)
			return
		}
		require.ErrorIs(t, err, fsx.ErrInjected, "op %d", i)
		assert.Contains(t, []string{"old", "new"}, string(b), "op %d", i)
	}
}
