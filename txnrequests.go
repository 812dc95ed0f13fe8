// The transaction coordinator's requests, as Kafka's clients make them:
// InitProducerId with a transactional ID, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, and the describing ones.

package creek

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/txn"
)

// initTxnProducer gives the producer of a transactional ID its producer
// ID and a new epoch, fencing every older instance; pid and epoch are
// what it had, -1 for none (KIP-360). A transaction left ongoing is
// aborted first, and the producer told to ask again
// (CONCURRENT_TRANSACTIONS).
func (n *Node) initTxnProducer(ctx context.Context, id string, timeout time.Duration, pid int64, epoch int16) (int64, int16, error) {
	t, err := n.txnStep(ctx, id, func(c *txn.Coordinator, now time.Time) (*txn.Transition, error) {
		return c.InitProducerID(id, timeout, pid, epoch, now)
	})
	if err == nil {
		err = t.Reply
	}
	if err != nil {
		return -1, -1, err
	}
	return t.To.ProducerID, t.To.Epoch, nil
}

// addPartitionsToTxn adds partitions to the producer's transaction,
// beginning one if none is ongoing. Partitions that do not exist are
// refused by name, and then none is added.
func (n *Node) addPartitionsToTxn(ctx context.Context, id string, pid int64, epoch int16, partitions []TopicPartition) (map[TopicPartition]error, error) {
	var unknown map[TopicPartition]error
	for _, tp := range partitions {
		count, err := n.existingPartitionCount(tp.Topic)
		if err == nil && (tp.Partition < 0 || tp.Partition >= count) {
			err = fmt.Errorf("%w: %s-%d", ErrUnknownTopic, tp.Topic, tp.Partition)
		}
		if err != nil {
			if unknown == nil {
				unknown = map[TopicPartition]error{}
			}
			unknown[tp] = err
		}
	}
	if unknown != nil {
		return unknown, kerr.OperationNotAttempted
	}
	return nil, n.addToTxn(ctx, id, pid, epoch, partitions)
}

// addOffsetsToTxn adds the group's partition of __consumer_offsets to the
// producer's transaction, so that the offsets it commits there
// (TxnOffsetCommit) commit or abort with it.
func (n *Node) addOffsetsToTxn(ctx context.Context, id string, pid int64, epoch int16, group string) error {
	if group == "" {
		return fmt.Errorf("%w: empty group", ErrInvalidGroupID)
	}
	count, err := n.ensureCoordinatorTopic(ctx, n.offsetsTopic(), group)
	if err != nil {
		return err
	}
	return n.addToTxn(ctx, id, pid, epoch, []TopicPartition{{ConsumerOffsetsTopic, keyPartition(group, count)}})
}

func (n *Node) addToTxn(ctx context.Context, id string, pid int64, epoch int16, partitions []TopicPartition) error {
	in := make([]txn.Partition, len(partitions))
	for i, tp := range partitions {
		in[i] = txn.Partition{Topic: tp.Topic, Partition: tp.Partition}
	}
	_, err := n.txnStep(ctx, id, func(c *txn.Coordinator, now time.Time) (*txn.Transition, error) {
		return c.AddPartitions(id, pid, epoch, in, now)
	})
	return err
}

// verifyTxn reports whether the producer's ongoing transaction holds the
// partitions (AddPartitionsToTxn v4+ with VerifyOnly).
func (n *Node) verifyTxn(ctx context.Context, id string, pid int64, epoch int16, partitions []TopicPartition) error {
	tp, err := n.ownTxn(ctx, id)
	if err != nil {
		return err
	}
	in := make([]txn.Partition, len(partitions))
	for i, p := range partitions {
		in[i] = txn.Partition{Topic: p.Topic, Partition: p.Partition}
	}
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	return tp.state.Verify(id, pid, epoch, in)
}

// txnEndWait bounds how long EndTxn waits for the transaction's markers
// after its decision is written. Kafka answers at once; waiting a little
// spares the producer's next transaction a CONCURRENT_TRANSACTIONS and
// lets a read_committed reader see the records when the commit returns.
const txnEndWait = time.Second

// endTxn commits or aborts the producer's transaction: the decision is
// written to __transaction_state, then the markers to every partition in
// it, which the coordinator goes on writing (and a new coordinator
// writes) until they are all written. It returns the producer ID and
// epoch the producer goes on with, which at version V2 the end bumped.
func (n *Node) endTxn(ctx context.Context, id string, pid int64, epoch int16, commit bool, v txn.Version) (int64, int16, error) {
	tp, err := n.ownTxn(ctx, id)
	if err != nil {
		return -1, -1, err
	}
	t, err := n.txnStepAt(ctx, tp, func(c *txn.Coordinator, now time.Time) (*txn.Transition, error) {
		return c.EndTxn(id, pid, epoch, commit, v, now)
	})
	if err != nil {
		return -1, -1, err
	}
	if t == nil { // a retry of an end complete: the producer goes on as it left it
		n.txns.mu.Lock()
		m, _ := tp.state.Describe(id)
		n.txns.mu.Unlock()
		next, nextEpoch := m.Next()
		return next, nextEpoch, nil
	}
	wait, cancel := context.WithTimeout(ctx, txnEndWait)
	defer cancel()
	n.awaitTxnEnd(wait, tp, id)
	next, nextEpoch := t.To.Next()
	return next, nextEpoch, nil
}

// describeTxn returns a transactional ID's state, or an error for one
// this node does not coordinate or does not know.
func (n *Node) describeTxn(ctx context.Context, id string) (txn.Metadata, error) {
	tp, err := n.ownTxn(ctx, id)
	if err != nil {
		return txn.Metadata{}, err
	}
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	m, ok := tp.state.Describe(id)
	if !ok {
		return txn.Metadata{}, kerr.TransactionalIDNotFound
	}
	return m, nil
}

// listTxns returns the transactional IDs this node coordinates.
func (n *Node) listTxns() []txn.Metadata {
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	var out []txn.Metadata
	for _, tp := range n.txns.parts {
		out = append(out, tp.state.List()...)
	}
	return out
}

// unstableOffset reports whether a transaction not yet ended committed an
// offset of the group in tp.
func (n *Node) unstableOffset(group string, tp TopicPartition) bool {
	return n.unstableOffsets(group, []TopicPartition{tp})
}

// unstableOffsets reports whether a transaction not yet ended committed an
// offset of the group in one of partitions, or in any when none are named.
func (n *Node) unstableOffsets(group string, partitions []TopicPartition) bool {
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	return n.offsets.unstableLocked(group, partitions)
}
