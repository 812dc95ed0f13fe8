package main

import (
	"context"
	"fmt"
	"time"
)

// readTimeout bounds one attempt to read every partition while settling.
const readTimeout = 30 * time.Second

// Settle waits, up to timeout, until every node answers Metadata reporting
// a leader and an ISR of all replicationFactor replicas for every
// partition, and a fresh consumer reads each partition to its high
// watermark. It returns that read and each partition's replicas.
func Settle(ctx context.Context, c *Cluster, partitions int, timeout time.Duration) (KafkaRead, map[int32][]int32, error) {
	var read KafkaRead
	var assignment map[int32][]int32
	err := waitFor(ctx, timeout, "settle", func(ctx context.Context) (bool, error) {
		for _, n := range c.Nodes {
			a, err := inSyncEverywhere(ctx, c, n, Topic, partitions)
			if err != nil {
				return false, err
			}
			assignment = a
		}
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		defer cancel()
		var err error
		read, err = ReadThroughKafka(rctx, c.Clients(), partitions)
		return err == nil, err
	})
	return read, assignment, err
}

// inSyncEverywhere asks node n for topic's metadata and reports an error
// unless every partition has a leader and all its replicas in sync.
func inSyncEverywhere(ctx context.Context, c *Cluster, n *Node, topic string, partitions int) (map[int32][]int32, error) {
	md, err := c.NodeMetadata(ctx, n, topic)
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 {
		return nil, fmt.Errorf("node %d: no metadata for %s", n.ID, topic)
	}
	t := md.Topics[0]
	if len(t.Partitions) != partitions {
		return nil, fmt.Errorf("node %d: %s: %d of %d partitions", n.ID, topic, len(t.Partitions), partitions)
	}
	assignment := map[int32][]int32{}
	for _, p := range t.Partitions {
		switch {
		case p.Leader < 0:
			return nil, fmt.Errorf("node %d: %s partition %d has no leader", n.ID, topic, p.Partition)
		case len(p.Replicas) != replicationFactor || len(p.ISR) != replicationFactor:
			return nil, fmt.Errorf("node %d: %s partition %d has replicas %v, ISR %v", n.ID, topic, p.Partition, p.Replicas, p.ISR)
		}
		assignment[p.Partition] = p.Replicas
	}
	return assignment, nil
}
