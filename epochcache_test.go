package creek

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/epochs"
	"github.com/creekmq/creek/internal/fsx"
)

// TestEpochCachePersists: assigned epochs survive a reopen, truncation
// forgets the epochs it cut, and entries past a shortened log are
// dropped on open.
func TestEpochCachePersists(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		l := mustOpen(t, fs, dir, cfg)
		c, err := openEpochCache(fs, dir, l)
		require.NoError(t, err)
		assert.Equal(t, int32(-1), c.latest())
		require.NoError(t, c.assign(0, 0))
		appendN(t, l, 5, 2, 10)
		require.NoError(t, c.assign(3, 10))
		require.NoError(t, c.assign(3, 12), "a known epoch is no change")
		require.Error(t, c.assign(2, 12), "epochs never go back")
		appendN(t, l, 5, 2, 10)

		again, err := openEpochCache(fs, dir, l)
		require.NoError(t, err)
		assert.Equal(t, []epochs.Entry{{Epoch: 0, StartOffset: 0}, {Epoch: 3, StartOffset: 10}}, again.list.Entries())

		require.NoError(t, c.assign(5, 20)) // a leader's epoch with no batch yet
		_, err = l.Truncate(8)
		require.NoError(t, err)
		require.NoError(t, c.truncateFrom(8))
		assert.Equal(t, []epochs.Entry{{Epoch: 0, StartOffset: 0}}, c.list.Entries())

		require.NoError(t, c.assign(6, 8))
		require.NoError(t, c.assign(9, 30)) // past the log's end, as after a crash cut its tail
		again, err = openEpochCache(fs, dir, l)
		require.NoError(t, err)
		assert.Equal(t, []epochs.Entry{{Epoch: 0, StartOffset: 0}, {Epoch: 6, StartOffset: 8}}, again.list.Entries())
	})
}

// TestEpochCacheRebuild: without its file, a partition's epochs come from
// its batches' headers.
func TestEpochCacheRebuild(t *testing.T) {
	fs, dir := fsx.NewMem(), "/p"
	l := mustOpen(t, fs, dir, LogConfig{})
	for i, epoch := range []int32{0, 0, 2, 2, 5} {
		b, err := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte{byte(i)}})
		require.NoError(t, err)
		batch.SetPartitionLeaderEpoch(b, epoch)
		_, err = l.Append(b)
		require.NoError(t, err)
	}
	c, err := openEpochCache(fs, dir, l)
	require.NoError(t, err)
	assert.Equal(t, []epochs.Entry{{Epoch: 0, StartOffset: 0}, {Epoch: 2, StartOffset: 2}, {Epoch: 5, StartOffset: 4}}, c.list.Entries())
	_, err = fs.Stat(filepath.Join(dir, epochCheckpointName))
	require.NoError(t, err, "the rebuilt epochs are saved")
}

// TestFollowerTruncationKeepsEpochs: a follower whose log already ends
// where its leader's epoch does cuts nothing and forgets no epoch, so it
// can ask again at the next leader change. (Forgetting them left a
// follower that could never ask, found by BenchmarkClusterFailover.)
func TestFollowerTruncationKeepsEpochs(t *testing.T) {
	p, err := openPartition(fsx.NewMem(), "/n", "t", 0, topicConfig{log: LogConfig{}.withDefaults()},
		LogConfig{Logger: discardLogger()}, time.Now)
	require.NoError(t, err)
	defer p.close()
	require.True(t, p.follow(roleFollower, 2, 1))
	require.NoError(t, p.truncateToLeader(1, 0, 0))
	assert.Equal(t, int32(0), p.epochs.latest())
	assert.False(t, p.followState().truncate)
}
