package hostile

import (
	"context"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
)

// waitFor is blackbox.WaitFor, for a condition the test names.
func waitFor(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return blackbox.WaitFor(ctx, timeout, "the condition", cond)
}

// must returns v, or -1 for an int whose error is not nil.
func must(v int, err error) int {
	if err != nil {
		return -1
	}
	return v
}
