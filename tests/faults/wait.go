package main

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is how often a condition on other processes is checked:
// across processes nothing announces a change, so it is asked for.
const pollInterval = 100 * time.Millisecond

// waitFor calls cond every pollInterval until it reports true, ctx ends or
// timeout passes; then it returns an error naming what and the condition's
// last error.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, error)) error {
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
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %v (last error: %v)", what, timeout, last)
		case <-tick.C:
		}
	}
}

// hold waits for d or until ctx ends: the nemesis holds a fault for a
// chosen time, which no condition ends sooner.
func hold(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
