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
	// for by its old epoch (KIP-360): a retry of that call is answered with
	// the current epoch instead of being fenced. NoEpoch for none.
	LastEpoch  int16
	Timeout    time.Duration
	State      State
	Partitions map[Partition]struct{}
	// Started is when the transaction began (its first AddPartitions);
	// zero outside one.
	Started    time.Time
	LastUpdate time.Time
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

// epochExhausted reports whether an epoch cannot be bumped twice more:
// Kafka keeps the last value for fencing an ongoing transaction.
func epochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }
