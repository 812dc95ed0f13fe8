package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/txnlog"
)

// TestClusterTxnFollower: followers copy the leader's transactional
// batches and markers and end with its transactions: the same open one
// and aborted ones. After the leader dies, the new leader answers a
// read_committed fetch with the same last stable offset and aborted list.
func TestClusterTxnFollower(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	createOnAll(t, ctx, nodes, "t", TopicSpec{Partitions: 1, ReplicationFactor: 3})
	leaderID := waitForLeader(t, nodes[0], "t", -1)
	leader := nodes[leaderID-1]
	lp, err := leader.partition("t", 0)
	require.NoError(t, err)
	for _, b := range [][]byte{testBatch(t, 0, 1, 4, 0), txnBatch(t, 1, 0, 0, 2), txnBatch(t, 2, 0, 0, 1),
		txnBatch(t, 3, 0, 0, 1)} {
		_, err := leader.ProduceBatch(ctx, "t", 0, b) // 0 plain; 1 at 1-2, 2 at 3, 3 at 4
		require.NoError(t, err)
	}
	require.NoError(t, lp.writeMarker(ctx, txnlog.Marker{ProducerID: 1}))               // 5: 1 aborts
	require.NoError(t, lp.writeMarker(ctx, txnlog.Marker{ProducerID: 3, Commit: true})) // 6: 3 commits; 2 stays open
	end := lp.log.EndOffset()
	wantLSO, wantAborted := txnState(lp)
	require.Equal(t, int64(3), wantLSO)
	require.Equal(t, []txnlog.Aborted{{ProducerID: 1, FirstOffset: 1, LastOffset: 5, LastStable: 3}}, wantAborted)

	var alive []*Node
	for _, n := range nodes {
		if n == leader {
			continue
		}
		alive = append(alive, n)
		waitForEnd(t, n, "t", 0, end)
		p, err := n.partition("t", 0)
		require.NoError(t, err)
		p.producersMu.Lock()
		open := p.txns.OpenCount()
		p.producersMu.Unlock()
		assert.Equal(t, 1, open, "node %d: one transaction open", n.nodeID())
		_, aborted := txnState(p)
		assert.Equal(t, wantAborted, aborted, "node %d: the leader's aborted transactions", n.nodeID())
	}

	require.NoError(t, leader.Close())
	newID := waitForLeader(t, alive[0], "t", leaderID)
	newLeader := nodes[newID-1]
	np, err := newLeader.partition("t", 0)
	require.NoError(t, err)
	for deadline := time.After(30 * time.Second); ; { // its high watermark reaches the end as the other follower fetches
		arrived := np.arrival()
		if np.checkLeader(-1) == nil && np.highWatermark() >= end {
			break
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("node %d's high watermark is %d, not %d", newID, np.highWatermark(), end)
		}
	}
	res, _ := committedFetch(t, newLeader, 0)
	assert.Equal(t, wantLSO, res.LastStableOffset, "the new leader's last stable offset")
	assert.Equal(t, wantLSO, lastOffsetIn(res.Records)+1)
	require.Len(t, res.Aborted, 1)
	assert.Equal(t, int64(1), res.Aborted[0].ProducerID)
}
