package controller

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
)

// raftNode is one controller of an in-memory Raft cluster.
type raftNode struct {
	id    raft.ServerID
	raft  *raft.Raft
	fsm   *FSM
	trans *raft.InmemTransport
}

func startRaftCluster(t *testing.T, size int) []*raftNode {
	t.Helper()
	var nodes []*raftNode
	var servers []raft.Server
	for i := range size {
		addr, trans := raft.NewInmemTransport(raft.ServerAddress(fmt.Sprintf("node-%d", i)))
		nodes = append(nodes, &raftNode{id: raft.ServerID(addr), fsm: NewFSM(), trans: trans})
		servers = append(servers, raft.Server{ID: raft.ServerID(addr), Address: addr})
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.trans.Connect(b.trans.LocalAddr(), b.trans)
			}
		}
	}
	for i, n := range nodes {
		cfg := raft.DefaultConfig()
		cfg.LocalID = n.id
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 50*time.Millisecond, 50*time.Millisecond
		cfg.LeaderLeaseTimeout, cfg.CommitTimeout = 50*time.Millisecond, 5*time.Millisecond
		cfg.Logger = hclog.NewNullLogger()
		store := raft.NewInmemStore()
		if i == 0 { // bootstrap exactly once, on one node
			require.NoError(t, raft.BootstrapCluster(cfg, store, store, raft.NewInmemSnapshotStore(), n.trans,
				raft.Configuration{Servers: servers}))
		}
		r, err := raft.NewRaft(cfg, n.fsm, store, store, raft.NewInmemSnapshotStore(), n.trans)
		require.NoError(t, err)
		n.raft = r
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.raft.Shutdown().Error()
		}
	})
	return nodes
}

// leader waits, on Raft's leader observations, for one of nodes to lead.
func leader(t *testing.T, nodes []*raftNode) *raftNode {
	t.Helper()
	observed := make(chan raft.Observation, 64)
	for _, n := range nodes {
		o := raft.NewObserver(observed, false, func(o *raft.Observation) bool {
			_, ok := o.Data.(raft.LeaderObservation)
			return ok
		})
		n.raft.RegisterObserver(o)
		defer n.raft.DeregisterObserver(o)
	}
	deadline := time.After(30 * time.Second)
	for {
		for _, n := range nodes { // after registering: a change since is observed
			if n.raft.State() == raft.Leader {
				return n
			}
		}
		select {
		case <-observed:
		case <-deadline:
			t.Fatal("no leader")
		}
	}
}

func propose(t *testing.T, n *raftNode, c Command) {
	t.Helper()
	b, err := c.Encode()
	require.NoError(t, err)
	f := n.raft.Apply(b, 10*time.Second)
	require.NoError(t, f.Error())
	if err, ok := f.Response().(error); ok {
		require.NoError(t, err)
	}
}

// waitTopics waits, on the FSM's change channel, until it holds count
// topics.
func waitTopics(t *testing.T, n *raftNode, count int) *Metadata {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.fsm.Changed()
		if m := n.fsm.Metadata(); len(m.Topics) == count {
			return m
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%s holds %d topics, want %d", n.id, len(n.fsm.Metadata().Topics), count)
		}
	}
}

// TestRaftReplicatesMetadata: three controllers apply the same commands;
// when the leader stops, another leads and the metadata goes on.
func TestRaftReplicatesMetadata(t *testing.T) {
	nodes := startRaftCluster(t, 3)
	first := leader(t, nodes)
	replicas, err := Place([]Node{{0, "a"}, {1, "b"}, {2, "c"}}, 3, 3, 0)
	require.NoError(t, err)
	propose(t, first, Command{CreateTopic: &CreateTopic{Name: "orders", Replicas: replicas}})
	for _, n := range nodes {
		require.Equal(t, first.fsm.Metadata(), waitTopics(t, n, 1))
	}

	require.NoError(t, first.raft.Shutdown().Error())
	var rest []*raftNode
	for _, n := range nodes {
		if n != first {
			rest = append(rest, n)
		}
	}
	second := leader(t, rest)
	require.NotEqual(t, first.id, second.id)
	propose(t, second, Command{CreateTopic: &CreateTopic{Name: "logins", Replicas: [][]int32{{1, 2}}}})
	for _, n := range rest {
		waitTopics(t, n, 2)
	}
	require.Equal(t, rest[0].fsm.Metadata(), rest[1].fsm.Metadata())

	snap, err := rest[0].fsm.Snapshot()
	require.NoError(t, err)
	restored := NewFSM()
	require.NoError(t, restored.Restore(io.NopCloser(bytes.NewReader(snap.(snapshot)))))
	require.Equal(t, rest[0].fsm.Metadata(), restored.Metadata())
}
