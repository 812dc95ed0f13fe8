package creek

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// TestEpochCacheEndOffsetFor: Kafka's answers for epochs newer, older and
// between the ones a partition had.
func TestEpochCacheEndOffsetFor(t *testing.T) {
	c := &epochCache{list: []epochStart{{epoch: 2, start: 10}, {epoch: 4, start: 30}, {epoch: 7, start: 55}}}
	tests := []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{7, 7, 90},   // the newest: the log end
		{4, 4, 55},   // a known one ends where the next begins
		{5, 4, 55},   // between: the largest epoch not above it
		{3, 2, 30},   // between the first two
		{1, 1, 10},   // older than all: where the first begins
		{8, -1, -1},  // newer than all
		{-1, -1, -1}, // none
	}
	for _, tc := range tests {
		epoch, end := c.endOffsetFor(tc.epoch, 90)
		assert.Equal(t, tc.wantEpoch, epoch, "epoch for %d", tc.epoch)
		assert.Equal(t, tc.wantEnd, end, "end offset for %d", tc.epoch)
	}
	empty := &epochCache{}
	epoch, end := empty.endOffsetFor(0, 5)
	assert.Equal(t, []any{int32(-1), int64(-1)}, []any{epoch, end})
}

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
		assert.Equal(t, []epochStart{{0, 0}, {3, 10}}, again.list)

		require.NoError(t, c.assign(5, 20)) // a leader's epoch with no batch yet
		_, err = l.Truncate(8)
		require.NoError(t, err)
		require.NoError(t, c.truncateFrom(8))
		assert.Equal(t, []epochStart{{0, 0}}, c.list)

		require.NoError(t, c.assign(6, 8))
		require.NoError(t, c.assign(9, 30)) // past the log's end, as after a crash cut its tail
		again, err = openEpochCache(fs, dir, l)
		require.NoError(t, err)
		assert.Equal(t, []epochStart{{0, 0}, {6, 8}}, again.list)
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
	assert.Equal(t, []epochStart{{0, 0}, {2, 2}, {5, 4}}, c.list)
	_, err = fs.Stat(filepath.Join(dir, epochCheckpointName))
	require.NoError(t, err, "the rebuilt epochs are saved")
}

func FuzzEpochCheckpoint(f *testing.F) {
	f.Add(encodeEpochCheckpoint([]epochStart{{0, 0}, {3, 100}}))
	f.Add([]byte("0\n0\n"))
	f.Add([]byte("0\n2\n1 5\n0 9\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := decodeEpochCheckpoint(b)
		if err != nil {
			return
		}
		again, err := decodeEpochCheckpoint(encodeEpochCheckpoint(list))
		require.NoError(t, err)
		require.Equal(t, list, again)
	})
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
