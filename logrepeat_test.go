package creek

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRepeatedLogLinesAreLimited: within any second a message is logged at
// most maxRepeatsPerSecond times, whatever the window; the next line
// written says how many were dropped. A follower that could not continue
// once logged one error 4,000 times a second.
func TestRepeatedLogLinesAreLimited(t *testing.T) {
	var out bytes.Buffer
	h := limitRepeats(slog.New(slog.NewTextHandler(&out, nil))).Handler()
	start := time.Unix(1000, 0)
	var written []time.Time
	for i := range 3000 { // 1,000 a second for 3 s
		at := start.Add(time.Duration(i) * time.Millisecond)
		before := out.Len()
		assert.NoError(t, h.Handle(t.Context(), slog.NewRecord(at, slog.LevelError, "could not append", 0)))
		if out.Len() > before {
			written = append(written, at)
		}
	}
	assert.NoError(t, h.Handle(t.Context(), slog.NewRecord(start, slog.LevelError, "another message", 0)))

	for i := range written { // any second holds at most the limit
		if j := i + maxRepeatsPerSecond; j < len(written) {
			assert.GreaterOrEqual(t, written[j].Sub(written[i]), time.Second)
		}
	}
	assert.Len(t, written, 3*maxRepeatsPerSecond)
	assert.Contains(t, out.String(), "repeats_suppressed=990", "the first line of the next second counts the dropped")
	assert.Contains(t, out.String(), `msg="another message"`, "other messages pass")
	assert.Equal(t, 1, strings.Count(out.String(), "another message"))
	assert.Same(t, h, limitRepeats(slog.New(h)).Handler(), "a limited logger is not wrapped twice")
}
