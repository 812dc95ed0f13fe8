// The node's transaction coordinator: the transactional IDs of the
// __transaction_state partitions this node leads, read when it becomes
// their leader, and each step of a transaction written there before it
// takes effect.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/txn"
)

// DefaultTransactionStatePartitions is the partition count of
// __transaction_state: Kafka's transaction.state.log.num.partitions.
const DefaultTransactionStatePartitions = 50

// defaultTxnStateReplicationFactor is Kafka's
// transaction.state.log.replication.factor.
const defaultTxnStateReplicationFactor = 3

// A transactional ID's coordinator is the node leading the ID's partition
// of __transaction_state, as a group's is for __consumer_offsets. Each
// step of a transaction (txn.Coordinator decides it) is written to that
// partition with acks=all before it takes effect, so a node that becomes
// the partition's leader reads every acknowledged step, and finishes the
// transactions the old leader left being committed or aborted: their
// markers are written again, which partitions accept twice.

// txnStore holds the coordinators of the __transaction_state partitions
// this node leads and has read, and the goroutines that write markers and
// expire transactions.
type txnStore struct {
	mu    sync.Mutex
	parts map[int32]*txnPartition // by partition of __transaction_state

	ctx    context.Context // ended by Close: the goroutines stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// txnPartition coordinates the transactional IDs of one partition of
// __transaction_state.
type txnPartition struct {
	index int32
	// epoch is the coordinator epoch: the partition's leader epoch when
	// this node took it up. Markers carry it.
	epoch int32
	state *txn.Coordinator
	// ending holds the IDs whose markers are being written; each channel
	// is closed once they are and the transaction is complete.
	ending map[string]chan struct{}
}

// txnExpiryInterval is how often the coordinator aborts the transactions
// past their timeout (Kafka's
// transaction.abort.timed.out.transaction.cleanup.interval.ms).
const txnExpiryInterval = 10 * time.Second

// startTxns starts the coordinator's expiry loop; Close stops it.
func (n *Node) startTxns() {
	n.txns.parts = map[int32]*txnPartition{}
	n.txns.ctx, n.txns.cancel = context.WithCancel(context.Background())
	n.txns.wg.Go(func() {
		t := time.NewTicker(txnExpiryInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				n.expireTxns(n.txns.ctx)
			case <-n.txns.ctx.Done():
				return
			}
		}
	})
}

// stopTxns ends the coordinator's goroutines and waits for them.
func (n *Node) stopTxns() {
	n.txns.cancel()
	n.txns.wg.Wait()
}

func (n *Node) newTxnPartition(index, epoch int32) *txnPartition {
	return &txnPartition{index: index, epoch: epoch, ending: map[string]chan struct{}{},
		state: txn.New(txn.Config{MaxTimeout: n.cfg.TransactionMaxTimeout, NewProducerID: func() (int64, error) {
			id, _, err := n.InitProducerID(n.txns.ctx)
			return id, err
		}})}
}

// txnCoordinator returns the ID of the node coordinating a transactional
// ID, creating __transaction_state on first use.
func (n *Node) txnCoordinator(ctx context.Context, id string) (int32, error) {
	return n.coordinatorOf(ctx, n.txnStateTopic(), id)
}

// ownTxn returns the coordinator of a transactional ID's partition when
// this node coordinates it now; outside a cluster it coordinates every
// partition, and makes __transaction_state on first use.
func (n *Node) ownTxn(ctx context.Context, id string) (*txnPartition, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty transactional ID", kerr.InvalidRequest)
	}
	count, err := n.ensureCoordinatorTopic(ctx, n.txnStateTopic(), id)
	if err != nil {
		return nil, err
	}
	index := keyPartition(id, count)
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	tp := n.txns.parts[index]
	if tp == nil && n.controller == nil { // a partition made just now: nothing to read
		tp = n.newTxnPartition(index, 0)
		n.txns.parts[index] = tp
	}
	if tp == nil {
		return nil, n.notCoordinating(n.txnStateTopic(), id)
	}
	return tp, nil
}

// txnStep runs one step of a transactional ID's state machine and writes
// the transition it asks for, if any.
func (n *Node) txnStep(ctx context.Context, id string, step func(*txn.Coordinator, time.Time) (*txn.Transition, error)) (*txn.Transition, error) {
	tp, err := n.ownTxn(ctx, id)
	if err != nil {
		return nil, err
	}
	return n.txnStepAt(ctx, tp, step)
}

// txnStepAt is txnStep at the coordinator of the ID's partition.
func (n *Node) txnStepAt(ctx context.Context, tp *txnPartition, step func(*txn.Coordinator, time.Time) (*txn.Transition, error)) (*txn.Transition, error) {
	n.txns.mu.Lock()
	t, err := step(tp.state, n.now())
	n.txns.mu.Unlock()
	if err != nil || t == nil {
		return nil, err
	}
	return t, n.writeTransition(ctx, tp, t)
}

// writeTransition writes a transition to __transaction_state and makes it
// take effect, or forgets it if the write failed. A transaction it leaves
// being committed or aborted gets its markers written.
func (n *Node) writeTransition(ctx context.Context, tp *txnPartition, t *txn.Transition) error {
	id := t.To.TransactionalID
	b, err := batch.Build(batch.BuildOptions{BaseTimestamp: n.now().UnixMilli()},
		batch.Record{Key: txn.MarshalKey(id), Value: txn.MarshalValue(t.To)})
	if err == nil {
		err = n.writeCoordinatorRecords(ctx, n.txnStateTopic(), id, b)
	}
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	if err != nil {
		tp.state.Abandon(t)
		return fmt.Errorf("transactional ID %s: %w", id, err)
	}
	if err := tp.state.Complete(t); err != nil {
		return fmt.Errorf("transactional ID %s: %w", id, err)
	}
	if ending(t.To.State) {
		n.endTxnLocked(tp, t.To)
	}
	return nil
}

// ending reports whether a transaction in state s is being committed or
// aborted: its markers are to be written.
func ending(s txn.State) bool { return s == txn.PrepareCommit || s == txn.PrepareAbort }

// coordinatesLocked reports whether tp is still the coordinator of its
// partition: leadership may have moved away (and back) meanwhile.
func (n *Node) coordinatesLocked(tp *txnPartition) bool { return n.txns.parts[tp.index] == tp }

// coordinateTxnPartition makes this node coordinate the transactional IDs
// of a __transaction_state partition when it has become the partition's
// leader, reading their state from it first, and stop when it no longer
// leads. Transactions left being committed or aborted are finished.
func (n *Node) coordinateTxnPartition(p *partition, leads bool) {
	if p.topic != TransactionStateTopic {
		return
	}
	p.mu.RLock()
	epoch := p.repl.epoch
	p.mu.RUnlock()
	n.txns.mu.Lock()
	tp := n.txns.parts[p.index]
	n.txns.mu.Unlock()
	switch {
	case leads && (tp == nil || tp.epoch != epoch):
		if err := n.takeUpTxnPartition(p, epoch); err != nil {
			n.log.Error("could not read a partition of transaction state; its transactional IDs have no coordinator",
				"partition", p.index, "err", err)
			return
		}
		n.log.Info("coordinating the transactions of a transaction state partition", "partition", p.index,
			"node", n.nodeID(), "epoch", epoch)
	case !leads && tp != nil:
		n.txns.mu.Lock()
		delete(n.txns.parts, p.index)
		n.txns.mu.Unlock()
		n.log.Info("no longer coordinating the transactions of a transaction state partition",
			"partition", p.index, "node", n.nodeID())
	}
}

// loadTxnCoordinators reads __transaction_state on a node outside a cluster,
// which coordinates every partition, and finishes the transactions left
// being committed or aborted.
func (n *Node) loadTxnCoordinators() error {
	n.mu.RLock()
	t := n.topics[TransactionStateTopic]
	n.mu.RUnlock()
	if t == nil || n.cfg.Cluster != nil {
		return nil
	}
	for _, p := range t.partitions {
		if err := n.takeUpTxnPartition(p, 0); err != nil {
			return fmt.Errorf("load transaction state: %w", err)
		}
	}
	return nil
}

// takeUpTxnPartition reads a __transaction_state partition into a new
// coordinator at epoch, makes it the partition's, and finishes the
// transactions left being committed or aborted.
func (n *Node) takeUpTxnPartition(p *partition, epoch int32) error {
	tp := n.newTxnPartition(p.index, epoch)
	if err := readTxnState(p, tp.state); err != nil {
		return err
	}
	n.txns.mu.Lock()
	defer n.txns.mu.Unlock()
	n.txns.parts[p.index] = tp
	for _, m := range tp.state.InDoubt() {
		n.endTxnLocked(tp, m)
	}
	return nil
}

// readTxnState loads every record of a __transaction_state partition into
// c, the newest of each ID last. Records that do not decode are passed
// over, as a commit that does not is.
func readTxnState(p *partition, c *txn.Coordinator) error {
	return readCoordinatorPartition(p, func(b []byte) error {
		records, err := decodeBatches(b, 0)
		if err != nil {
			return err
		}
		for _, r := range records {
			if m, err := txn.Unmarshal(r.Key, r.Value); err == nil {
				c.Load(m)
			}
		}
		return nil
	})
}

// expireTxns aborts the transactions past their timeout, and removes the
// transactional IDs idle past their expiration.
func (n *Node) expireTxns(ctx context.Context) {
	n.txns.mu.Lock()
	type expired struct {
		tp *txnPartition
		t  *txn.Transition
	}
	var all []expired
	now := n.now()
	for _, tp := range n.txns.parts {
		for _, t := range tp.state.Expire(now) {
			all = append(all, expired{tp, t})
		}
	}
	n.txns.mu.Unlock()
	for _, e := range all {
		if err := n.writeTransition(ctx, e.tp, e.t); err != nil && !errors.Is(err, context.Canceled) {
			n.log.Warn("could not expire a transaction", "transactional_id", e.t.To.TransactionalID, "err", err)
		}
	}
}
