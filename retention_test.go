package creek

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func (c *fakeClock) set(ms int64) *fakeClock { c.ms.Store(ms); return c }

func TestDeleteRecordsBefore(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		cfg.SegmentBytes = 2048
		l := mustOpen(t, fs, dir, cfg)
		want := appendN(t, l, 40, 2, 100)
		segments := l.Stats().Segments

		require.NoError(t, l.DeleteRecordsBefore(41))
		assert.Equal(t, int64(41), l.StartOffset())
		assert.Less(t, l.Stats().Segments, segments, "whole segments below the start go")
		_, err := l.Read(nil, 40, 100)
		require.ErrorIs(t, err, ErrOffsetOutOfRange)
		got, err := l.Read(nil, 41, 1)
		require.NoError(t, err)
		assert.Equal(t, want[20], got, "the batch holding the start offset is still read whole")

		require.NoError(t, l.DeleteRecordsBefore(3), "moving the start down is a no-op")
		assert.Equal(t, int64(41), l.StartOffset())
		require.ErrorIs(t, l.DeleteRecordsBefore(81), ErrOffsetOutOfRange)

		require.NoError(t, l.Close())
		l = mustOpen(t, fs, dir, cfg)
		assert.Equal(t, int64(41), l.StartOffset(), "the start offset survives a reopen")

		require.NoError(t, l.DeleteRecordsBefore(80))
		assert.Equal(t, 1, l.Stats().Segments)
		assert.Empty(t, readAll(t, l))
		require.NoError(t, l.Close())
		l = mustOpen(t, fs, dir, cfg)
		assert.Equal(t, int64(80), l.StartOffset())
		assert.Equal(t, int64(80), l.EndOffset(), "offsets are never reused")
	})
}

func TestRetentionByTime(t *testing.T) {
	clock := new(fakeClock).set(1_000)
	cfg := LogConfig{SegmentBytes: 2048, Retention: time.Hour, Logger: discardLogger()}
	l, err := openLogAt(fsx.NewMem(), "/log", cfg, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	appendN(t, l, 30, 2, 100) // timestamps 1000..1059 ms

	n, err := l.EnforceRetention()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is an hour old yet")

	clock.set(1_030 + time.Hour.Milliseconds())
	n, err = l.EnforceRetention()
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.Positive(t, l.StartOffset())
	assert.Less(t, l.StartOffset(), int64(31), "segments with newer records stay")

	clock.advance(time.Hour)
	_, err = l.EnforceRetention()
	require.NoError(t, err)
	assert.Equal(t, int64(60), l.StartOffset(), "the expired active segment is rolled and deleted")
	assert.Equal(t, int64(60), l.EndOffset())
}

func TestRetentionBySize(t *testing.T) {
	cfg := LogConfig{SegmentBytes: 2048, RetentionBytes: 5000}
	l := mustOpen(t, fsx.NewMem(), "/log", cfg)
	appendN(t, l, 40, 2, 100)
	_, err := l.EnforceRetention()
	require.NoError(t, err)
	var total int64
	l.segsMu.RLock()
	for _, s := range l.segments {
		total += s.size.Load()
	}
	oldest := l.segments[0].size.Load()
	l.segsMu.RUnlock()
	assert.GreaterOrEqual(t, total, cfg.RetentionBytes-oldest)
	assert.Less(t, total-oldest, cfg.RetentionBytes, "deleting one more segment would go below the limit")
	assert.Equal(t, l.segmentsBase(), l.StartOffset())
}

func (l *Log) segmentsBase() int64 {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	return l.segments[0].base
}

func TestCompactPolicyKeepsSegments(t *testing.T) {
	clock := new(fakeClock).set(time.Now().UnixMilli())
	cfg := LogConfig{SegmentBytes: 2048, Retention: time.Millisecond, Cleanup: CleanupCompact, Logger: discardLogger()}
	l, err := openLogAt(fsx.NewMem(), "/log", cfg, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	appendN(t, l, 10, 2, 100)
	n, err := l.EnforceRetention()
	require.NoError(t, err)
	assert.Zero(t, n)
}
