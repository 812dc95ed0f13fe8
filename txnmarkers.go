// The second phase of a transaction: writing its COMMIT or ABORT marker
// to every partition in it, on this node or on the partitions' leaders
// (WriteTxnMarkers), then completing it in __transaction_state.

package creek

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/txn"
	"github.com/creekmq/creek/internal/txnlog"
)

// endTxnLocked starts writing the markers of m, a transaction being
// committed or aborted, unless they are being written already. It runs
// until they are all written and the transaction is complete, or until
// this node no longer coordinates the partition (the new coordinator
// writes them), a partition refuses a marker as from a fenced
// coordinator (a newer one wrote the producer's markers: this node's
// epoch is stale, and it would be refused forever), or it closes (it
// writes them when it opens again).
func (n *Node) endTxnLocked(tp *txnPartition, m txn.Metadata) {
	id := m.TransactionalID
	if tp.ending[id] != nil {
		return
	}
	done := make(chan struct{})
	tp.ending[id] = done
	n.txns.wg.Go(func() {
		defer func() {
			n.txns.mu.Lock()
			delete(tp.ending, id)
			n.txns.mu.Unlock()
			close(done)
		}()
		for attempt := 0; ; attempt++ {
			err := n.finishTxn(n.txns.ctx, tp, m)
			if err == nil || n.txns.ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrTxnCoordinatorFenced) {
				n.log.Warn("a newer transaction coordinator fenced this one; leaving the transaction to it",
					"transactional_id", id, "coordinator_epoch", tp.epoch, "err", err)
				return
			}
			n.txns.mu.Lock()
			still := n.coordinatesLocked(tp)
			n.txns.mu.Unlock()
			if !still {
				return
			}
			if attempt%50 == 0 { // every 5 s or so, not every try
				n.log.Warn("could not end a transaction yet; trying again", "transactional_id", id, "err", err)
			}
			select {
			case <-time.After(leaderRetryInterval):
			case <-n.txns.ctx.Done():
				return
			}
		}
	})
}

// finishTxn writes m's markers to every partition in it, then completes
// it.
func (n *Node) finishTxn(ctx context.Context, tp *txnPartition, m txn.Metadata) error {
	marker := txnlog.Marker{ProducerID: m.ProducerID, Epoch: m.Epoch, Commit: m.State == txn.PrepareCommit,
		CoordinatorEpoch: tp.epoch}
	for _, p := range m.SortedPartitions() {
		err := n.writeTxnMarker(ctx, TopicPartition{p.Topic, p.Partition}, marker)
		if err != nil && !errors.Is(err, ErrUnknownTopic) { // a partition deleted meanwhile needs none
			return fmt.Errorf("marker for %s-%d: %w", p.Topic, p.Partition, err)
		}
	}
	n.txns.mu.Lock()
	t, err := tp.state.MarkersWritten(m.TransactionalID, n.now())
	n.txns.mu.Unlock()
	if err != nil {
		return err
	}
	return n.writeTransition(ctx, tp, t)
}

// awaitTxnEnd waits until the markers of a transactional ID being ended
// are written, or ctx ends.
func (n *Node) awaitTxnEnd(ctx context.Context, tp *txnPartition, id string) {
	n.txns.mu.Lock()
	done := tp.ending[id]
	n.txns.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// writeTxnMarker writes a marker to a partition: here if this node leads
// it, otherwise with a WriteTxnMarkers request to its leader.
func (n *Node) writeTxnMarker(ctx context.Context, tp TopicPartition, m txnlog.Marker) error {
	leader := n.partitionLeader(tp.Topic, tp.Partition)
	if n.controller == nil || leader == n.nodeID() {
		return n.writeLocalMarker(ctx, tp, m)
	}
	if leader < 0 || n.memberKafkaAddr(leader) == "" {
		return fmt.Errorf("%w: %s-%d has no live leader", ErrNotLeader, tp.Topic, tp.Partition)
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed, rm.CoordinatorEpoch = m.ProducerID, m.Epoch, m.Commit, m.CoordinatorEpoch
	rt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	rt.Topic, rt.Partitions = tp.Topic, []int32{tp.Partition}
	rm.Topics = append(rm.Topics, rt)
	req.Markers = append(req.Markers, rm)
	r, err := n.peers.request(ctx, leader, req)
	if err != nil {
		return err
	}
	resp := r.(*kmsg.WriteTxnMarkersResponse)
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if err := errorForCode(rp.ErrorCode, fmt.Sprintf("marker for %s-%d on node %d", rt.Topic, rp.Partition, leader)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeLocalMarker writes a transaction's marker to a partition this node
// leads (Kafka's WriteTxnMarkers, which a transaction coordinator sends):
// its producer's transaction there ends, committed or aborted. A marker
// for a partition of __consumer_offsets also commits or drops the
// offsets the transaction committed there.
func (n *Node) writeLocalMarker(ctx context.Context, tp TopicPartition, m txnlog.Marker) error {
	p, err := n.partition(tp.Topic, tp.Partition)
	if err != nil {
		return err
	}
	if err := p.writeMarker(ctx, m); err != nil {
		return err
	}
	if tp.Topic == ConsumerOffsetsTopic {
		n.offsets.mu.Lock()
		n.offsets.endTxnLocked(tp.Partition, m.ProducerID, m.Commit)
		n.offsets.mu.Unlock()
	}
	return nil
}
