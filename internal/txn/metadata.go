package txn

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a transactional ID's state, numbered as Kafka numbers it in
// __transaction_state.
type State = kmsg.TransactionState

// The states, as kmsg names them.
const (
	Empty             = kmsg.TransactionStateEmpty
	Ongoing           = kmsg.TransactionStateOngoing
	PrepareCommit     = kmsg.TransactionStatePrepareCommit
	PrepareAbort      = kmsg.TransactionStatePrepareAbort
	CompleteCommit    = kmsg.TransactionStateCompleteCommit
	CompleteAbort     = kmsg.TransactionStateCompleteAbort
	Dead              = kmsg.TransactionStateDead
	PrepareEpochFence = kmsg.TransactionStatePrepareEpochFence
)

// NoProducerID and NoEpoch stand for none, as -1 does in Kafka's records.
const (
	NoProducerID int64 = -1
	NoEpoch      int16 = -1
)

// Partition is a partition in a transaction.
type Partition struct {
	Topic     string
	Partition int32
}

// Metadata is what the coordinator knows of one transactional ID: the
// value of its record in __transaction_state.
type Metadata struct {
	TransactionalID string
	ProducerID      int64
	// PrevProducerID is the ID before the last rotation (an epoch that ran
	// out), so that a retry of the call that rotated it is known.
	PrevProducerID int64
	Epoch          int16
	// LastEpoch is the epoch before the last bump that a producer asked
	// for by its old epoch (KIP-360's InitProducerID, or an EndTxn of
	// transaction version 2): a retry of that call is answered with the
	// current epoch instead of being fenced. NoEpoch for none.
	LastEpoch int16
	// NextProducerID is the producer ID an end of transaction version 2
	// gave the producer because the epoch it bumped to ran out: the
	// producer has it, at epoch 0, once the transaction is complete.
	// NoProducerID for none.
	NextProducerID int64
	Timeout        time.Duration
	State          State
	Partitions     map[Partition]struct{}
	// Started is when the transaction began (its first AddPartitions);
	// zero outside one.
	Started    time.Time
	LastUpdate time.Time
}

// Next returns the producer ID and epoch the producer of m is to use
// next: after an end that rotated its ID, NextProducerID at epoch 0.
func (m Metadata) Next() (int64, int16) {
	if m.NextProducerID != NoProducerID {
		return m.NextProducerID, 0
	}
	return m.ProducerID, m.Epoch
}

// Clone returns a copy that shares nothing with m.
func (m Metadata) Clone() Metadata {
	m.Partitions = maps.Clone(m.Partitions)
	return m
}

// SortedPartitions returns the transaction's partitions by topic and
// partition.
func (m Metadata) SortedPartitions() []Partition {
	out := slices.Collect(maps.Keys(m.Partitions))
	slices.SortFunc(out, func(a, b Partition) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}

// Version is the transaction version a client's request asks for, as
// Kafka's transaction.version feature numbers them.
type Version int8

const (
	// V1 is KIP-98's transactions: a producer keeps its epoch from one
	// transaction to the next.
	V1 Version = 1
	// V2 is KIP-890's second part: every end of a transaction bumps the
	// producer's epoch, and its markers are written at the new epoch, so
	// that no late batch of the transaction ended can join the next.
	V2 Version = 2
)

// epochExhausted reports whether an epoch cannot be bumped twice more:
// Kafka keeps the last value for fencing an ongoing transaction.
func epochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }
