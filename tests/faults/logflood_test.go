package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLogMsg(t *testing.T) {
	for line, want := range map[string]string{
		`time=2026-01-01T00:00:00.000Z level=INFO msg="creek serving the Kafka protocol" addr=x`: "creek serving the Kafka protocol",
		`time=2026-01-01T00:00:00.000Z level=INFO msg=stopping node=1`:                           "stopping",
		`time=2026-01-01T00:00:00.000Z level=WARN msg="say \"hi\" now" x=1`:                      `say "hi" now`,
		`msg=alone`: "alone",
	} {
		got, ok := logMsg(line)
		require.True(t, ok, line)
		require.Equal(t, want, got, line)
	}
	for _, line := range []string{"goroutine 1 [running]:", `level=INFO msg="unterminated`} {
		_, ok := logMsg(line)
		require.False(t, ok, line)
	}
}

// lines builds log lines with msg at the given times.
func lines(msg string, base time.Time, offsets ...time.Duration) []LogLine {
	var out []LogLine
	for _, o := range offsets {
		at := base.Add(o)
		out = append(out, LogLine{At: time.Now(), Text: fmt.Sprintf("time=%s level=INFO msg=%q n=1", at.Format(time.RFC3339Nano), msg)})
	}
	return out
}

func TestMaxFlood(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var burst []time.Duration
	for i := range 11 {
		burst = append(burst, 500*time.Millisecond+time.Duration(i)*80*time.Millisecond) // 11 within 0.8 s, across a second's boundary
	}
	var spread []time.Duration
	for i := range 30 {
		spread = append(spread, time.Duration(i)*200*time.Millisecond) // 5 a second
	}
	all := append(lines("retrying", base, burst...), lines("steady", base, spread...)...)
	all = append(all, LogLine{Text: "panic: not slog"})
	f := MaxFlood(2, all)
	require.Equal(t, 11, f.Count)
	require.Equal(t, "retrying", f.Msg)
	require.Equal(t, 2, f.Node)

	f = MaxFlood(1, lines("steady", base, spread...))
	require.Equal(t, 5, f.Count)
}

func TestMaxFloodFallsBackToReadTime(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ls []LogLine
	for i := range 12 {
		ls = append(ls, LogLine{At: at.Add(time.Duration(i) * time.Millisecond), Text: `level=INFO msg=x`})
	}
	require.Equal(t, 12, MaxFlood(1, ls).Count)
}
