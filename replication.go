// Replication on a cluster node: roles from the controller, fetchers, ISR
// changes.

package creek

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/kafka"
)

// replicaManager is a cluster node's side of replication (DESIGN.md
// decision 7). It gives each partition the role the controller committed
// (leader, follower or neither), runs one fetcher per leader node that
// copies the partitions this node follows, and, for the partitions it
// leads, asks the controller to shrink the ISR of followers that lag and
// to grow it with followers that caught up. It empties the logs of
// partitions the node is no longer a replica of (replicadiscard.go).
type replicaManager struct {
	n      *Node
	self   int32
	lagMax time.Duration

	mu       sync.Mutex
	fetchers map[int32]*fetcher         // by leader node ID
	isr      map[*partition]isrProposal // ISR changes to propose, latest per partition
	isrWake  chan struct{}              // signalled when isr gains an entry
	discard  map[*partition]struct{}    // non-replicas whose logs to empty (replicadiscard.go)
	// discardWake is signalled when discard gains an entry.
	discardWake chan struct{}

	stop chan struct{}
	wg   sync.WaitGroup
}

// isrProposal is an ISR change a leader asks of the controller.
type isrProposal struct {
	epoch int32
	isr   []int32
}

func newReplicaManager(n *Node, self int32, lagMax time.Duration) *replicaManager {
	m := &replicaManager{n: n, self: self, lagMax: lagMax, fetchers: map[int32]*fetcher{},
		isr: map[*partition]isrProposal{}, isrWake: make(chan struct{}, 1),
		discard: map[*partition]struct{}{}, discardWake: make(chan struct{}, 1), stop: make(chan struct{})}
	m.wg.Add(2)
	go m.runISR()
	go m.runDiscard()
	return m
}

// reconcile gives this node's partitions the roles meta commits.
func (m *replicaManager) reconcile(meta *controller.Metadata) {
	var changes roleChanges
	defer changes.log(m.n.log, m.self)
	for _, name := range meta.TopicNames() {
		t := meta.Topics[name]
		for i, pm := range t.Partitions {
			p, err := m.n.partition(name, int32(i))
			if err != nil {
				continue // the topic reconciler has not made it yet; the next change comes back
			}
			st := leaderState{leader: pm.Leader, epoch: pm.LeaderEpoch, replicas: pm.Replicas, isr: pm.ISR}
			changes.add(p, m.apply(p, st), st.leader, st.epoch)
		}
	}
}

// apply gives one partition its role, and says what changed. A partition
// of __consumer_offsets also brings or takes away the coordination of its
// groups.
func (m *replicaManager) apply(p *partition, st leaderState) roleChange {
	if st.leader == m.self {
		m.unfollow(p)
		led, err := p.becomeLeader(m.self, st, m.lagMax)
		if err != nil {
			m.n.log.Error("could not lead a partition", "topic", p.topic, "partition", p.index, "err", err)
			return roleKept
		}
		m.n.coordinateOffsetsPartition(p, true)
		m.n.coordinateTxnPartition(p, true)
		if led {
			return roleLed
		}
		return roleKept
	}
	m.n.coordinateOffsetsPartition(p, false) // before following: the groups' members must look elsewhere
	m.n.coordinateTxnPartition(p, false)
	if !slices.Contains(st.replicas, m.self) {
		m.unfollow(p)
		p.follow(roleNone, st.leader, st.epoch)
		m.markDiscard(p)
		return roleKept
	}
	change := roleKept
	if p.follow(roleFollower, st.leader, st.epoch) {
		m.n.log.Debug("following a partition's leader", "topic", p.topic, "partition", p.index,
			"leader", st.leader, "epoch", st.epoch, "node", m.self)
		change = roleFollowed
	}
	m.followFrom(p, st.leader)
	return change
}

// followFrom makes the fetcher for leader copy p, and no other fetcher;
// with no leader (-1) none does.
func (m *replicaManager) followFrom(p *partition, leader int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.fetchers {
		if id != leader && f.remove(p) {
			m.stopIdleLocked(id, f)
		}
	}
	if leader < 0 {
		return
	}
	f := m.fetchers[leader]
	if f == nil {
		f = newFetcher(m, leader)
		m.fetchers[leader] = f
	}
	f.add(p)
}

// unfollow stops every fetcher copying p.
func (m *replicaManager) unfollow(p *partition) {
	m.followFrom(p, -1)
}

// stopIdleLocked stops a fetcher left with no partitions.
func (m *replicaManager) stopIdleLocked(leader int32, f *fetcher) {
	if f.empty() {
		delete(m.fetchers, leader)
		f.close()
	}
}

// requestISR asks the controller, in the background, to make isr the
// partition's in-sync replicas at the leader's epoch. Safe on a nil
// manager: a node outside a cluster has no ISR to change.
func (m *replicaManager) requestISR(p *partition, isr []int32) {
	if m == nil {
		return
	}
	p.mu.RLock()
	epoch := p.repl.epoch
	p.mu.RUnlock()
	m.mu.Lock()
	m.isr[p] = isrProposal{epoch: epoch, isr: isr}
	m.mu.Unlock()
	select {
	case m.isrWake <- struct{}{}:
	default:
	}
}

// runISR proposes the ISR changes leaders ask for, and every half of
// replica.lag.time.max.ms looks for followers that lag.
func (m *replicaManager) runISR() {
	defer m.wg.Done()
	ticker := time.NewTicker(m.lagMax / 2)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
			m.checkLagging()
		case <-m.isrWake:
		}
		m.mu.Lock()
		pending := m.isr
		m.isr = map[*partition]isrProposal{}
		m.mu.Unlock()
		for p, change := range pending {
			m.proposeISR(p, change)
		}
	}
}

// checkLagging queues an ISR shrink for each partition led here whose
// followers lag.
func (m *replicaManager) checkLagging() {
	for _, p := range m.n.allPartitions() {
		if epoch, isr, shrink := p.laggingReplicas(); shrink {
			m.mu.Lock()
			m.isr[p] = isrProposal{epoch: epoch, isr: isr}
			m.mu.Unlock()
		}
	}
}

// proposeISR commits an ISR change through the controller: directly on
// the controller's leader, otherwise with an AlterPartition request to it.
// A refused change (the leader was deposed meanwhile) is dropped: the
// metadata that deposed it is on its way.
func (m *replicaManager) proposeISR(p *partition, change isrProposal) {
	ctx, cancel := m.context(10 * time.Second) // the controller's answer must not outlive the manager
	defer cancel()
	cmd := controller.ChangeISR{Topic: p.topic, Partition: p.index, LeaderEpoch: change.epoch, ISR: change.isr}
	err := m.n.changeISR(ctx, cmd)
	if err != nil && !errors.Is(err, controller.ErrRejected) {
		m.n.log.Warn("could not change a partition's in-sync replicas", "topic", p.topic, "partition", p.index,
			"isr", change.isr, "err", err)
	}
}

// changeISR commits an ISR change on the controller's leader, forwarding
// it when that is another node.
func (n *Node) changeISR(ctx context.Context, cmd controller.ChangeISR) error {
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return err
	}
	if leader == n.cfg.Cluster.NodeID {
		return n.controller.propose(ctx, controller.Command{ChangeISR: &cmd})
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.BrokerID = n.cfg.Cluster.NodeID
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.Topic = cmd.Topic
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.NewISR = cmd.Partition, cmd.LeaderEpoch, cmd.ISR
	rt.Partitions = []kmsg.AlterPartitionRequestTopicPartition{rp}
	req.Topics = []kmsg.AlterPartitionRequestTopic{rt}
	resp, err := n.askController(ctx, req)
	if err != nil {
		return err
	}
	got := resp.(*kmsg.AlterPartitionResponse)
	if got.ErrorCode != 0 {
		return errorForCode(got.ErrorCode, "change ISR on the controller")
	}
	if len(got.Topics) != 1 || len(got.Topics[0].Partitions) != 1 {
		return errors.New("the controller answered AlterPartition for other partitions")
	}
	return errorForCode(got.Topics[0].Partitions[0].ErrorCode, "change ISR on the controller")
}

// close stops the fetchers and the ISR loop.
func (m *replicaManager) close() {
	close(m.stop)
	m.mu.Lock()
	fetchers := m.fetchers
	m.fetchers = map[int32]*fetcher{}
	m.mu.Unlock()
	for _, f := range fetchers {
		f.close()
	}
	m.wg.Wait()
}

// allPartitions returns every partition of every topic on this node.
func (n *Node) allPartitions() []*partition {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []*partition
	for _, t := range n.topics {
		out = append(out, t.partitions...)
	}
	return out
}

// leadership describes a topic's partitions for Metadata: outside a
// cluster, and for internal topics, this node leads each alone; in a
// cluster as the controller committed.
func (n *Node) leadership(topic string, count int) []kafka.PartitionMetadata {
	out := make([]kafka.PartitionMetadata, count)
	var committed *controller.Topic
	if n.controller != nil {
		committed = n.controller.fsm.Metadata().Topics[topic]
	}
	for i := range out {
		if committed != nil && i < len(committed.Partitions) {
			pm := committed.Partitions[i]
			out[i] = kafka.PartitionMetadata{Leader: pm.Leader, LeaderEpoch: pm.LeaderEpoch, Replicas: pm.Replicas, ISR: pm.ISR}
			continue
		}
		self := n.nodeID()
		out[i] = kafka.PartitionMetadata{Leader: self, Replicas: []int32{self}, ISR: []int32{self}}
	}
	n.fenceLeadership(out)
	return out
}

// nodeID returns the node's ID in the cluster, 0 outside one.
func (n *Node) nodeID() int32 {
	if n.cfg.Cluster == nil {
		return 0
	}
	return n.cfg.Cluster.NodeID
}

// awaitReplication waits for done, an acks=all write's replication, until
// ctx ends or timeout passes.
func awaitReplication(ctx context.Context, done <-chan error, timeout time.Duration) error {
	if done == nil {
		return nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return ErrReplicationTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}
