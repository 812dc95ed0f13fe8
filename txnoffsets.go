// Offsets committed in a transaction (Kafka's TxnOffsetCommit): written to
// the group's __consumer_offsets partition as transactional records, held
// aside until the transaction's marker there commits or drops them.

package creek

import (
	"context"
	"fmt"
	"slices"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/kafka"
)

// pendingOffset is an offset a transaction committed that has not ended.
type pendingOffset struct {
	partition int32 // of __consumer_offsets: the marker that ends it is written there
	commit    offsetCommit
}

// commitTxnOffsets commits a group's offsets in the transaction of the
// producer with ID pid at epoch: they count once its marker commits them.
// A member that names its generation (TxnOffsetCommit v3+) is checked as
// an OffsetCommit's is. The transaction must hold the group's partition
// of __consumer_offsets (AddOffsetsToTxn), or add it (tx.Add), as a
// produce's does (joinTxn): else its marker would never be written there.
func (n *Node) commitTxnOffsets(ctx context.Context, groupID string, pid int64, epoch int16, member groupIdentity,
	offsets map[TopicPartition]CommittedOffset, tx kafka.Txn) error {
	if groupID == "" {
		return fmt.Errorf("%w: empty group", ErrInvalidGroupID)
	}
	if err := n.ownsGroup(groupID); err != nil {
		return err
	}
	if member.Generation >= 0 || member.MemberID != "" {
		if err := n.groups.ValidateCommit(groupID, member); err != nil {
			return fmt.Errorf("commit offsets of group %s in a transaction: %w", groupID, err)
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	count, err := n.ensureCoordinatorTopic(ctx, n.offsetsTopic(), groupID)
	if err != nil {
		return err
	}
	p, err := n.partition(ConsumerOffsetsTopic, keyPartition(groupID, count))
	if err != nil {
		return err
	}
	if err := n.joinTxn(ctx, p, tx, pid, epoch); err != nil {
		// A coordinator that cannot answer now is COORDINATOR_NOT_AVAILABLE
		// here, which clients retry for a group's requests, as Kafka's
		// group coordinator answers a write that lacks its replicas.
		return fmt.Errorf("commit offsets of group %s in a transaction: %w", groupID, coordinatorError(err))
	}
	records, stamped := offsetRecords(groupID, offsets, n.now())
	b, err := batch.Build(batch.BuildOptions{BaseTimestamp: n.now().UnixMilli(), Idempotent: true, ProducerID: pid,
		ProducerEpoch: epoch, BaseSequence: -1, Transactional: true}, records...)
	if err != nil {
		return err
	}
	if err := n.writeCoordinatorRecords(ctx, n.offsetsTopic(), groupID, b); err != nil {
		return fmt.Errorf("commit offsets of group %s in a transaction: %w", groupID, err)
	}
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	if !n.offsets.coordinatesLocked(groupID) {
		return nil // written; the group's new coordinator reads it from the log
	}
	for tp, c := range stamped {
		n.offsets.addPendingCommitLocked(pid, pendingOffset{keyPartition(groupID, count), offsetCommit{group: groupID, tp: tp, offset: c}})
	}
	return nil
}

// addPendingLocked holds aside a transactional record of a
// __consumer_offsets partition, read back from it.
func (s *offsetStore) addPendingLocked(partition int32, pid int64, r Record) {
	if c, ok := decodeOffsetCommit(r); ok {
		s.addPendingCommitLocked(pid, pendingOffset{partition, c})
	}
}

func (s *offsetStore) addPendingCommitLocked(pid int64, p pendingOffset) {
	if s.pending == nil {
		s.pending = map[int64][]pendingOffset{}
	}
	s.pending[pid] = append(s.pending[pid], p)
}

// endTxnLocked applies, or with commit false drops, the offsets the
// producer's transaction committed in a partition of __consumer_offsets,
// whose marker was written there.
func (s *offsetStore) endTxnLocked(partition int32, pid int64, commit bool) {
	kept := s.pending[pid][:0]
	for _, p := range s.pending[pid] {
		switch {
		case p.partition != partition:
			kept = append(kept, p)
		case commit && p.commit.deleted:
			delete(s.groups[p.commit.group], p.commit.tp)
		case commit:
			s.setLocked(p.commit.group, p.commit.tp, p.commit.offset)
		}
	}
	if len(kept) == 0 {
		delete(s.pending, pid)
		return
	}
	s.pending[pid] = kept
}

// unstableLocked reports whether a transaction not yet ended committed an
// offset of a group in one of partitions, or in any when none are named:
// an OffsetFetch that requires stable offsets is answered
// UNSTABLE_OFFSET_COMMIT, and asks again.
func (s *offsetStore) unstableLocked(group string, partitions []TopicPartition) bool {
	for _, list := range s.pending {
		for _, p := range list {
			if p.commit.group == group && (len(partitions) == 0 || slices.Contains(partitions, p.commit.tp)) {
				return true
			}
		}
	}
	return false
}

// forgetPendingLocked drops the pending offsets of the groups match
// selects: their coordinator moved.
func (s *offsetStore) forgetPendingLocked(match func(group string) bool) {
	for pid, list := range s.pending {
		kept := list[:0]
		for _, p := range list {
			if !match(p.commit.group) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			delete(s.pending, pid)
		} else {
			s.pending[pid] = kept
		}
	}
}
