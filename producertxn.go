// A transactional producer's transactions (ProducerConfig.TransactionalID):
// BeginTransaction, CommitTransaction, AbortTransaction and SendOffsets,
// as Kafka's transactional producer has them.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/acl"
)

// producerTxn is a transactional producer's transaction.
type producerTxn struct {
	// mu is held shared by each ProduceAsync and SendOffsets from its
	// check that a transaction is open until its record or offsets are
	// in it, and exclusively by what begins or ends one: nothing joins a
	// transaction once its end has begun.
	mu     sync.RWMutex
	open   bool                  // guarded by mu
	fenced atomic.Pointer[error] // a newer producer fenced this one: final

	addMu  sync.Mutex              // guards added and groups, and orders the adds
	added  map[topicPartition]bool // partitions the coordinator has in the transaction
	groups map[string]bool         // groups whose offsets it has in the transaction
	failed error                   // guarded by Producer.mu: a send of the transaction failed
}

// failLocked notes that a send of the transaction failed; call it holding
// the Producer's mu.
func (t *producerTxn) failLocked(err error) {
	if t.failed == nil {
		t.failed = err
	}
}

// initTxn gives a transactional producer its producer ID and epoch from
// the transaction's coordinator, fencing every older producer with its
// transactional ID, and makes its sends name the ID.
func (p *Producer) initTxn() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.DeliveryTimeout)
	defer cancel()
	id, epoch, err := p.node.initTxnProducerAt(ctx, p.cfg.TransactionalID, p.cfg.TransactionTimeout, -1, -1)
	if err != nil {
		return fmt.Errorf("transactional producer %s: %w", p.cfg.TransactionalID, err)
	}
	p.id = producerIdentity{producerID: id, epoch: epoch}
	p.appendTo = func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (func() (int64, int64, error), error) {
		return p.node.appendAs(ctx, p.cfg.TransactionalID, topic, partition, b, acksAll)
	}
	return nil
}

// BeginTransaction begins a transaction: the records produced until it
// ends belong to it. It fails with ErrNoTransaction while one is open, and
// ErrInvalidConfig for a producer without a TransactionalID.
func (p *Producer) BeginTransaction() error {
	if p.cfg.TransactionalID == "" {
		return fmt.Errorf("%w: the producer has no TransactionalID", ErrInvalidConfig)
	}
	t := &p.txn
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.fenced.Load() != nil:
		return *t.fenced.Load()
	case t.open:
		return fmt.Errorf("%w: a transaction is open", ErrNoTransaction)
	}
	t.open = true
	t.addMu.Lock()
	t.added, t.groups = map[topicPartition]bool{}, map[string]bool{}
	t.addMu.Unlock()
	p.mu.Lock()
	t.failed = nil
	p.mu.Unlock()
	return nil
}

// joinTxn makes a record of tp part of the open transaction, adding tp to
// it at the coordinator the first time. The record must be queued before
// release is called.
func (p *Producer) joinTxn(ctx context.Context, tp topicPartition) (release func(), err error) {
	t := &p.txn
	t.mu.RLock()
	if err := t.openRLocked(); err != nil {
		t.mu.RUnlock()
		return nil, err
	}
	t.addMu.Lock()
	defer t.addMu.Unlock()
	if !t.added[tp] {
		id := p.identity()
		err := p.node.addToTxnAt(ctx, p.cfg.TransactionalID, id.producerID, id.epoch, []TopicPartition{{tp.topic, tp.partition}})
		if err != nil {
			t.mu.RUnlock()
			return nil, p.txnError(err)
		}
		t.added[tp] = true
	}
	return t.mu.RUnlock, nil
}

// openRLocked returns nil if a transaction is open; hold t.mu.
func (t *producerTxn) openRLocked() error {
	switch {
	case t.fenced.Load() != nil:
		return *t.fenced.Load()
	case !t.open:
		return ErrNoTransaction
	}
	return nil
}

// identity returns the producer's ID and epoch now.
func (p *Producer) identity() producerIdentity {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

// SendOffsets commits the consumer's positions in its assigned
// partitions to its group within the open transaction, as Kafka's
// sendOffsetsToTransaction does with the consumer's group metadata: they
// count only if the transaction commits, and a member that a rebalance
// moved to another generation cannot commit them.
func (p *Producer) SendOffsets(ctx context.Context, c *Consumer) error {
	if err := p.as.may(acl.Read, acl.Group, c.cfg.Group); err != nil {
		return err
	}
	member, offsets, err := c.positionsToCommit(nil)
	if err != nil {
		return err
	}
	group := c.cfg.Group
	t := &p.txn
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.openRLocked(); err != nil {
		return err
	}
	id := p.identity()
	t.addMu.Lock()
	if !t.groups[group] {
		if err := p.node.addOffsetsToTxnAt(ctx, p.cfg.TransactionalID, id.producerID, id.epoch, group); err != nil {
			t.addMu.Unlock()
			return p.txnError(err)
		}
		t.groups[group] = true
	}
	t.addMu.Unlock()
	err = p.node.commitTxnOffsetsAt(ctx, p.cfg.TransactionalID, group, id.producerID, id.epoch, member, offsets)
	return p.txnError(err)
}

// CommitTransaction sends the records of the open transaction, waits for
// them, and commits it with its offsets: readers with ReadCommitted then
// see them all, and see none if it fails. When a record of the
// transaction failed it returns ErrAbortRequired, and the transaction is
// still open: abort it. An error from the coordinator leaves it open too,
// and CommitTransaction may be called again.
func (p *Producer) CommitTransaction(ctx context.Context) error { return p.endTxn(ctx, true) }

// AbortTransaction waits for the records of the open transaction to be
// sent or to fail, and aborts it with its offsets: readers with
// ReadCommitted never see them.
func (p *Producer) AbortTransaction(ctx context.Context) error { return p.endTxn(ctx, false) }

func (p *Producer) endTxn(ctx context.Context, commit bool) error {
	t := &p.txn
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.openRLocked(); err != nil {
		return err
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	failed, id := t.failed, p.id
	p.mu.Unlock()
	if commit && failed != nil {
		return fmt.Errorf("%w: %w", ErrAbortRequired, failed)
	}
	t.addMu.Lock()
	begun := len(t.added)+len(t.groups) > 0 // else the coordinator knows no transaction
	t.addMu.Unlock()
	if begun {
		pid, epoch, err := p.node.endTxnAt(ctx, p.cfg.TransactionalID, id.producerID, id.epoch, commit)
		if err != nil {
			return p.txnError(err)
		}
		if pid != id.producerID || epoch != id.epoch { // transaction version 2: the end bumped the epoch
			p.setTxnIdentity(pid, epoch)
			id = p.identity()
		}
	}
	t.open = false
	if failed != nil {
		return p.renewTxnEpoch(ctx, id)
	}
	return nil
}

// abortOpenTxn aborts the transaction a closing producer left open.
func (p *Producer) abortOpenTxn(ctx context.Context) error {
	t := &p.txn
	t.mu.RLock()
	open := t.open && t.fenced.Load() == nil
	t.mu.RUnlock()
	if !open {
		return nil
	}
	if err := p.AbortTransaction(ctx); err != nil && !errors.Is(err, ErrNoTransaction) {
		return err
	}
	return nil
}

// renewTxnEpoch bumps the producer's epoch at its coordinator after a
// transaction with a failed send was aborted (KIP-360): that send may
// have been stored, so its sequences are in doubt, and the next
// transaction starts every partition's sequences again under the new
// epoch.
func (p *Producer) renewTxnEpoch(ctx context.Context, id producerIdentity) error {
	pid, epoch, err := p.node.initTxnProducerAt(ctx, p.cfg.TransactionalID, p.cfg.TransactionTimeout, id.producerID, id.epoch)
	if err != nil {
		return p.txnError(err)
	}
	p.setTxnIdentity(pid, epoch)
	return nil
}

// setTxnIdentity makes the producer go on as producer pid at epoch, a new
// epoch or ID its coordinator gave it, starting every partition's
// sequences again.
func (p *Producer) setTxnIdentity(pid int64, epoch int16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.id = producerIdentity{producerID: pid, epoch: epoch, generation: p.id.generation + 1}
	for _, pp := range p.partitions {
		pp.sequence = 0
	}
}

// txnError returns err, noting a fenced producer for good: a newer
// producer with the transactional ID has its epoch.
func (p *Producer) txnError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, ErrProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, ErrInvalidProducerEpoch) {
		fenced := fmt.Errorf("%w: %s: %v", ErrProducerFenced, p.cfg.TransactionalID, err)
		p.txn.fenced.CompareAndSwap(nil, &fenced)
		return fenced
	}
	return err
}
