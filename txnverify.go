// Transaction verification (KIP-890): a partition appends the first
// transactional batch of a producer's transaction only once the
// transaction's coordinator says the partition is in it (the first part,
// which Kafka applies to every client), or has added it (the second part,
// transaction version 2: Produce v12+ and TxnOffsetCommit v5+ skip
// AddPartitionsToTxn and AddOffsetsToTxn). So a batch that arrives after
// its transaction ended cannot begin one that no coordinator will ever end.

package creek

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/kafka"
)

// verifyTxnBatch checks a client's batch for p: a transactional data
// batch is appended once p is in its producer's transaction (joinTxn).
func (n *Node) verifyTxnBatch(ctx context.Context, p *partition, b []byte, tx kafka.Txn) error {
	h, err := batch.ParseHeader(b)
	if err != nil || !h.Transactional() || h.Control() || h.ProducerID < 0 {
		return nil // the append refuses what does not parse, and checks the rest
	}
	if tx.ID == "" {
		return fmt.Errorf("%w: a transactional batch without a transactional ID", ErrInvalidTxnState)
	}
	return n.joinTxn(ctx, p, tx, h.ProducerID, h.ProducerEpoch)
}

// joinTxn returns once p is in the transaction of the producer pid at
// epoch, whose transactional ID is tx.ID: at once when p has the
// transaction open at that epoch already, else when its coordinator says
// p is in it, or has added p to it (tx.Add). A coordinator that cannot
// answer now, or does not know p's topic yet (its node's metadata behind
// this one's, as just after the topic was made), makes the write
// NOT_ENOUGH_REPLICAS, which every client retries, as Kafka does.
func (n *Node) joinTxn(ctx context.Context, p *partition, tx kafka.Txn, pid int64, epoch int16) error {
	p.producersMu.Lock()
	openEpoch, open := p.txns.Open(pid)
	p.producersMu.Unlock()
	if open && openEpoch == epoch {
		return nil
	}
	err := n.txnHoldsRetrying(ctx, tx, pid, epoch, TopicPartition{p.topic, p.index})
	switch {
	case err == nil:
		return nil
	case transientAtCoordinator(err), errors.Is(err, ErrCoordinatorNotAvailable), errors.Is(err, ErrNotCoordinator),
		errors.Is(err, ErrCoordinatorLoading),
		errors.Is(err, kerr.CoordinatorNotAvailable), errors.Is(err, kerr.NotCoordinator),
		errors.Is(err, kerr.CoordinatorLoadInProgress):
		return fmt.Errorf("%w: verify the transaction: %v", ErrNotEnoughReplicas, err)
	case errors.Is(err, kerr.ProducerFenced), errors.Is(err, kerr.InvalidProducerEpoch),
		errors.Is(err, ErrProducerFenced), errors.Is(err, ErrInvalidProducerEpoch): // a remote coordinator's, by code
		return fmt.Errorf("%w: %v", ErrInvalidProducerEpoch, err)
	}
	if !tx.Abortable && (errors.Is(err, kerr.TransactionAbortable) || errors.Is(err, ErrTransactionAbortable)) {
		return fmt.Errorf("%w: the partition is not in the producer's transaction: %v", ErrInvalidTxnState, err)
	}
	if errors.Is(err, kerr.TransactionAbortable) {
		return fmt.Errorf("%w: %v", ErrTransactionAbortable, err)
	}
	return err
}

// Verification waits out a coordinator that answers
// CONCURRENT_TRANSACTIONS (the producer's last transaction still writing
// its markers, which the next one's first batch may well follow at once at
// transaction version 2), or does not know the partition yet, asking
// again after a backoff that grows from joinTxnBackoff to
// joinTxnMaxBackoff, for at most joinTxnWait, as Kafka's
// brokers do (add.partitions.to.txn.retry.backoff.ms and .max.ms): a
// client told NOT_ENOUGH_REPLICAS would wait for its metadata to refresh,
// franz-go five seconds.
const (
	joinTxnBackoff    = 20 * time.Millisecond
	joinTxnMaxBackoff = 100 * time.Millisecond
	joinTxnWait       = 5 * time.Second
)

// txnHoldsRetrying is txnHolds, asked again while the coordinator's
// answer is transientAtCoordinator, for at most joinTxnWait.
func (n *Node) txnHoldsRetrying(ctx context.Context, tx kafka.Txn, pid int64, epoch int16, tp TopicPartition) error {
	return whileTransient(ctx, joinTxnWait, func() error { return n.txnHolds(ctx, tx, pid, epoch, tp) })
}

// transientAtCoordinator reports whether the coordinator's answer may be
// different if asked again at once: CONCURRENT_TRANSACTIONS while it
// writes the producer's last transition, or a partition it does not know
// yet.
func transientAtCoordinator(err error) bool {
	return errors.Is(err, kerr.ConcurrentTransactions) || errors.Is(err, ErrUnknownTopic) ||
		errors.Is(err, kerr.UnknownTopicOrPartition)
}

// whileTransient calls try until it returns an answer that is not
// transientAtCoordinator, or wait or ctx ends, and returns its last
// error; between calls it waits a backoff from joinTxnBackoff to
// joinTxnMaxBackoff.
func whileTransient(ctx context.Context, wait time.Duration, try func() error) error {
	deadline := time.Now().Add(wait)
	for backoff := joinTxnBackoff; ; backoff = min(2*backoff, joinTxnMaxBackoff) {
		err := try()
		if !transientAtCoordinator(err) || time.Now().Add(backoff).After(deadline) {
			return err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
	}
}

// txnHolds asks the coordinator of transactional ID tx.ID, here or
// elsewhere (AddPartitionsToTxn v4+, VerifyOnly unless tx.Add), whether
// the producer's ongoing transaction holds tp, or to add tp to it.
func (n *Node) txnHolds(ctx context.Context, tx kafka.Txn, pid int64, epoch int16, tp TopicPartition) error {
	coordinator, err := n.txnCoordinator(ctx, tx.ID)
	if err != nil {
		return err
	}
	if coordinator == n.nodeID() {
		if tx.Add {
			unknown, err := n.addPartitionsToTxn(ctx, tx.ID, pid, epoch, []TopicPartition{tp})
			if e := unknown[tp]; e != nil {
				return e // not OPERATION_NOT_ATTEMPTED: it is the only one
			}
			return err
		}
		return n.verifyTxn(ctx, tx.ID, pid, epoch, []TopicPartition{tp})
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	rtx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly = tx.ID, pid, epoch, !tx.Add
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
