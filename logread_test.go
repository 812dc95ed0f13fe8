package creek

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// TestFetchReadsItsWindowOnce: a fetch whose window holds one large batch
// and part of the next reads the window and no more. It used to read the
// next batch whole, past the window, only to drop it, so that a log of
// batches near the window's size was read twice over.
func TestFetchReadsItsWindowOnce(t *testing.T) {
	var logBytes atomic.Int64
	fs := fsx.Inject(fsx.NewMem(), fsx.InjectorFunc(func(op fsx.Op) fsx.Fault {
		if op.Kind == fsx.OpRead && strings.HasSuffix(op.Path, logSuffix) {
			logBytes.Add(int64(op.Len))
		}
		return fsx.Fault{}
	}))
	n, err := openNode(fs, "/n", Config{Logger: discardLogger()}, (&fakeClock{}).now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	const window = 1 << 20
	value := bytes.Repeat([]byte{'v'}, 600<<10)
	var sizes []int
	for range 3 {
		b, err := batch.Build(batch.BuildOptions{BaseTimestamp: 1}, batch.Record{Value: value})
		require.NoError(t, err)
		_, err = n.ProduceBatch(t.Context(), "t", 0, b)
		require.NoError(t, err)
		sizes = append(sizes, len(b))
	}

	for _, tc := range []struct {
		name   string
		offset int64
		max    int
		want   int // batches
	}{
		{"one batch and part of the next", 0, window, 1},
		{"two whole batches", 0, sizes[0] + sizes[1], 2},
		{"a first batch larger than the window", 1, 100 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logBytes.Store(0)
			got, err := n.FetchBatches(t.Context(), nil, "t", 0, tc.offset, FetchOptions{MaxBytes: tc.max})
			require.NoError(t, err)
			var want int
			for _, size := range sizes[tc.offset : tc.offset+int64(tc.want)] {
				want += size
			}
			require.Len(t, got, want)
			// The window, or the first batch, and find's reads of headers
			// (an index interval each).
			require.LessOrEqual(t, logBytes.Load(), int64(max(tc.max, want)+2*findChunk))
		})
	}
}
