// Package creektest opens creek nodes for tests: one node in memory, or a
// cluster of nodes in one process. Each is closed when the test ends, and
// the test fails if closing fails. Nothing here is needed outside tests,
// so that package creek does not link package testing into its importers.
package creektest

import (
	"context"
	"testing"
	"time"

	"github.com/creekmq/creek"
)

// clusterTimeout bounds how long Cluster waits for its nodes to form a
// cluster.
const clusterTimeout = 30 * time.Second

// Node opens a node in memory for t, with cfg less its Dir, and closes it
// when the test ends. Opening one costs well under a millisecond, so each
// test can have its own.
func Node(t testing.TB, cfg creek.Config) *creek.Node {
	t.Helper()
	cfg.Dir = ""
	return open(t, cfg)
}

// Cluster opens size nodes in memory for t, in one cluster in this
// process, and returns them by node ID (nodes[0] is node 1) once every
// node sees all of them and the controller has registered each
// (Node.WaitForCluster), so replicated topics can be created at once.
// Each node takes cfg less its Dir, with a Kafka listener and gossip on
// 127.0.0.1, free ports, and ClusterConfig.LocalNetwork, so a node closed
// is found gone within about a second. cfg.Cluster, if set, gives the
// rest of every node's ClusterConfig (Rack, ReplicaLagTimeMax,
// ReplaceGoneAfter, Dialer, ...); its NodeID, addresses and Seeds are
// the ones Cluster picks: node 1 starts the cluster, the others join it.
func Cluster(t testing.TB, size int, cfg creek.Config) []*creek.Node {
	t.Helper()
	if size < 1 {
		t.Fatalf("creektest: a cluster of %d nodes", size)
	}
	template := creek.ClusterConfig{}
	if cfg.Cluster != nil {
		template = *cfg.Cluster
	}
	cfg.Dir, cfg.Listen, cfg.AdvertisedAddr = "", "127.0.0.1:0", ""
	var nodes []*creek.Node
	for id := int32(1); id <= int32(size); id++ {
		c := template
		c.NodeID, c.GossipAddr, c.AdvertiseGossipAddr, c.RaftAddr = id, "127.0.0.1:0", "", ""
		c.LocalNetwork, c.Seeds = true, nil
		if id > 1 {
			c.Seeds = []string{nodes[0].GossipAddr()}
		}
		node := cfg
		node.Cluster = &c
		nodes = append(nodes, open(t, node))
	}
	ctx, cancel := context.WithTimeout(t.Context(), clusterTimeout)
	defer cancel()
	for _, n := range nodes {
		if err := n.WaitForCluster(ctx, size); err != nil {
			t.Fatalf("creektest: cluster of %d: %v", size, err)
		}
	}
	return nodes
}

// open opens a node with cfg and closes it when the test ends.
func open(t testing.TB, cfg creek.Config) *creek.Node {
	t.Helper()
	n, err := creek.Open(cfg)
	if err != nil {
		t.Fatalf("creektest: open node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("creektest: close node: %v", err)
		}
	})
	return n
}
