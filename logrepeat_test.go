package creek

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRepeatedLogLinesAreLimited(t *testing.T) {
	var out bytes.Buffer
	h := limitRepeats(slog.New(slog.NewTextHandler(&out, nil))).Handler()
	at := time.Unix(1000, 0)
	logAt := func(at time.Time, msg string) {
		assert.NoError(t, h.Handle(t.Context(), slog.NewRecord(at, slog.LevelError, msg, 0)))
	}
	for range 1000 {
		logAt(at, "could not append")
	}
	logAt(at, "another message")
	logAt(at.Add(time.Second), "could not append")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	count := func(substr string) (n int) {
		for _, l := range lines {
			if strings.Contains(l, substr) {
				n++
			}
		}
		return n
	}
	assert.Equal(t, maxRepeatsPerSecond+1, count(`msg="could not append"`), "10 in the first second, 1 in the next")
	assert.Equal(t, 1, count(`msg="another message"`), "other messages pass")
	assert.Equal(t, 1, count("suppressed=990"), "the next second reports what was dropped")
	assert.Same(t, h, limitRepeats(slog.New(h)).Handler(), "a limited logger is not wrapped twice")
}
