package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWhileLeaderMovesRetriesALeaderNotReady: the node the metadata names
// as leader refuses (it has not taken up the role yet), and nothing here
// changes to say when it has: the attempt runs again after
// leaderRetryInterval. Before, it waited for a metadata change that had
// already come, until its context ended (a minute, in a cluster test that
// hung in CI). The five seconds bound the test, not the retry.
func TestWhileLeaderMovesRetriesALeaderNotReady(t *testing.T) {
	nodes := newTestCluster(t, 1, clusterOptions{}).all()
	n := nodes[0]
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	createOnAll(t, ctx, nodes, "t", TopicSpec{})
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	attempts := 0
	err = n.whileLeaderMoves(ctx, p, func() error {
		attempts++
		if attempts == 1 {
			return ErrNotLeader
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, attempts)
	assert.NoError(t, ctx.Err(), "retried before the test's bound")
}
