package creek

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// lines is a log handler's output, safe for concurrent use.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed by the next Write; made by waitFor
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		close(l.written)
		l.written = nil
	}
	return l.buf.Write(p)
}

// waitFor waits until substr is written, or ctx ends, and reports
// whether it was: for lines a node logs from another goroutine after
// what the test waits on.
func (l *lines) waitFor(ctx context.Context, substr string) bool {
	for {
		l.mu.Lock()
		if strings.Contains(l.buf.String(), substr) {
			l.mu.Unlock()
			return true
		}
		if l.written == nil {
			l.written = make(chan struct{})
		}
		written := l.written
		l.mu.Unlock()
		select {
		case <-written:
		case <-ctx.Done():
			return false
		}
	}
}

func (l *lines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), substr)
}

// TestDamagedSealedSegmentIsReported damages the second batch of a
// sealed segment the checkpoint trusts, and so recovery does not read:
// its record bytes, its length, its base offset (which the CRC does not
// cover) up or down. Every read of the damaged batch fails with a
// *CorruptError naming the file and the batch's position, logged once
// however often it is read; the batch before it and the segments after it
// still read. Before, a damaged length answered a short batch, and a
// damaged base offset served the batch at the wrong offsets, or nothing
// at all for ever, and nothing was logged.
func TestDamagedSealedSegmentIsReported(t *testing.T) {
	const perBatch = 2
	damage := map[string]func(b []byte, at int){
		"record bytes":       func(b []byte, at int) { b[at+100] ^= 0x40 },
		"length up":          func(b []byte, at int) { b[at+10] ^= 0x01 },
		"length down":        func(b []byte, at int) { b[at+11] ^= 0x08 },
		"base offset up":     func(b []byte, at int) { b[at+7] ^= 0x40 },
		"base offset down":   func(b []byte, at int) { b[at+7] ^= 0x02 },
		"base offset far up": func(b []byte, at int) { b[at+2] ^= 0x01 },
	}
	for name, edit := range damage {
		t.Run(name, func(t *testing.T) {
			fs := fsx.NewMem()
			var out lines
			cfg := LogConfig{SegmentBytes: 1024, Logger: slog.New(slog.NewTextHandler(&out, nil))}
			l := mustOpen(t, fs, "/log", cfg)
			batches := appendN(t, l, 20, perBatch, 100)
			require.Greater(t, l.Stats().Segments, 3)
			require.NoError(t, l.Close())
			at := len(batches[0])
			require.Equal(t, int64(perBatch), int64(binary.BigEndian.Uint64(batches[1])), "the second batch starts at offset 2")
			editFile(t, fs, segmentPath("/log", 0, logSuffix), func(b []byte) []byte { edit(b, at); return b })

			l = mustOpen(t, fs, "/log", cfg)
			for range 3 {
				got, err := l.Read(nil, perBatch, 1<<20)
				var corrupt *CorruptError
				require.ErrorAs(t, err, &corrupt, "read %d bytes", len(got))
				assert.Equal(t, segmentPath("/log", 0, logSuffix), corrupt.Path)
				assert.Equal(t, int64(at), corrupt.Position)
			}
			assert.Equal(t, 1, out.count("corrupt batch in the log"), "logged once")
			assert.Equal(t, 1, out.count("file=/log/00000000000000000000.log"))

			got, err := l.Read(nil, 0, len(batches[0]))
			require.NoError(t, err)
			assert.Equal(t, batches[0], got, "the batch before the damage")
			second := l.segments[1].base
			got, err = l.Read(nil, second, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, second, int64(binary.BigEndian.Uint64(got)), "the next segment")
		})
	}
}

// TestFetchStopsBeforeADamagedBatch: a fetch whose range reaches a
// damaged batch returns the sound batches before it, and the next fetch,
// at the damaged batch, gets the *CorruptError. Before, the error took the
// whole response, and the records before the damage could not be read.
func TestFetchStopsBeforeADamagedBatch(t *testing.T) {
	fs := fsx.NewMem()
	cfg := Config{Logger: discardLogger()}
	n, err := openNode(fs, "/n", cfg, time.Now)
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Configs: map[string]string{ConfigSegmentBytes: "4096"}}))
	var batches [][]byte
	for range 20 {
		b := testBatch(t, 0, 2, 100, time.Now().UnixMilli()) // an old timestamp would roll the segment (segment.ms)
		_, err := n.ProduceBatch(t.Context(), "t", 0, append([]byte(nil), b...))
		require.NoError(t, err)
		batches = append(batches, b)
	}
	require.NoError(t, n.Close())
	at := 3 * len(batches[0]) // the fourth batch: offsets 6 and 7
	editFile(t, fs, segmentPath(partitionDir("/n", "t", 0), 0, logSuffix), func(b []byte) []byte { b[at+100] ^= 0x40; return b })

	n, err = openNode(fs, "/n", cfg, time.Now)
	require.NoError(t, err)
	defer n.Close()
	got, err := n.FetchBatches(t.Context(), nil, "t", 0, 0, FetchOptions{MaxBytes: 1 << 20})
	require.NoError(t, err)
	assert.Len(t, got, at, "the three batches before the damage")
	_, err = n.FetchBatches(t.Context(), nil, "t", 0, 6, FetchOptions{MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrCorrupt)
}
