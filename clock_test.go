package creek

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWallClockTellsTheWallTime(t *testing.T) {
	c := newWallClock()
	before := time.Now()
	got := c.now()
	after := time.Now()
	require.False(t, got.Before(before), "%v before %v", got, before)
	require.False(t, got.After(after), "%v after %v", got, after)
	require.WithinDuration(t, after, got, time.Millisecond, "the wall times too")
}

func TestWallClockRebasesAnOldReading(t *testing.T) {
	c := newWallClock()
	stale := time.Now().Add(-wallClockRebase).Round(0).Add(-time.Hour) // a wall reading an hour off, no monotonic
	c.base.Store(&stale)
	require.WithinDuration(t, time.Now(), c.now(), time.Second, "a reading without monotonic time, or an old one, is taken again")
	old := time.Now().Add(-2 * wallClockRebase)
	c.base.Store(&old)
	got := c.now()
	require.WithinDuration(t, time.Now(), got, time.Millisecond)
	require.Less(t, time.Since(*c.base.Load()), wallClockRebase, "rebased")
}
