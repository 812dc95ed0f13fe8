// The node's clock: the wall time, read at the cost of the monotonic
// clock alone.

package creek

import (
	"sync/atomic"
	"time"
)

// wallClock tells the wall time as the wall time of a reading taken at
// most wallClockRebase before, plus the monotonic time since: one read of
// the monotonic clock where time.Now reads both, which matters to a
// producer that stamps each record. The times it gives carry a monotonic
// reading as time.Now's do. A step of the wall clock (a settimeofday)
// shows within wallClockRebase; the gradual corrections NTP makes, which
// steer both clocks, show at once.
type wallClock struct {
	base atomic.Pointer[time.Time]
}

// wallClockRebase is how old the wall clock reading a wallClock adds to
// may be.
const wallClockRebase = time.Second

func newWallClock() *wallClock {
	c := &wallClock{}
	now := time.Now()
	c.base.Store(&now)
	return c
}

// now returns the current time.
func (c *wallClock) now() time.Time {
	base := c.base.Load()
	if since := time.Since(*base); since < wallClockRebase {
		return base.Add(since)
	}
	now := time.Now()
	c.base.Store(&now)
	return now
}
