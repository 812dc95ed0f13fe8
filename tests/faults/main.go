package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/creekmq/creek/internal/blackbox"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command with args and returns its exit code: 0 when every
// seed passed, 1 when one failed, 2 for bad usage or a harness that could
// not start.
func Main(args []string, stdout, stderr io.Writer) int {
	opts, err := ParseOptions(args, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "faults:", err)
		return 2
	}
	if !InNetns() && CanUnshare() {
		code, err := ReexecInNetns(args)
		if err == nil {
			return code
		}
		fmt.Fprintf(stderr, "faults: re-executing under unshare --net: %v; going on without cuts\n", err)
	}
	net := SetupNetns()
	if net.Unavailable != "" && slices.Contains(opts.Faults, FaultCut) {
		fmt.Fprintf(stderr, "faults: warning: a run whose nemesis picks cut will fail: %s\n", net.Unavailable)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	buildDir, err := os.MkdirTemp("", "creek-faults-bin-")
	if err != nil {
		fmt.Fprintln(stderr, "faults:", err)
		return 2
	}
	defer os.RemoveAll(buildDir)
	bin := opts.Creek
	if bin == "" {
		bin, err = blackbox.BuildCreek(ctx, buildDir)
	}
	if err != nil {
		fmt.Fprintln(stderr, "faults:", err)
		return 2
	}
	failed := 0
	for k := range opts.Seeds {
		res := RunSeed(ctx, opts, opts.Seed+uint64(k), bin, net, stdout)
		if res.Failed() {
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if opts.Seeds > 1 {
		fmt.Fprintf(stdout, "faults: %d of %d seeds failed\n", failed, opts.Seeds)
	}
	if failed > 0 {
		return 1
	}
	return 0
}
