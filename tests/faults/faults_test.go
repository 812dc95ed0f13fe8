package main

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek/internal/blackbox"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ciRuns is the bounded version of the harness TestFaults runs. The
// transactional runs write slowly enough that the pipeline drains its
// backlog in the settle time even while every transaction waits out a
// refused produce (about 5 s each; see README's fault-harness section).
var ciRuns = []struct {
	workload, security         string
	seeds, nodes, rounds, rate int
	partitions                 int
}{
	{workload: WorkloadRecords, seeds: 3, nodes: 3, rounds: 4, rate: 1000, partitions: 6},
	{workload: WorkloadRecords, security: SecurityMTLS, seeds: 1, nodes: 3, rounds: 4, rate: 1000, partitions: 6},
	{workload: WorkloadRecords, seeds: 1, nodes: 5, rounds: 3, rate: 1000, partitions: 6},
	{workload: WorkloadTxn, seeds: 2, nodes: 3, rounds: 3, rate: 300, partitions: 4},
}

// TestFaults runs the harness, bounded for CI, through the command's own
// code. As root it re-runs itself in a private network namespace so that
// the nemesis can cut nodes off; FAULTS_SEED sets the first seed.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts creek clusters")
	}
	if !InNetns() && CanUnshare() {
		cmd := exec.Command("unshare", "--net", "--", os.Args[0], "-test.run", "^TestFaults$", "-test.v", "-test.timeout", "15m")
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		require.NoError(t, cmd.Run(), "TestFaults in a private network namespace")
		return
	}
	net := SetupNetns()
	faults := AllFaults
	if net.Unavailable != "" {
		t.Logf("without the cut fault: %s", net.Unavailable)
		faults = slices.DeleteFunc(slices.Clone(AllFaults), func(f string) bool { return f == FaultCut })
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULTS_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "FAULTS_SEED")
	}
	t.Logf("first seed %d (FAULTS_SEED=%d replays it)", seed, seed)
	bin, err := blackbox.BuildCreek(t.Context(), t.TempDir())
	require.NoError(t, err)
	next := seed
	for _, run := range ciRuns {
		for range run.seeds {
			s := next
			next++
			security := cmp.Or(run.security, SecurityNone)
			t.Run(fmt.Sprintf("workload=%s/security=%s/nodes=%d/seed=%d", run.workload, security, run.nodes, s), func(t *testing.T) {
				opts := Options{Workload: run.workload, Security: security, Seed: s, Seeds: 1, Rounds: run.rounds, Nodes: run.nodes,
					Partitions: run.partitions, Rate: run.rate, Faults: faults, Settle: 60 * time.Second}
				require.NoError(t, opts.Validate())
				res := RunSeed(t.Context(), opts, s, bin, net, t.Output())
				if res.Failed() {
					t.Errorf("%s (replay: cd tests/faults && go run . -workload %s -security %s -seed %d -nodes %d -rounds %d -rate %d -partitions %d)",
						res.Line(), run.workload, security, s, run.nodes, run.rounds, run.rate, run.partitions)
				}
			})
		}
	}
}

func TestParseOptions(t *testing.T) {
	now := time.Unix(0, 42)
	o, err := ParseOptions(nil, now)
	require.NoError(t, err)
	require.Equal(t, Options{Workload: WorkloadRecords, Security: SecurityNone, Seed: 42, Seeds: 1, Rounds: 10, Nodes: 3, Partitions: 6, Rate: 2000,
		Faults: AllFaults, Settle: time.Minute}, o)
	o, err = ParseOptions([]string{"-seed", "9", "-nodes", "5", "-faults", "kill9,pause", "-keep"}, now)
	require.NoError(t, err)
	require.Equal(t, uint64(9), o.Seed)
	require.Equal(t, []string{FaultKill9, FaultPause}, o.Faults)
	require.True(t, o.Keep)
	for _, bad := range [][]string{{"-nodes", "4"}, {"-faults", "flood"}, {"-rate", "0"}, {"-workload", "etl"}, {"extra"}} {
		_, err := ParseOptions(bad, now)
		require.Error(t, err, "%v", bad)
	}
}

func TestMoreRounds(t *testing.T) {
	byCount := Options{Rounds: 2}
	require.True(t, byCount.moreRounds(2, time.Hour))
	require.False(t, byCount.moreRounds(3, 0))
	byTime := Options{Rounds: 2, Duration: time.Minute}
	require.True(t, byTime.moreRounds(50, 59*time.Second), "a duration outlasts the round count")
	require.False(t, byTime.moreRounds(1, time.Minute))
}
