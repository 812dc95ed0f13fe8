package creek

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

const crashChildEnv = "CREEK_CRASH_CHILD_DIR"

var (
	crashTrials = flag.Int("crash.trials", 50, "TestCrashRecovery: how many times to kill the child")
	crashSeed   = flag.Uint64("crash.seed", 0, "TestCrashRecovery: seed for the kill points; 0 picks one")
)

// crashConfig is the log the child writes: small segments, so that kills
// land in rolls too.
var crashConfig = LogConfig{SegmentBytes: 64 << 10, IndexIntervalBytes: 1024, Sync: SyncEveryAppend}

// crashBatch is the batch the child appends at offset base: its content
// depends on base alone, so the parent can check it byte for byte.
func crashBatch(base int64) ([]byte, error) {
	return makeBatch(int(base), 1+int(base%5), 20+int(base%400), base)
}

// crashChild appends to the log in $CREEK_CRASH_CHILD_DIR until killed,
// printing each acknowledged base offset on its own line.
func crashChild() {
	cfg := crashConfig
	cfg.Logger = discardLogger()
	l, err := OpenLog(os.Getenv(crashChildEnv), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for {
		b, err := crashBatch(l.EndOffset())
		if err == nil {
			var base int64
			if base, err = l.Append(b); err == nil {
				fmt.Fprintln(out, base)
				err = out.Flush()
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(2)
		}
	}
}

// TestCrashRecovery kills a process that appends with fsync-before-return at
// random moments (SIGKILL), reopens its log, and checks that every
// acknowledged batch is there byte for byte, that offsets are contiguous and
// that nothing corrupt can be read. Each trial's child continues the log the
// previous one left. Flags: -crash.trials, -crash.seed.
func TestCrashRecovery(t *testing.T) {
	rng := crashRNG(t, 0)
	dir := t.TempDir()
	acked := map[int64]bool{}
	for trial := range *crashTrials {
		killedChild(t, crashChildEnv, dir, rng.IntN(150), func(line string) { recordAck(t, acked, line) })

		l, err := OpenLog(dir, LogConfig{SegmentBytes: crashConfig.SegmentBytes, IndexIntervalBytes: crashConfig.IndexIntervalBytes, Logger: discardLogger()})
		require.NoError(t, err, "trial %d", trial)
		checkCrashLog(t, l, acked)
		require.NoError(t, l.Close())
	}
	t.Logf("%d trials, %d acknowledged batches", *crashTrials, len(acked))
}

// crashRNG returns the random source of a crash test, seeded from
// -crash.seed or the clock, and logs the seed so a failure can be rerun.
func crashRNG(t *testing.T, stream uint64) *rand.Rand {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, stream))
}

// killedChild runs this test binary as a child with env set to dir, hands
// onLine each line the child prints, kills it (SIGKILL) after killAfter
// lines, hands onLine what it printed before the kill landed, and waits.
func killedChild(t *testing.T, env, dir string, killAfter int, onLine func(string)) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	for n := 0; n < killAfter && lines.Scan(); n++ {
		onLine(lines.Text())
	}
	require.NoError(t, cmd.Process.Kill())
	for lines.Scan() {
		onLine(lines.Text())
	}
	_ = cmd.Wait()
}

func recordAck(t *testing.T, acked map[int64]bool, line string) {
	base, err := strconv.ParseInt(line, 10, 64)
	require.NoError(t, err, "child printed %q", line)
	acked[base] = true
}

// checkCrashLog reads the whole log and checks it against what was acked.
func checkCrashLog(t *testing.T, l *Log, acked map[int64]bool) {
	t.Helper()
	var next int64
	for _, got := range readAll(t, l) {
		h, err := batch.ParseHeader(got)
		require.NoError(t, err)
		require.Equal(t, next, h.BaseOffset, "offsets are contiguous")
		want, err := crashBatch(h.BaseOffset)
		require.NoError(t, err)
		batch.SetBaseOffset(want, h.BaseOffset)
		require.Equal(t, want, got, "batch at %d", h.BaseOffset)
		next = h.LastOffset() + 1
	}
	for base := range acked {
		assert.Less(t, base, next, "acknowledged batch %d is missing; the log ends at %d", base, next)
	}
}
