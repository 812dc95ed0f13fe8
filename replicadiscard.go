// Dropping the data of partitions this node no longer holds a replica of.

package creek

import (
	"context"
	"slices"
	"time"

	"github.com/creekmq/creek/internal/idempotence"
	"github.com/creekmq/creek/internal/txnlog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A cluster node keeps every partition of every topic, but only the
// replicas hold records. When a reassignment takes this node out of a
// partition's replicas (asked for, or because the node was gone longer
// than ReplaceGoneAfter), the node empties its copy, as Kafka's broker
// does on StopReplica with delete — once the controller's leader confirms
// that the node is not a replica now. The node's own metadata is not
// enough: after a restart it replays old metadata, and a removal it reads
// there may have been undone since, with this node's log the copy that
// counts.

// discardRetry is how long the node waits before asking the controller's
// leader again after it could not answer.
const discardRetry = time.Second

// markDiscard queues a partition this node is not a replica of, if its
// log holds anything, for runDiscard to empty.
func (m *replicaManager) markDiscard(p *partition) {
	if p.log.EndOffset() == 0 {
		return
	}
	m.mu.Lock()
	m.discard[p] = struct{}{}
	m.mu.Unlock()
	select {
	case m.discardWake <- struct{}{}:
	default:
	}
}

// runDiscard empties the partitions markDiscard queued once the
// controller's leader confirms this node is not their replica.
func (m *replicaManager) runDiscard() {
	defer m.wg.Done()
	var retry <-chan time.Time
	for {
		select {
		case <-m.stop:
			return
		case <-m.discardWake:
		case <-retry:
		}
		retry = nil
		m.mu.Lock()
		pending := m.discard
		m.discard = map[*partition]struct{}{}
		m.mu.Unlock()
		if len(pending) == 0 {
			continue
		}
		again, err := m.discardConfirmed(pending)
		if err != nil {
			m.n.log.Debug("could not ask the controller which replicas to discard", "node", m.self, "err", err)
			again = pending
		}
		if len(again) > 0 {
			m.mu.Lock()
			for p := range again {
				m.discard[p] = struct{}{}
			}
			m.mu.Unlock()
			retry = time.After(discardRetry)
		}
	}
}

// discardConfirmed empties each pending partition that the controller's
// leader says this node is not a replica of, and returns those to ask of
// again: the leader named this node a replica while this node's own
// metadata, which the leader committed first, says it is not — an answer
// older than what this node applied (a leader's state machine applies a
// committed entry on its own time, and a follower may be first).
func (m *replicaManager) discardConfirmed(pending map[*partition]struct{}) (map[*partition]struct{}, error) {
	ctx, cancel := m.context(10 * time.Second)
	defer cancel()
	var topics []string
	for p := range pending {
		if !slices.Contains(topics, p.topic) {
			topics = append(topics, p.topic)
		}
	}
	replicas, err := m.n.controllerReplicas(ctx, topics)
	if err != nil {
		return nil, err
	}
	again := map[*partition]struct{}{}
	for p := range pending {
		r, known := replicas[TopicPartition{p.topic, p.index}]
		if !known {
			continue // the topic is gone, which deletes it here too
		}
		if slices.Contains(r, m.self) {
			if !p.hasRole() {
				again[p] = struct{}{}
			}
			continue // else this node is a replica again
		}
		discarded, err := p.discardNonReplica()
		switch {
		case err != nil:
			m.n.log.Error("could not discard the log of a partition this node is not a replica of",
				"topic", p.topic, "partition", p.index, "err", err)
		case discarded:
			m.n.log.Info("discarded the log of a partition this node is no longer a replica of",
				"topic", p.topic, "partition", p.index, "node", m.self, "replicas", r)
		}
	}
	return again, nil
}

// context returns a context that ends after timeout or when the manager
// stops, whichever comes first.
func (m *replicaManager) context(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// controllerReplicas returns the replicas of the partitions of topics as
// the controller's leader has them: from this node's metadata once every
// entry before a barrier is applied, if it leads, or with a Metadata
// request to the node that does.
func (n *Node) controllerReplicas(ctx context.Context, topics []string) (map[TopicPartition][]int32, error) {
	leader, err := n.controller.awaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	out := map[TopicPartition][]int32{}
	if leader == n.nodeID() {
		if err := n.controller.raft.Barrier(10 * time.Second).Error(); err != nil {
			return nil, err
		}
		meta := n.controller.fsm.Metadata()
		for _, name := range topics {
			if t := meta.Topics[name]; t != nil {
				for i, pm := range t.Partitions {
					out[TopicPartition{name, int32(i)}] = pm.Replicas
				}
			}
		}
		return out, nil
	}
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := n.askController(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, t := range resp.(*kmsg.MetadataResponse).Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		for _, p := range t.Partitions {
			out[TopicPartition{*t.Topic, p.Partition}] = p.Replicas
		}
	}
	return out, nil
}

// hasRole reports whether this node leads or follows the partition.
func (p *partition) hasRole() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.repl.role != roleNone
}

// discardNonReplica empties the log of a partition this node is not a
// replica of, with the leader epochs and producer states that describe
// it, and reports whether it did: a partition that became a replica again
// meanwhile keeps its log.
func (p *partition) discardNonReplica() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role != roleNone || p.log.EndOffset() == 0 {
		return false, nil
	}
	if err := p.log.discard(); err != nil {
		return false, err
	}
	if err := p.epochs.truncateFrom(0); err != nil {
		return false, err
	}
	p.producers = idempotence.NewTable()
	p.setTxnsLocked(txnlog.NewTracker())
	if err := removeProducerSnapshots(p.fs, p.dir); err != nil {
		return false, err
	}
	p.followerHW.Store(0)
	p.wake() // for those watching its log end
	return true, nil
}
