package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

func TestOffsetForTime(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		cfg.SegmentBytes = 2048
		cfg.IndexIntervalBytes = 256
		l := mustOpen(t, fs, dir, cfg)
		// Batch i holds offsets 3i..3i+2 with timestamps 100i, 100i+1, 100i+2,
		// except that batch 10 is stamped far in the past.
		for i := range 30 {
			ts := int64(100 * i)
			if i == 10 {
				ts = 5
			}
			_, err := l.Append(testBatch(t, 3*i, 3, 100, ts))
			require.NoError(t, err)
		}
		tests := []struct {
			ts   int64
			want int64
			ok   bool
		}{
			{0, 0, true},
			{1, 1, true},
			{3, 3, true},    // the first record of batch 1
			{101, 4, true},  // inside batch 1
			{102, 5, true},  // the last record of batch 1
			{103, 6, true},  // batch 2
			{950, 33, true}, // batch 11: batch 10 is older
			{2902, 89, true},
			{2903, -1, false},
		}
		for _, tc := range tests {
			got, ok, err := l.OffsetForTime(tc.ts)
			require.NoError(t, err)
			assert.Equal(t, tc.ok, ok, "ts %d", tc.ts)
			assert.Equal(t, tc.want, got, "ts %d", tc.ts)
		}

		require.NoError(t, l.DeleteRecordsBefore(4))
		got, _, err := l.OffsetForTime(0)
		require.NoError(t, err)
		assert.Equal(t, int64(4), got, "never below the log start offset")

		require.NoError(t, l.Close())
		l = mustOpen(t, fs, dir, cfg)
		got, ok, err := l.OffsetForTime(950)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, int64(33), got, "after a reopen")
	})
}

func TestOffsetForTimeLogAppendTime(t *testing.T) {
	l := mustOpen(t, fsx.NewMem(), "/log", LogConfig{})
	b := testBatch(t, 0, 3, 10, 100)
	batch.SetLogAppendTime(b, 500)
	_, err := l.Append(b)
	require.NoError(t, err)
	got, ok, err := l.OffsetForTime(400)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(0), got, "every record of the batch has its log append time")
}
