// An in-process transactional producer's requests to the coordinators
// they belong to: the transaction's (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn) and the group's (TxnOffsetCommit), here or on
// the nodes that coordinate them, asked again while they move.

package creek

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txn"
)

// atCoordinator runs a request at the coordinator find names: local when
// it is this node, otherwise remote, sending req there and reading its
// answer's error code with code. It asks again, every
// coordinatorRetryBackoff, while the answer is one a Kafka client retries:
// the coordinator moving or loading, or the transactional ID busy
// (CONCURRENT_TRANSACTIONS), until ctx ends.
func (n *Node) atCoordinator(ctx context.Context, find func(context.Context) (int32, error), local func() error,
	req kmsg.Request, code func(kmsg.Response) (int16, string)) error {
	return whileCoordinatorMoves(ctx, kerr.ConcurrentTransactions, func() error {
		return n.atCoordinatorOnce(ctx, find, local, req, code)
	})
}

func (n *Node) atCoordinatorOnce(ctx context.Context, find func(context.Context) (int32, error), local func() error,
	req kmsg.Request, code func(kmsg.Response) (int16, string)) error {
	coordinator, err := find(ctx)
	if err != nil {
		return err
	}
	if coordinator == n.nodeID() {
		return local()
	}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	c, what := code(resp)
	return errorForCode(c, fmt.Sprintf("%s at node %d", what, coordinator))
}

// txnFinder finds the coordinator of a transactional ID.
func (n *Node) txnFinder(id string) func(context.Context) (int32, error) {
	return func(ctx context.Context) (int32, error) { return n.txnCoordinator(ctx, id) }
}

// initTxnProducerAt is initTxnProducer at the ID's coordinator.
func (n *Node) initTxnProducerAt(ctx context.Context, id string, timeout time.Duration, pid int64, epoch int16) (int64, int16, error) {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &id, int32(timeout/time.Millisecond)
	req.ProducerID, req.ProducerEpoch = pid, epoch
	gotID, gotEpoch := int64(-1), int16(-1)
	err := n.atCoordinator(ctx, n.txnFinder(id), func() (err error) {
		gotID, gotEpoch, err = n.initTxnProducer(ctx, id, timeout, pid, epoch)
		return err
	}, req, func(r kmsg.Response) (int16, string) {
		resp := r.(*kmsg.InitProducerIDResponse)
		gotID, gotEpoch = resp.ProducerID, resp.ProducerEpoch
		return resp.ErrorCode, "InitProducerId of " + id
	})
	return gotID, gotEpoch, err
}

// addToTxnAt is addPartitionsToTxn at the ID's coordinator, asked in
// the batched form (v4) that nodes send one another: the connection
// between nodes speaks the highest version both serve.
func (n *Node) addToTxnAt(ctx context.Context, id string, pid int64, epoch int16, partitions []TopicPartition) error {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	rtx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch = id, pid, epoch
	byTopic := map[string]int{}
	for _, tp := range partitions {
		i := kafka.TopicIndex(&rtx.Topics, byTopic, tp.Topic, func(topic string) kmsg.AddPartitionsToTxnRequestTransactionTopic {
			return kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: topic}
		})
		rtx.Topics[i].Partitions = append(rtx.Topics[i].Partitions, tp.Partition)
	}
	req.Transactions = append(req.Transactions, rtx)
	return n.atCoordinator(ctx, n.txnFinder(id), func() error {
		unknown, err := n.addPartitionsToTxn(ctx, id, pid, epoch, partitions)
		for _, e := range unknown {
			return e
		}
		return err
	}, req, func(r kmsg.Response) (int16, string) {
		return addPartitionsCode(r.(*kmsg.AddPartitionsToTxnResponse), "AddPartitionsToTxn of "+id)
	})
}

// addPartitionsCode returns the first error code of a batched
// AddPartitionsToTxn answer (the partition that caused it rather than
// those OPERATION_NOT_ATTEMPTED), and what it was about.
func addPartitionsCode(resp *kmsg.AddPartitionsToTxnResponse, what string) (int16, string) {
	if resp.ErrorCode != 0 {
		return resp.ErrorCode, what
	}
	var notAttempted int16
	for _, otx := range resp.Transactions {
		for _, ot := range otx.Topics {
			for _, op := range ot.Partitions {
				switch op.ErrorCode {
				case 0:
				case kerr.OperationNotAttempted.Code:
					notAttempted = op.ErrorCode
				default:
					return op.ErrorCode, fmt.Sprintf("%s, %s-%d", what, ot.Topic, op.Partition)
				}
			}
		}
	}
	return notAttempted, what
}

// addOffsetsToTxnAt is addOffsetsToTxn at the ID's coordinator.
func (n *Node) addOffsetsToTxnAt(ctx context.Context, id string, pid int64, epoch int16, group string) error {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = id, pid, epoch, group
	return n.atCoordinator(ctx, n.txnFinder(id), func() error {
		return n.addOffsetsToTxn(ctx, id, pid, epoch, group)
	}, req, func(r kmsg.Response) (int16, string) {
		return r.(*kmsg.AddOffsetsToTxnResponse).ErrorCode, "AddOffsetsToTxn of " + id
	})
}

// endTxnAt is endTxn at the ID's coordinator, at transaction version 2
// where the coordinator serves it (EndTxn v5): it returns the producer ID
// and epoch to go on with, which are pid and epoch at version 1.
func (n *Node) endTxnAt(ctx context.Context, id string, pid int64, epoch int16, commit bool) (int64, int16, error) {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	next, nextEpoch := pid, epoch
	err := n.atCoordinator(ctx, n.txnFinder(id), func() error {
		var err error
		next, nextEpoch, err = n.endTxn(ctx, id, pid, epoch, commit, txn.V2)
		return err
	}, req, func(r kmsg.Response) (int16, string) {
		resp := r.(*kmsg.EndTxnResponse)
		if resp.Version >= 5 && resp.ErrorCode == 0 {
			next, nextEpoch = resp.ProducerID, resp.ProducerEpoch
		}
		return resp.ErrorCode, "EndTxn of " + id
	})
	return next, nextEpoch, err
}

// commitTxnOffsetsAt is commitTxnOffsets at the group's coordinator.
func (n *Node) commitTxnOffsetsAt(ctx context.Context, id, groupID string, pid int64, epoch int16, member groupIdentity,
	offsets map[TopicPartition]CommittedOffset) error {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = id, groupID, pid, epoch
	req.Generation, req.MemberID = member.Generation, member.MemberID
	if member.InstanceID != "" {
		req.InstanceID = &member.InstanceID
	}
	byTopic := map[string]int{}
	for tp, c := range offsets {
		i := kafka.TopicIndex(&req.Topics, byTopic, tp.Topic, func(topic string) kmsg.TxnOffsetCommitRequestTopic {
			return kmsg.TxnOffsetCommitRequestTopic{Topic: topic}
		})
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = tp.Partition, c.Offset, c.LeaderEpoch, &c.Metadata
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	find := func(ctx context.Context) (int32, error) { return n.groupCoordinator(ctx, groupID) }
	return n.atCoordinator(ctx, find, func() error {
		return n.commitTxnOffsets(ctx, groupID, pid, epoch, member, offsets, kafka.Txn{ID: id, Abortable: true})
	}, req, func(r kmsg.Response) (int16, string) {
		for _, rt := range r.(*kmsg.TxnOffsetCommitResponse).Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode != 0 {
					return rp.ErrorCode, "TxnOffsetCommit of group " + groupID
				}
			}
		}
		return 0, ""
	})
}
