package main

import (
	"context"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
)

// waitFor is blackbox.WaitFor.
var waitFor = blackbox.WaitFor

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
