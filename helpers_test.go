package creek

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild() // the child of TestCrashRecovery; never returns
	}
	if os.Getenv(nodeCrashChildEnv) != "" {
		nodeCrashChild() // the child of TestNodeCrashRecovery; never returns
	}
	goleak.VerifyTestMain(m, probeInFlight)
}

// probeInFlight is a goroutine leak checks let be: memberlist's Shutdown
// does not wait for a probe in flight, which ends by itself when its ack
// times out.
var probeInFlight = goleak.IgnoreAnyFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode")

// testBatch builds an uncompressed batch of n records whose values are
// valueSize bytes, keyed "k<first+i>", with timestamps ts, ts+1, ...
func testBatch(t testing.TB, first, n, valueSize int, ts int64) []byte {
	t.Helper()
	b, err := makeBatch(first, n, valueSize, ts)
	require.NoError(t, err)
	return b
}

// makeBatch is testBatch for code without a testing.TB: its bytes depend
// only on its arguments, so a test can rebuild what a child process wrote.
func makeBatch(first, n, valueSize int, ts int64) ([]byte, error) {
	records := make([]batch.Record, n)
	for i := range records {
		value := make([]byte, valueSize)
		for j := range value {
			value[j] = byte(first + i + j)
		}
		records[i] = batch.Record{
			Key:            fmt.Appendf(nil, "k%d", first+i),
			Value:          value,
			TimestampDelta: int64(i),
			OffsetDelta:    int32(i),
		}
	}
	return batch.Build(batch.BuildOptions{BaseTimestamp: ts}, records...)
}

// logEnv is one of the places and sync policies every log test runs under.
type logEnv struct {
	name string
	fs   func(t *testing.T) fsx.FS
	dir  func(t *testing.T) string
	sync SyncPolicy
}

func logEnvs() []logEnv {
	var envs []logEnv
	for _, p := range []SyncPolicy{SyncEveryAppend, SyncPeriodically, SyncNever} {
		envs = append(envs,
			logEnv{"mem/" + p.String(), func(*testing.T) fsx.FS { return fsx.NewMem() }, func(*testing.T) string { return "/log" }, p},
			logEnv{"disk/" + p.String(), func(*testing.T) fsx.FS { return fsx.OS() }, func(t *testing.T) string { return filepath.Join(t.TempDir(), "log") }, p},
		)
	}
	return envs
}

// forEachEnv runs fn once for every logEnv.
func forEachEnv(t *testing.T, fn func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig)) {
	for _, env := range logEnvs() {
		t.Run(env.name, func(t *testing.T) {
			fn(t, env.fs(t), env.dir(t), LogConfig{Sync: env.sync, SyncInterval: time.Hour, Logger: discardLogger()})
		})
	}
}

// mustOpen opens a log and closes it when the test ends.
func mustOpen(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) *Log {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	l, err := openLog(fs, dir, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// appendN appends count batches of perBatch records and returns their
// bytes as stored (with base offsets set).
func appendN(t *testing.T, l *Log, count, perBatch, valueSize int) [][]byte {
	t.Helper()
	var out [][]byte
	for range count {
		first := int(l.EndOffset())
		b := testBatch(t, first, perBatch, valueSize, int64(1_000+first))
		base, err := l.Append(b)
		require.NoError(t, err)
		require.Equal(t, int64(first), base)
		out = append(out, b)
	}
	return out
}

// readAll reads every batch from the log start to its end.
func readAll(t *testing.T, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	for offset := l.StartOffset(); offset < l.EndOffset(); {
		got, err := l.Read(nil, offset, 1<<20)
		require.NoError(t, err)
		require.NotEmpty(t, got, "read at %d below the end %d", offset, l.EndOffset())
		for len(got) > 0 {
			one, rest, err := batch.Next(got)
			require.NoError(t, err)
			h, err := batch.Validate(one)
			require.NoError(t, err)
			out = append(out, one)
			offset = h.LastOffset() + 1
			got = rest
		}
	}
	return out
}
