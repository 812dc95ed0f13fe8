package hostile

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
)

// creekBin is the creek binary TestMain built (or was handed through
// CreekBinEnv).
var creekBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv(CreekBinEnv); bin != "" {
		creekBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hostile-creek-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if creekBin, err = blackbox.BuildCreek(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
