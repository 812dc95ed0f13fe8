package hostile

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is how often waitFor asks: across processes nothing
// announces a change, so it is asked for.
const pollInterval = 100 * time.Millisecond

// waitFor calls cond every pollInterval until it reports true, ctx ends or
// timeout passes; then it returns an error with cond's last error.
func waitFor(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			last = err // not one the deadline caused
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %v (last error: %v)", timeout, last)
		case <-tick.C:
		}
	}
}

// must returns v, or -1 for an int whose error is not nil.
func must(v int, err error) int {
	if err != nil {
		return -1
	}
	return v
}
