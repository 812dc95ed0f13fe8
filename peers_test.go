package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPeerRequestsDoNotWaitForEachOther: a request to another node that
// takes long (here a Fetch that waits for records) does not hold up the
// next to the same node (here the Metadata a node asks before it leads
// again): each takes a connection of its own. With one connection per
// node, the Metadata waited out the Fetch.
func TestPeerRequestsDoNotWaitForEachOther(t *testing.T) {
	nodes := newTestCluster(t, 2, clusterOptions{}).all()
	ctx := t.Context()
	require.NoError(t, nodes[0].CreateTopic(ctx, "t", TopicSpec{Partitions: 1, ReplicationFactor: 2}))
	from, to := nodes[0], nodes[1]
	if from.partitionLeader("t", 0) == from.nodeID() {
		from, to = to, from // the Fetch goes to the leader
	}

	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = 60_000, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = "t", to.topicID("t")
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 1<<20, -1 // from 0, of an empty log: it waits
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fetchCtx, cancelFetch := context.WithCancel(ctx)
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		from.peers.request(fetchCtx, to.nodeID(), fetch)
	}()
	require.Eventually(t, func() bool { // the Fetch has its connection
		from.peers.mu.Lock()
		defer from.peers.mu.Unlock()
		idle := 0
		for _, conns := range from.peers.idle {
			idle += len(conns)
		}
		return len(from.peers.open) > idle
	}, 10*time.Second, time.Millisecond)

	metaCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := from.peers.request(metaCtx, to.nodeID(), kmsg.NewPtrMetadataRequest())
	require.NoError(t, err, "answered while the Fetch waits")
	select {
	case <-fetched:
		t.Fatal("the Fetch returned before its wait")
	default:
	}
	cancelFetch()
	<-fetched
	from.peers.mu.Lock()
	assert.LessOrEqual(t, len(from.peers.idle[to.nodeID()]), maxIdlePeerConns)
	from.peers.mu.Unlock()
}
