package creek

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// lines is a log handler's output, safe for concurrent use.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
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
