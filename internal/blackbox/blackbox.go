// Package blackbox holds what creek's black-box suites share
// (tests/faults, tests/hostile, each its own module): building the creek
// command, running it as a Process whose stderr is read line by line and
// which is signalled, stopped and killed, and waiting on a condition of
// other processes.
package blackbox

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// CreekPackage is the command the suites build; their modules' replace
// directive makes it this checkout's.
const CreekPackage = "github.com/creekmq/creek/cmd/creek"

// BuildCreek builds the creek command into dir and returns the binary's
// path. It runs `go build` in the current directory, which must be in a
// module that requires creek (go test runs tests in their package's
// directory).
func BuildCreek(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "creek")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, CreekPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", CreekPackage, err, out)
	}
	return bin, nil
}

// PollInterval is how often WaitFor asks: across processes nothing
// announces a change, so it is asked for.
const PollInterval = 100 * time.Millisecond

// WaitFor calls cond every PollInterval until it reports true, ctx ends or
// timeout passes; then it returns an error naming what, with cond's last
// error that the deadline did not cause.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %v (last error: %v)", what, timeout, last)
		case <-tick.C:
		}
	}
}
