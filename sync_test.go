package creek

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

func TestSyncPeriodicallyByInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := fsx.NewMem()
		l := mustOpen(t, mem, "/log", LogConfig{Sync: SyncPeriodically, SyncInterval: time.Second})
		want := appendN(t, l, 3, 1, 10)
		assert.Zero(t, l.Stats().Syncs, "appends return before any sync")
		assert.Empty(t, readAllOn(t, mem.CrashClone()), "nothing is durable yet")

		time.Sleep(time.Second) // the bubble's clock: no real waiting
		synctest.Wait()
		assert.Equal(t, int64(1), l.Stats().Syncs, "one sync per interval")
		assert.Equal(t, want, readAllOn(t, mem.CrashClone()), "after the interval everything is durable")

		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Equal(t, int64(1), l.Stats().Syncs, "nothing new, no sync")
	})
}

func TestSyncPeriodicallyByBytes(t *testing.T) {
	mem := fsx.NewMem()
	l := mustOpen(t, mem, "/log", LogConfig{Sync: SyncPeriodically, SyncInterval: time.Hour, SyncBytes: 1000})
	batches := appendN(t, l, 5, 1, 100) // 172 bytes each: 860 in all, under the threshold
	assert.Zero(t, l.Stats().Syncs)
	require.Len(t, batches[0], 172)
	appendN(t, l, 1, 1, 100) // 1032: the append that crosses it syncs
	assert.Equal(t, int64(1), l.Stats().Syncs)
	assert.Len(t, readAllOn(t, mem.CrashClone()), 6, "durable up to the batch that crossed the threshold")
}

func TestSyncNever(t *testing.T) {
	mem := fsx.NewMem()
	l := mustOpen(t, mem, "/log", LogConfig{Sync: SyncNever})
	appendN(t, l, 3, 1, 100)
	assert.Zero(t, l.Stats().Syncs)
	require.NoError(t, l.Sync())
	assert.Equal(t, int64(1), l.Stats().Syncs, "Sync syncs whatever the policy")
	assert.Len(t, readAllOn(t, mem.CrashClone()), 3)
}

func TestRollBySegmentAge(t *testing.T) {
	clock := new(fakeClock).set(10_000)
	l, err := openLogAt(fsx.NewMem(), "/log", LogConfig{SegmentAge: time.Minute, Logger: discardLogger()}, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	stamp := func() int64 { return clock.now().UnixMilli() }
	_, err = l.Append(testBatch(t, 0, 1, 10, stamp()))
	require.NoError(t, err)
	clock.advance(59 * time.Second)
	_, err = l.Append(testBatch(t, 1, 1, 10, stamp()))
	require.NoError(t, err)
	assert.Equal(t, 1, l.Stats().Segments, "younger than SegmentAge")
	clock.advance(time.Second)
	_, err = l.Append(testBatch(t, 2, 1, 10, stamp()))
	require.NoError(t, err)
	assert.Equal(t, 2, l.Stats().Segments, "the first batch is SegmentAge old: roll")
}

// readAllOn opens the log in fs's /log and returns every batch in it.
func readAllOn(t *testing.T, fs fsx.FS) [][]byte {
	t.Helper()
	l, err := openLog(fs, "/log", LogConfig{Logger: discardLogger()})
	require.NoError(t, err)
	defer l.Close()
	return readAll(t, l)
}
