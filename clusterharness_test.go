package creek

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/faultnet"
)

// newTestNode opens a node in memory for a test and closes it when the
// test ends, failing the test if Close fails: creektest.Node for this
// package's own tests, which cannot import creektest.
func newTestNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	cfg.Dir = ""
	n, err := Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close test node: %v", err)
		}
	})
	return n
}

// clusterOptions shape a testCluster. The zero value is memory nodes on
// loopback, every link up.
type clusterOptions struct {
	// network, if set, carries every node's Kafka, Raft and gossip
	// traffic, so the test can cut and degrade it.
	network *faultnet.Network
	// disk gives each node a directory of its own (t.TempDir) in place of
	// memory.
	disk bool
	// config, if set, adjusts node id's Config before it opens: a
	// ReplaceGoneAfter, a Dir prepared beforehand.
	config func(id int32, cfg *Config)
}

// replaceGoneAfter is a clusterOptions.config whose nodes' controller
// replaces nodes gone for d.
func replaceGoneAfter(d time.Duration) func(int32, *Config) {
	return func(_ int32, cfg *Config) { cfg.Cluster.ReplaceGoneAfter = d }
}

// testCluster is the nodes of one cluster in this process, node i+1 at
// nodes[i]. Node 1 starts the cluster; the others join through its gossip
// address.
type testCluster struct {
	t     testing.TB
	opts  clusterOptions
	nodes []*testNode
}

// testNode is a node of a testCluster, which a test may close and open
// again on its directory and at its addresses.
type testNode struct {
	*Node
	c                        *testCluster
	id                       int32
	dir                      string // "" for memory
	listen, gossip, raftAddr string // what it bound, kept for a restart
}

// newTestCluster opens count nodes (count may be 0: the test adds them)
// and, if there are any, waits until the controller has a leader with as
// many voters as the cluster has nodes, up to maxVoters. Every node is
// closed when the test ends.
func newTestCluster(t testing.TB, count int, opts clusterOptions) *testCluster {
	t.Helper()
	c := &testCluster{t: t, opts: opts}
	for range count {
		c.add()
	}
	if count > 0 {
		controllerLeader(t, c.all(), min(count, maxVoters))
	}
	return c
}

// add opens the next node, joining through node 1 unless it is node 1.
func (c *testCluster) add() *testNode {
	c.t.Helper()
	s := &testNode{c: c, id: int32(len(c.nodes) + 1), listen: "127.0.0.1:0", gossip: "127.0.0.1:0", raftAddr: "127.0.0.1:0"}
	if c.opts.disk {
		s.dir = c.t.TempDir()
	}
	var seeds []string
	if len(c.nodes) > 0 {
		seeds = []string{c.nodes[0].gossip}
	}
	s.open(seeds...)
	c.nodes = append(c.nodes, s)
	c.t.Cleanup(func() { s.Close() }) // after t.TempDir's, so it runs first; a second Close is a no-op
	return s
}

// all returns every node.
func (c *testCluster) all() []*Node {
	out := make([]*Node, len(c.nodes))
	for i, s := range c.nodes {
		out[i] = s.Node
	}
	return out
}

// node returns node id.
func (c *testCluster) node(id int32) *testNode { return c.nodes[id-1] }

// open opens the node at its addresses (free ports the first time; after
// a Close, a restart on its directory), joining through seeds, and
// registers the addresses with the network.
func (s *testNode) open(seeds ...string) {
	t := s.c.t
	t.Helper()
	cc := &ClusterConfig{NodeID: s.id, GossipAddr: s.gossip, RaftAddr: s.raftAddr, Seeds: seeds, Rack: "r1",
		LocalNetwork: true}
	if network := s.c.opts.network; network != nil {
		cc.Dialer = network.Node(s.id)
	}
	cfg := Config{Dir: s.dir, Logger: discardLogger(), Listen: s.listen, Cluster: cc}
	if s.c.opts.config != nil {
		s.c.opts.config(s.id, &cfg)
		s.dir = cfg.Dir
	}
	n, err := Open(cfg)
	require.NoError(t, err)
	s.Node = n
	s.listen, s.gossip, s.raftAddr = n.Addr().String(), n.GossipAddr(), n.controller.raftAddr()
	if network := s.c.opts.network; network != nil {
		network.Register(s.id, s.listen, s.gossip, s.raftAddr)
	}
}

// waitForMembers waits, on membership changes, until n sees exactly ids.
func waitForMembers(t testing.TB, n *Node, ids ...int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		changed := n.clusterChanged()
		var got []int32
		for _, m := range n.ClusterMembers() {
			got = append(got, m.NodeID)
		}
		if fmt.Sprint(got) == fmt.Sprint(ids) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("node sees %v, want %v", got, ids)
		}
	}
}

// controllerLeader waits, on Raft's leader observations, until one of
// nodes leads the controller with voters voters, and returns it.
func controllerLeader(t testing.TB, nodes []*Node, voters int) *Node {
	t.Helper()
	observed := make(chan raft.Observation, 256)
	for _, n := range nodes {
		o := raft.NewObserver(observed, false, nil)
		n.controller.raft.RegisterObserver(o)
		defer n.controller.raft.DeregisterObserver(o)
	}
	deadline := time.After(30 * time.Second)
	for {
		for _, n := range nodes {
			if n.controller.raft.State() != raft.Leader {
				continue
			}
			f := n.controller.raft.GetConfiguration()
			if f.Error() == nil && len(f.Configuration().Servers) == voters {
				return n
			}
		}
		select {
		case <-observed:
		case <-deadline:
			t.Fatalf("no controller leader with %d voters", voters)
		}
	}
}
