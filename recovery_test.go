package creek

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// editFile rewrites a file of fs with edit.
func editFile(t *testing.T, fs fsx.FS, path string, edit func([]byte) []byte) {
	t.Helper()
	f, err := fs.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	b := make([]byte, size)
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	b = edit(b)
	require.NoError(t, f.Truncate(0))
	_, err = f.WriteAt(b, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

func cutTail(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:len(b)-n] } }

func flipByte(i int) func([]byte) []byte {
	return func(b []byte) []byte {
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x40
		return b
	}
}

func appendJunk(junk ...byte) func([]byte) []byte {
	return func(b []byte) []byte { return append(b, junk...) }
}

func TestRecoveryCutsTornTail(t *testing.T) {
	tests := []struct {
		name string
		tear func([]byte) []byte
		want int // batches left after recovery
	}{
		{"intact", func(b []byte) []byte { return b }, 3},
		{"short header", cutTail(len(testBatch(t, 0, 2, 50, 0)) - 30), 2},
		{"short payload", cutTail(3), 2},
		{"flipped crc byte", flipByte(-5), 2},
		{"zeros appended", appendJunk(make([]byte, 100)...), 3},
		{"garbage appended", appendJunk(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := fsx.NewMem()
			l := mustOpen(t, fs, "/log", LogConfig{})
			want := appendN(t, l, 3, 2, 50)
			require.NoError(t, l.Close())
			// Without a checkpoint, recovery validates the whole segment.
			require.NoError(t, fs.Remove("/log/"+checkpointName))
			editFile(t, fs, segmentPath("/log", 0, logSuffix), tc.tear)

			l = mustOpen(t, fs, "/log", LogConfig{})
			assert.Equal(t, want[:tc.want], readAll(t, l))
			assert.Equal(t, int64(2*tc.want), l.EndOffset())
			more := appendN(t, l, 1, 2, 50)
			assert.Equal(t, append(want[:tc.want:tc.want], more...), readAll(t, l), "appends continue after the cut")
		})
	}
}

func TestCorruptSealedSegment(t *testing.T) {
	fs := fsx.NewMem()
	cfg := LogConfig{SegmentBytes: 1024}
	l := mustOpen(t, fs, "/log", cfg)
	appendN(t, l, 20, 2, 100)
	require.Greater(t, l.Stats().Segments, 3)
	require.NoError(t, l.Close())
	editFile(t, fs, segmentPath("/log", 0, logSuffix), flipByte(100))

	// Trusted by the checkpoint: the open succeeds and the read reports it.
	l = mustOpen(t, fs, "/log", cfg)
	_, err := l.Read(nil, 0, 1<<20)
	var corrupt *CorruptError
	require.ErrorAs(t, err, &corrupt)
	assert.Equal(t, segmentPath("/log", 0, logSuffix), corrupt.Path)
	assert.Equal(t, int64(0), corrupt.Position)
	require.ErrorIs(t, err, ErrCorrupt)
	require.NoError(t, l.Close())

	// Without the checkpoint, recovery validates it and refuses to skip it.
	require.NoError(t, fs.Remove("/log/"+checkpointName))
	_, err = openLog(fs, "/log", LogConfig{SegmentBytes: 1024, Logger: discardLogger()})
	require.ErrorAs(t, err, &corrupt)
	assert.Equal(t, segmentPath("/log", 0, logSuffix), corrupt.Path)
}

func TestIndexRebuild(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, fs fsx.FS, path string)
	}{
		{"missing", func(t *testing.T, fs fsx.FS, path string) { require.NoError(t, fs.Remove(path)) }},
		{"torn entry", func(t *testing.T, fs fsx.FS, path string) { editFile(t, fs, path, cutTail(3)) }},
		{"out of order", func(t *testing.T, fs fsx.FS, path string) {
			editFile(t, fs, path, func(b []byte) []byte { return append(b, b[:12]...) })
		}},
		{"empty", func(t *testing.T, fs fsx.FS, path string) { editFile(t, fs, path, func([]byte) []byte { return nil }) }},
	}
	for _, suffix := range []string{indexSuffix, timeIndexSuffix} {
		for _, tc := range tests {
			t.Run(suffix+"/"+tc.name, func(t *testing.T) {
				fs := fsx.NewMem()
				cfg := LogConfig{SegmentBytes: 8192, IndexIntervalBytes: 256}
				l := mustOpen(t, fs, "/log", cfg)
				want := appendN(t, l, 60, 2, 100)
				require.NoError(t, l.Close())
				sealed := segmentPath("/log", 0, suffix)
				active := segmentPath("/log", l.segments0Base(t, fs), suffix)
				before := [][]byte{mustReadFile(t, fs, sealed), mustReadFile(t, fs, active)}
				tc.damage(t, fs, sealed)
				tc.damage(t, fs, active)

				l = mustOpen(t, fs, "/log", cfg)
				assert.Equal(t, want, readAll(t, l))
				require.NoError(t, l.Close())
				assert.Equal(t, before, [][]byte{mustReadFile(t, fs, sealed), mustReadFile(t, fs, active)},
					"a rebuilt index is the index the appender wrote")
			})
		}
	}
}

// segments0Base returns the base of the newest segment in fs's /log.
func (l *Log) segments0Base(t *testing.T, fs fsx.FS) int64 {
	names, err := fs.ReadDir("/log")
	require.NoError(t, err)
	var last int64
	for _, n := range names {
		if base, ok := parseSegmentName(n, logSuffix); ok {
			last = base
		}
	}
	return last
}

func mustReadFile(t *testing.T, fs fsx.FS, path string) []byte {
	t.Helper()
	b, err := framefile.ReadFile(fs, path, 1<<30)
	require.NoError(t, err)
	return b
}

func TestDamagedCheckpointIsIgnored(t *testing.T) {
	fs := fsx.NewMem()
	l := mustOpen(t, fs, "/log", LogConfig{})
	want := appendN(t, l, 5, 1, 10)
	require.NoError(t, l.Close())
	editFile(t, fs, "/log/"+checkpointName, flipByte(8))
	l = mustOpen(t, fs, "/log", LogConfig{})
	assert.Equal(t, want, readAll(t, l))
}

func TestOrphanFilesRemoved(t *testing.T) {
	fs := fsx.NewMem()
	l := mustOpen(t, fs, "/log", LogConfig{})
	appendN(t, l, 1, 1, 10)
	require.NoError(t, l.Close())
	for _, name := range []string{"00000000000000000999.index", "00000000000000000999.timeindex",
		"00000000000000000999.txnindex", checkpointName + ".tmp"} {
		f, err := fsx.Create(fs, filepath.Join("/log", name))
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	mustOpen(t, fs, "/log", LogConfig{})
	names, err := fs.ReadDir("/log")
	require.NoError(t, err)
	assert.Equal(t, []string{"00000000000000000000.index", "00000000000000000000.log",
		"00000000000000000000.timeindex", "00000000000000000000.txnindex", checkpointName}, names)
}

// TestCrashKeepsSyncedAppends crashes a memory file system after every
// append and checks that a log reopened on the survivor holds every batch
// acknowledged before the crash and nothing corrupt.
func TestCrashKeepsSyncedAppends(t *testing.T) {
	fs := fsx.NewMem()
	cfg := LogConfig{SegmentBytes: 2048, IndexIntervalBytes: 256}
	l := mustOpen(t, fs, "/log", cfg)
	var acked [][]byte
	for i := range 40 {
		acked = append(acked, appendN(t, l, 1, 1+i%3, 80)...)
		crashed := fs.CrashClone()
		l2 := mustOpen(t, crashed, "/log", cfg)
		assert.Equal(t, acked, readAll(t, l2), "after append %d", i)
		require.NoError(t, l2.Close())
	}
}

func TestRecoveryCutsUnflushedSegment(t *testing.T) {
	fs := fsx.NewMem()
	cfg := LogConfig{SegmentBytes: 1024, Sync: SyncNever}
	l := mustOpen(t, fs, "/log", cfg)
	want := appendN(t, l, 20, 2, 100)
	require.NoError(t, l.Close())
	bases, err := l.segmentBases()
	require.NoError(t, err)
	require.Greater(t, len(bases), 3)

	// The recovery point says only the first segment was flushed, and the
	// second has a torn tail: everything from the tear on was never synced.
	require.NoError(t, writeCheckpoint(fs, "/log", checkpoint{recoveryPoint: bases[1]}))
	editFile(t, fs, segmentPath("/log", bases[1], logSuffix), cutTail(10))

	l = mustOpen(t, fs, "/log", cfg)
	got := readAll(t, l)
	require.NotEmpty(t, got)
	assert.Equal(t, want[:len(got)], got, "a prefix of what was written survives")
	assert.Less(t, l.EndOffset(), bases[2], "the cut is in the second segment")
	assert.Equal(t, 2, l.Stats().Segments, "segments after the tear are dropped")
	more := appendN(t, l, 1, 2, 100)
	assert.Equal(t, append(got, more...), readAll(t, l))
}

// TestCrashUnderSyncNever crashes after every append of a log that never
// syncs on its own and rolls often (so background flushes are in flight):
// recovery must always open it and find a contiguous prefix of what was
// appended.
func TestCrashUnderSyncNever(t *testing.T) {
	fs := fsx.NewMem()
	cfg := LogConfig{SegmentBytes: 1024, IndexIntervalBytes: 200, Sync: SyncNever}
	l := mustOpen(t, fs, "/log", cfg)
	var written [][]byte
	for i := range 60 {
		written = append(written, appendN(t, l, 1, 1+i%3, 80)...)
		survivor := mustOpen(t, fs.CrashClone(), "/log", cfg)
		got := readAll(t, survivor)
		require.LessOrEqual(t, len(got), len(written))
		assert.ElementsMatch(t, written[:len(got)], got, "after append %d", i)
		assert.Equal(t, lastOffsetIn(bytes.Join(got, nil))+1, survivor.EndOffset(), "no hole at the end")
		require.NoError(t, survivor.Close())
	}
}
