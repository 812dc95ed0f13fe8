package creek

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// FuzzRecovery opens a log whose newest segment ends in arbitrary bytes and
// whose index files hold arbitrary bytes. Recovery must not panic, must keep
// every batch written before the garbage, must return only batches that pass
// their CRC, and must take appends afterwards.
func FuzzRecovery(f *testing.F) {
	good := testBatch(f, 0, 3, 20, 7)
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add(good, []byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte{})
	f.Add(good[:40], []byte{0, 0, 0, 1}, make([]byte, 12))
	f.Add(append(append([]byte(nil), good...), 0xff), make([]byte, 16), make([]byte, 24))
	f.Fuzz(func(t *testing.T, tail, index, timeIndex []byte) {
		fs := fsx.NewMem()
		cfg := LogConfig{IndexIntervalBytes: 64, Logger: discardLogger()}
		l, err := openLog(fs, "/log", cfg)
		require.NoError(t, err)
		want := appendN(t, l, 4, 2, 30)
		require.NoError(t, l.Close())
		require.NoError(t, fs.Remove("/log/"+checkpointName)) // recovery validates everything
		for path, extra := range map[string][]byte{
			segmentPath("/log", 0, logSuffix):       tail,
			segmentPath("/log", 0, indexSuffix):     index,
			segmentPath("/log", 0, timeIndexSuffix): timeIndex,
		} {
			file, err := fs.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			size, err := file.Size()
			require.NoError(t, err)
			if path != segmentPath("/log", 0, logSuffix) {
				size = 0 // replace index files whole
				require.NoError(t, file.Truncate(0))
			}
			_, err = file.WriteAt(extra, size)
			require.NoError(t, err)
			require.NoError(t, file.Close())
		}

		l, err = openLog(fs, "/log", cfg)
		require.NoError(t, err)
		defer l.Close()
		got := readAll(t, l) // checks every batch with batch.Validate
		require.GreaterOrEqual(t, len(got), len(want))
		require.Equal(t, want, got[:len(want)], "batches before the garbage survive")
		for _, b := range got {
			for _, err := range batch.Records(b) {
				require.NoError(t, err)
			}
		}
		_, err = l.Append(testBatch(t, 0, 1, 5, 1))
		require.NoError(t, err)
	})
}
