package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek/internal/faultnet"
)

// BenchmarkClusterProduce produces 100-byte records with acks=all through
// franz-go to three disk nodes, in rounds that alternate between a topic
// with one replica (the reference) and one with three (min.insync.replicas
// 2), both with three partitions, so leaders sit on every node. Read
// rf3/rf1: the throughput replication keeps.
func BenchmarkClusterProduce(b *testing.B) {
	nodes := newTestCluster(b, 3, clusterOptions{disk: true}).all()
	a := nodes[0]
	ctx := context.Background()
	require.NoError(b, a.CreateTopic(ctx, "rf1", TopicSpec{Partitions: 3, ReplicationFactor: 1}))
	require.NoError(b, a.CreateTopic(ctx, "rf3", TopicSpec{Partitions: 3, ReplicationFactor: 3,
		Configs: map[string]string{ConfigMinInsyncReplicas: "2"}}))
	for _, n := range nodes {
		require.NoError(b, n.waitForTopic(ctx, "rf1", true))
		require.NoError(b, n.waitForTopic(ctx, "rf3", true))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Addr().String()), kgo.RequiredAcks(kgo.AllISRAcks()))
	require.NoError(b, err)
	defer cl.Close()
	value := make([]byte, 100)
	produce := func(topic string, count int) time.Duration {
		start := time.Now()
		for range count {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
			})
		}
		require.NoError(b, cl.Flush(ctx))
		return time.Since(start)
	}
	produce("rf1", 1000) // warm: metadata, connections, every leader's role
	produce("rf3", 1000)
	b.ResetTimer()
	const rounds = 4
	var rf1, rf3 time.Duration
	for range rounds {
		rf1 += produce("rf1", b.N/rounds+1)
		rf3 += produce("rf3", b.N/rounds+1)
	}
	b.StopTimer()
	records := float64(rounds * (b.N/rounds + 1))
	b.ReportMetric(records/rf1.Seconds(), "rf1-records/s")
	b.ReportMetric(records/rf3.Seconds(), "rf3-records/s")
	b.ReportMetric(rf1.Seconds()/rf3.Seconds(), "rf3/rf1")
}

// BenchmarkClusterFailover cuts a partition's leader off from the other
// two nodes and measures, beside the time gossip takes to declare it dead
// (the reference, failure detection), the time until another node has
// taken an acks=all write: failover/detection is what election,
// the controller's commit and the new leader's start add.
func BenchmarkClusterFailover(b *testing.B) {
	var detection, failover time.Duration
	for range b.N {
		b.StopTimer()
		network := faultnet.New()
		nodes := newTestCluster(b, 3, clusterOptions{network: network}).all()
		meta := createReplicated(b, nodes, "orders", 3)
		old := nodes[meta.Leader-1]
		var majority []int32
		for _, n := range nodes {
			if n != old {
				majority = append(majority, n.nodeID())
			}
		}
		watcher := nodes[majority[0]-1]
		b.StartTimer()
		start := time.Now()
		network.Partition([]int32{old.nodeID()}, majority)
		for {
			changed := watcher.clusterChanged()
			if len(watcher.ClusterMembers()) == 2 {
				break
			}
			<-changed
		}
		detected := time.Now()
		leader := nodes[waitForLeader(b, watcher, "orders", old.nodeID())-1]
		p, err := leader.partition("orders", 0)
		require.NoError(b, err)
		for {
			arrived := p.arrival()
			_, err := leader.ProduceBatch(context.Background(), "orders", 0, testBatch(b, 0, 1, 10, 0))
			if err == nil {
				break
			}
			<-arrived // the new leader's role, or its ISR, is not applied yet
		}
		failover += time.Since(start)
		detection += detected.Sub(start)
		b.StopTimer()
		for _, n := range nodes {
			n.Close()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(detection.Milliseconds())/float64(b.N), "detect-ms")
	b.ReportMetric(float64(failover.Milliseconds())/float64(b.N), "failover-ms")
	b.ReportMetric(failover.Seconds()/detection.Seconds(), "failover/detect")
}
