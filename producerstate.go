// What a partition's leader knows of its active producers, as Kafka's
// DescribeProducers (KIP-664) reports it: to find a hanging transaction,
// one open with no coordinator left to end it.

package creek

import (
	"cmp"
	"slices"
)

// ProducerState is one active producer of a partition: one in its
// idempotence table, or with a transaction open there.
type ProducerState struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the sequence of the last record it appended; -1 when
	// none is known (it only ended transactions here).
	LastSequence int32
	// LastTimestamp is when it last appended, in Unix milliseconds by the
	// node's clock; -1 when unknown, as for a producer known only from
	// replaying the log (Kafka gives its last batch's max timestamp).
	LastTimestamp int64
	// CoordinatorEpoch is the epoch of the transaction coordinator that
	// wrote its last marker here; -1 when none is known.
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of its open transaction;
	// -1 when it has none.
	CurrentTxnStartOffset int64
}

// DescribeProducers returns the active producers of a partition this node
// leads, by producer ID. It gives ErrUnknownTopic for a partition that
// does not exist and ErrNotLeader for one another node leads: ask that one.
func (n *Node) DescribeProducers(topic string, partition int32) ([]ProducerState, error) {
	p, err := n.partition(topic, partition)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.checkLeaderLocked(-1); err != nil {
		return nil, err
	}
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	return p.producerStatesLocked(), nil
}

// producerStatesLocked returns the partition's producers: those of its
// idempotence table, with their open transactions, and those with a
// transaction open that the table has forgotten (an expired producer
// whose transaction hangs, which DescribeProducers exists to find). Call
// it holding p.mu and p.producersMu.
func (p *partition) producerStatesLocked() []ProducerState {
	txns := p.txns.Producers()
	var out []ProducerState
	for _, pr := range p.producers.Producers() {
		s := ProducerState{ProducerID: pr.ID, ProducerEpoch: pr.Epoch, LastSequence: pr.LastSequence,
			LastTimestamp: pr.LastAppend, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1}
		if t, ok := txns[pr.ID]; ok {
			s.CoordinatorEpoch, s.CurrentTxnStartOffset = t.CoordinatorEpoch, t.FirstOffset
			delete(txns, pr.ID)
		}
		out = append(out, s)
	}
	for id, t := range txns {
		if t.FirstOffset >= 0 { // not a producer forgotten but for its last coordinator
			out = append(out, ProducerState{ProducerID: id, ProducerEpoch: t.Epoch, LastSequence: -1,
				LastTimestamp: -1, CoordinatorEpoch: t.CoordinatorEpoch, CurrentTxnStartOffset: t.FirstOffset})
		}
	}
	slices.SortFunc(out, func(a, b ProducerState) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}
