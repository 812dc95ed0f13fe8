// The cluster controller: Raft over the node's metadata (topics, leaders,
// ISRs).

package creek

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/logbridge"
)

// clusterMetadataDir holds the controller's Raft log, stable values and
// snapshots, in the node's directory.
const clusterMetadataDir = "__cluster_metadata"

// maxVoters is how many nodes vote in the controller's Raft; the others
// follow as non-voters (DESIGN.md decision 6).
const maxVoters = 5

// ErrNotController is returned for a metadata change asked of a node that
// does not lead the controller.
var ErrNotController = errors.New("creek: this node does not lead the cluster controller")

// clusterController is a node's part in the cluster's Raft controller.
// Every node applies the committed metadata; the Raft leader also admits
// new nodes (as voters up to maxVoters, then as non-voters) and reacts to
// nodes failing by electing partition leaders from their ISR.
type clusterController struct {
	n     *Node
	raft  *raft.Raft
	fsm   *controller.FSM
	store *raftStore
	trans *raft.NetworkTransport

	stop chan struct{}
	wg   sync.WaitGroup
}

// startController opens the Raft store and transport and starts Raft. A
// node with no seeds and no Raft state bootstraps a new cluster; that
// happens exactly once, as a restarted node has state.
func (n *Node) startController() error {
	c := n.cfg.Cluster
	fs, dir := n.fs, filepath.Join(n.dir, clusterMetadataDir)
	store, err := openRaftStore(fs, dir, LogConfig{Logger: n.log})
	if err != nil {
		return err
	}
	ln, err := listenRaft(fs, dir, c.RaftAddr)
	if err != nil {
		return errors.Join(fmt.Errorf("listen for Raft on %s: %w", c.RaftAddr, err), store.Close())
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || a.IP.IsUnspecified() {
		ln.Close()
		return errors.Join(fmt.Errorf("%w: RaftAddr %s: other nodes need an address they can reach, not a wildcard",
			ErrInvalidConfig, c.RaftAddr), store.Close())
	}
	stream := raftStream{Listener: ln, dial: n.nodeDialer()}
	if c.TLS != nil { // a peer without the cluster's certificate is refused at the handshake
		stream.Listener = tls.NewListener(ln, raftServerTLS(c.TLS))
	}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: stream,
		MaxPool: 3, Timeout: 10 * time.Second, Logger: logbridge.HCLog(n.log, "raft-net")})
	snaps, err := snapshotStore(fs, dir, n.log)
	if err != nil {
		return errors.Join(err, trans.Close(), store.Close())
	}
	cfg := raft.DefaultConfig()
	cfg.LocalID = raftID(c.NodeID)
	cfg.Logger = logbridge.HCLog(n.log, "raft")
	if c.LocalNetwork {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 100*time.Millisecond, 100*time.Millisecond
		cfg.LeaderLeaseTimeout, cfg.CommitTimeout = 100*time.Millisecond, 5*time.Millisecond
	}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err == nil && !existing {
		err = n.markAdoptable() // topics from before the cluster
	}
	if err == nil && !existing && len(c.Seeds) == 0 {
		err = raft.BootstrapCluster(cfg, store, store, snaps, trans, raft.Configuration{Servers: []raft.Server{
			{ID: cfg.LocalID, Address: trans.LocalAddr()}}})
	}
	var r *raft.Raft
	fsm := controller.NewFSM()
	if err == nil {
		r, err = raft.NewRaft(cfg, fsm, store, store, snaps, trans)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("start the cluster controller: %w", err), trans.Close(), store.Close())
	}
	n.controller = &clusterController{n: n, raft: r, fsm: fsm, store: store, trans: trans, stop: make(chan struct{})}
	return nil
}

// snapshotStore keeps Raft snapshots beside the log on disk, in memory for
// a memory node.
func snapshotStore(fs fsx.FS, dir string, log *slog.Logger) (raft.SnapshotStore, error) {
	if _, inMemory := fs.(*fsx.Mem); inMemory {
		return raft.NewInmemSnapshotStore(), nil
	}
	return raft.NewFileSnapshotStoreWithLogger(dir, 2, logbridge.HCLog(log, "raft-snapshots"))
}

// raftStream is Raft's transport over TCP, dialling as the node dials
// the others (nodeDialer: its Dialer, and TLS with its identity).
type raftStream struct {
	net.Listener
	dial dialFunc
}

func (s raftStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.dial(ctx, "tcp", string(addr))
}

func raftID(nodeID int32) raft.ServerID { return raft.ServerID(strconv.Itoa(int(nodeID))) }

// raftAddr returns the address this node's Raft listens on.
func (c *clusterController) raftAddr() string { return string(c.trans.LocalAddr()) }

// run does the leader's duties whenever membership or leadership
// changes, and makes the node's topics follow the committed metadata.
func (c *clusterController) run() {
	ctx, cancel := context.WithCancel(context.Background())
	leaders, stopObserving := c.observeLeaders(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		defer stopObserving()
		for {
			applied := c.fsm.Changed()
			var recheck <-chan time.Time
			if c.registered() { // a restarted node replaying old metadata must not act on it
				if !c.n.reconcileTopics(ctx) {
					recheck = time.After(dutyRetry)
				}
				c.n.replicas.reconcile(c.fsm.Metadata())
			}
			select {
			case <-c.stop:
				return
			case <-applied:
			case <-leaders:
			case <-recheck:
			}
		}
	}()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.guardLeadership(ctx)
	}()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		gone := newGoneNodes(c.n.cfg.Cluster.ReplaceGoneAfter)
		var appliedTerm uint64 // the term whose predecessors' entries this node's FSM has applied
		for {
			changed, metadata := c.n.clusterChanged(), c.fsm.Changed()
			var expiry, retry <-chan time.Time
			if c.raft.State() == raft.Leader && appliedTerm != c.raft.CurrentTerm() {
				// A new leader decides on the metadata its FSM holds, which
				// may lack entries its predecessor committed: a barrier
				// returns once they are applied.
				term := c.raft.CurrentTerm()
				if c.raft.Barrier(10*time.Second).Error() == nil {
					appliedTerm = term
				}
			}
			if c.raft.State() == raft.Leader && appliedTerm == c.raft.CurrentTerm() {
				admitted, elected, seeded := c.admitMembers(), c.electLeaders(), c.seedScram()
				var moved bool
				expiry, moved = c.moveReplicas(gone)
				if !admitted || !elected || !moved || !seeded {
					retry = time.After(dutyRetry) // nothing else may come to ask again
				}
			} else if c.raft.State() == raft.Leader {
				retry = time.After(dutyRetry) // the barrier failed
			}
			select {
			case <-c.stop:
				return
			case <-changed:
			case <-metadata: // an ISR grew: a reassignment may be ready to finish
			case <-expiry: // a node has been gone long enough to replace
			case <-retry:
			case <-c.raft.LeaderCh():
			}
		}
	}()
}

// dutyRetry is how long the controller's leader waits before doing again
// a duty that failed to commit.
const dutyRetry = 250 * time.Millisecond

// catchUpWait bounds how long a request's authentication or authorization
// on a node not yet caught up with the cluster's metadata waits for it
// (awaitCaughtUp).
const catchUpWait = 5 * time.Second

// awaitCaughtUp waits, on the FSM's applied commands, until this node is
// registered (caught up with the metadata committed before it started:
// see registered), for at most timeout, and reports whether it is. The
// SCRAM credentials and ACLs a restarted node replays are stale until
// then: an authentication must not fail, nor an authorization pass, by
// metadata the cluster has since changed.
func (c *clusterController) awaitCaughtUp(timeout time.Duration) bool {
	return c.awaitMetadata(timeout, c.registered)
}

// awaitMetadata waits, on the FSM's applied commands, until done, for at
// most timeout, and reports whether it is.
func (c *clusterController) awaitMetadata(timeout time.Duration, done func() bool) bool {
	if done() {
		return true
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		changed := c.fsm.Changed()
		if done() {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		case <-c.stop:
			return false
		}
	}
}

// registered reports whether this node's FSM has applied the
// registration of the node's current incarnation (controller.RegisterNode).
// The controller's leader commits it after the node started, so once it
// is applied every entry committed before the node started is too: the
// node has caught up, as its FSM itself reports, and the leader has
// already moved leadership off the node's previous incarnation. Until
// then the node acts on no metadata. Raft's own counters cannot tell
// this: hashicorp/raft advances its applied index when it hands entries
// to the FSM goroutine, before they are applied, and a restarted node
// learns the commit index only from the leader. Acting on the metadata of
// a replay still under way made a restarted node delete its logs and lead
// at an old epoch.
func (c *clusterController) registered() bool {
	return c.fsm.Metadata().Nodes[c.n.nodeID()] == c.n.incarnation
}

// admitMembers adds live nodes the Raft configuration lacks: voters while
// there are fewer than maxVoters, non-voters after; and promotes live
// non-voters while voters are fewer than maxVoters (after retire). It
// reports whether it did all it had to.
func (c *clusterController) admitMembers() bool {
	future := c.raft.GetConfiguration()
	if future.Error() != nil {
		return false
	}
	voters, known := 0, map[raft.ServerID]raft.Server{}
	for _, s := range future.Configuration().Servers {
		known[s.ID] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	for _, m := range c.n.ClusterMembers() {
		id := raftID(m.NodeID)
		s, isKnown := known[id]
		promote := isKnown && s.Suffrage == raft.Nonvoter && voters < maxVoters // a voter was retired
		if m.RaftAddr == "" || isKnown && string(s.Address) == m.RaftAddr && !promote {
			continue
		}
		// A known node restarted on another address keeps its suffrage:
		// adding it again moves it.
		voter := isKnown && s.Suffrage == raft.Voter || !isKnown && voters < maxVoters || promote
		if promote {
			voters++
		}
		add := c.raft.AddNonvoter
		if voter {
			add = c.raft.AddVoter
		}
		if voter && !isKnown {
			voters++
		}
		if err := add(id, raft.ServerAddress(m.RaftAddr), 0, 10*time.Second).Error(); err != nil {
			c.n.log.Warn("could not admit a node to the controller", "node", m.NodeID, "err", err)
			return false // leadership may have moved
		}
		c.n.log.Info("node admitted to the controller", "node", m.NodeID, "voter", voter, "moved", isKnown)
	}
	return true
}

// electLeaders commits what follows from the live nodes: partitions whose
// leader is gone get a new one from their ISR, dead nodes leave ISRs. It
// reports whether it committed all it had to.
func (c *clusterController) electLeaders() bool {
	incarnations := map[int32]uint64{}
	for _, m := range c.n.ClusterMembers() {
		incarnations[m.NodeID] = m.Incarnation
	}
	for _, cmd := range controller.OnRestarts(c.fsm.Metadata(), incarnations) {
		if err := c.propose(context.Background(), cmd); err != nil {
			c.n.log.Warn("could not commit what a node's restart calls for", "err", err)
			return false
		}
		if r := cmd.RegisterNode; r != nil {
			c.n.log.Info("node registered", "node", r.Node, "incarnation", r.Incarnation)
		}
	}
	live := c.n.liveNodeIDs()
	for _, cmd := range controller.OnNodesChanged(c.fsm.Metadata(), live) {
		start := time.Now()
		if err := c.propose(context.Background(), cmd); err != nil {
			c.n.log.Warn("could not commit a leader change", "err", err)
			return false
		}
		if l := cmd.ChangeLeader; l != nil {
			c.n.log.Info("partition leader elected", "topic", l.Topic, "partition", l.Partition, "leader", l.Leader,
				"isr", l.ISR, "live", live, "took", time.Since(start))
		}
	}
	return true
}

// propose commits a metadata change through Raft; only the leader can.
func (c *clusterController) propose(ctx context.Context, cmd controller.Command) error {
	if c.raft.State() != raft.Leader {
		return ErrNotController
	}
	b, err := cmd.Encode()
	if err != nil {
		return err
	}
	timeout := 10 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline)
	}
	f := c.raft.Apply(b, timeout)
	if err := f.Error(); err != nil {
		return fmt.Errorf("commit metadata change: %w", err)
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}

// awaitLeader returns the node ID of the controller's leader, waiting, on
// Raft's leader observations, while none is known (a node just admitted,
// an election under way).
func (c *clusterController) awaitLeader(ctx context.Context) (int32, error) {
	observed, stop := c.observeLeaders(16)
	defer stop()
	for {
		if id := c.leader(); id >= 0 { // after registering: a change since is observed
			return id, nil
		}
		select {
		case <-observed:
		case <-ctx.Done():
			return -1, fmt.Errorf("%w: no controller leader is known: %w", ErrNotController, ctx.Err())
		}
	}
}

// observeLeaders returns a channel that receives Raft's observations of
// leader changes (dropped when buffer is full: a receiver then looks at
// the leader itself), and a function that stops them.
func (c *clusterController) observeLeaders(buffer int) (<-chan raft.Observation, func()) {
	observed := make(chan raft.Observation, buffer)
	o := raft.NewObserver(observed, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	c.raft.RegisterObserver(o)
	return observed, func() { c.raft.DeregisterObserver(o) }
}

// leader returns the node ID of the controller's leader, or -1.
func (c *clusterController) leader() int32 {
	_, id := c.raft.LeaderWithID()
	if id == "" {
		return -1
	}
	n, err := strconv.Atoi(string(id))
	if err != nil {
		return -1
	}
	return int32(n)
}

// close stops the duties, Raft, its transport and its store.
func (c *clusterController) close() error {
	close(c.stop)
	c.wg.Wait()
	err := c.raft.Shutdown().Error()
	c.trans.CloseStreams() // the connections it opened, so peers' handlers of them end too
	return errors.Join(err, c.trans.Close(), c.store.Close())
}
