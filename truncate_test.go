package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name    string
		offset  int64
		wantEnd int64
	}{
		{"at the end", 60, 60},
		{"past the end", 99, 60},
		{"batch boundary", 30, 30},
		{"inside a batch", 31, 30},
		{"to the start", 0, 0},
		{"inside the first batch", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
				cfg.SegmentBytes = 2048
				cfg.IndexIntervalBytes = 300
				l := mustOpen(t, fs, dir, cfg)
				want := appendN(t, l, 30, 2, 100)
				end, err := l.Truncate(tc.offset)
				require.NoError(t, err)
				assert.Equal(t, tc.wantEnd, end)
				assert.Equal(t, tc.wantEnd, l.EndOffset())
				kept := want[:tc.wantEnd/2]
				assert.ElementsMatch(t, kept, readAll(t, l))

				more := appendN(t, l, 3, 2, 100)
				kept = append(kept[:len(kept):len(kept)], more...)
				assert.Equal(t, kept, readAll(t, l))
				require.NoError(t, l.Close())
				l = mustOpen(t, fs, dir, cfg)
				assert.Equal(t, kept, readAll(t, l), "after reopen")
			})
		})
	}
}

func TestTruncateBelowStart(t *testing.T) {
	l := mustOpen(t, fsx.NewMem(), "/log", LogConfig{})
	appendN(t, l, 5, 2, 10)
	require.NoError(t, l.DeleteRecordsBefore(4))
	_, err := l.Truncate(2)
	require.ErrorIs(t, err, ErrOffsetOutOfRange)
}

// A log reset past its end holds nothing, starts and ends at the new
// offset, takes appends there, and reopens so.
func TestLogResetTo(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		cfg.SegmentBytes = 2048
		l := mustOpen(t, fs, dir, cfg)
		appendN(t, l, 30, 2, 100)
		require.Error(t, l.resetTo(50), "not past the end")
		require.NoError(t, l.resetTo(1000))
		assert.Equal(t, int64(1000), l.StartOffset())
		assert.Equal(t, int64(1000), l.EndOffset())
		_, err := l.Read(nil, 10, 1<<20)
		require.ErrorIs(t, err, ErrOffsetOutOfRange)
		appendN(t, l, 3, 2, 100)
		assert.Equal(t, int64(1006), l.EndOffset())
		require.NoError(t, l.Close())

		reopened := mustOpen(t, fs, dir, cfg)
		assert.Equal(t, int64(1000), reopened.StartOffset())
		assert.Equal(t, int64(1006), reopened.EndOffset())
		assert.Len(t, readAll(t, reopened), 3)
	})
}
