// Transaction verification (KIP-890's first part, which Kafka applies to
// every client): a partition appends the first transactional batch of a
// producer's transaction only once the transaction's coordinator says the
// partition is in it, so a batch that arrives after its transaction ended
// cannot begin one that no coordinator will ever end.

package creek

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

// verifyTxnBatch checks a client's batch for p: a transactional data
// batch of a producer without a transaction open in p at the batch's
// epoch is verified with the coordinator of transactionalID. A
// coordinator that cannot answer now makes the produce
// NOT_ENOUGH_REPLICAS, which every client retries, as Kafka does.
func (n *Node) verifyTxnBatch(ctx context.Context, p *partition, b []byte, transactionalID string) error {
	h, err := batch.ParseHeader(b)
	if err != nil || !h.Transactional() || h.Control() || h.ProducerID < 0 {
		return nil // the append refuses what does not parse, and checks the rest
	}
	if transactionalID == "" {
		return fmt.Errorf("%w: a transactional batch without a transactional ID", ErrInvalidTxnState)
	}
	p.producersMu.Lock()
	epoch, open := p.txns.Open(h.ProducerID)
	p.producersMu.Unlock()
	if open && epoch == h.ProducerEpoch {
		return nil
	}
	err = n.verifyTxnPartition(ctx, transactionalID, h.ProducerID, h.ProducerEpoch, TopicPartition{p.topic, p.index})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCoordinatorNotAvailable), errors.Is(err, ErrNotCoordinator),
		errors.Is(err, ErrCoordinatorLoading), errors.Is(err, kerr.ConcurrentTransactions),
		errors.Is(err, kerr.CoordinatorNotAvailable), errors.Is(err, kerr.NotCoordinator),
		errors.Is(err, kerr.CoordinatorLoadInProgress):
		return fmt.Errorf("%w: verify the transaction: %v", ErrNotEnoughReplicas, err)
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch):
		return fmt.Errorf("%w: %v", ErrInvalidProducerEpoch, err)
	}
	return fmt.Errorf("%w: the partition is not in the producer's transaction: %v", ErrInvalidTxnState, err)
}

// verifyTxnPartition asks the coordinator of a transactional ID, here or
// elsewhere (AddPartitionsToTxn v4 with VerifyOnly), whether the
// producer's ongoing transaction holds tp.
func (n *Node) verifyTxnPartition(ctx context.Context, id string, pid int64, epoch int16, tp TopicPartition) error {
	coordinator, err := n.txnCoordinator(ctx, id)
	if err != nil {
		return err
	}
	if coordinator == n.nodeID() {
		return n.verifyTxn(ctx, id, pid, epoch, []TopicPartition{tp})
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	rtx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly = id, pid, epoch, true
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = tp.Topic, []int32{tp.Partition}
	rtx.Topics = append(rtx.Topics, rt)
	req.Transactions = append(req.Transactions, rtx)
	r, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	code, what := addPartitionsCode(r.(*kmsg.AddPartitionsToTxnResponse), "verify the transaction")
	return errorForCode(code, what)
}
