package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// TxnOffsetCommit, versions 0–5: offsets a producer commits for a group
// in its transaction, sent to the group's coordinator after
// AddOffsetsToTxn, whose group partition the coordinator checks is in
// the transaction (TRANSACTION_ABORTABLE if not, INVALID_TXN_STATE below
// version 4); from version 5 at
// transaction version 2 without it, and the coordinator adds it. They are written to the group's partition of
// __consumer_offsets as transactional records and count once the
// transaction commits. A member that names its generation (v3+) is
// checked as OffsetCommit checks it. One error answers every partition.
// With an authorizer, the request needs WRITE on the transactional ID
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and READ on the group
// (GROUP_AUTHORIZATION_FAILED), for every partition, and READ on each
// topic (TOPIC_AUTHORIZATION_FAILED; the other topics' offsets commit).

func serveTxnOffsetCommit(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.TxnOffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	switch {
	case !s.may(ctx, acl.Write, acl.TransactionalID, req.TransactionalID):
		return txnOffsetCommitAnswer(req, resp, kerr.TransactionalIDAuthorizationFailed.Code, nil)
	case !s.may(ctx, acl.Read, acl.Group, req.Group):
		return txnOffsetCommitAnswer(req, resp, kerr.GroupAuthorizationFailed.Code, nil)
	}
	refused := map[string]bool{}
	offsets := map[TopicPartition]Offset{}
	for _, rt := range req.Topics {
		if !s.may(ctx, acl.Read, acl.Topic, rt.Topic) {
			refused[rt.Topic] = true
			continue
		}
		for _, rp := range rt.Partitions {
			offsets[TopicPartition{rt.Topic, rp.Partition}] = Offset{Offset: rp.Offset, LeaderEpoch: rp.LeaderEpoch,
				Metadata: deref(rp.Metadata)}
		}
	}
	member := group.Identity{MemberID: req.MemberID, InstanceID: deref(req.InstanceID), Generation: req.Generation}
	if req.Version < 3 {
		member = group.Identity{Generation: -1}
	}
	var code int16
	tx := Txn{ID: req.TransactionalID, Add: req.Version >= 5 && s.cfg.TransactionVersion >= 2, Abortable: req.Version >= 4}
	if err := s.broker.TxnCommitOffsets(ctx, req.Group, req.ProducerID, req.ProducerEpoch, member, offsets, tx); err != nil {
		code = s.groupErrorCode(err)
	}
	return txnOffsetCommitAnswer(req, resp, code, refused)
}

// txnOffsetCommitAnswer answers every partition with code, but those of
// refused topics, which get TOPIC_AUTHORIZATION_FAILED.
func txnOffsetCommitAnswer(req *kmsg.TxnOffsetCommitRequest, resp *kmsg.TxnOffsetCommitResponse, code int16, refused map[string]bool) kmsg.Response {
	for _, rt := range req.Topics {
		ot := kmsg.NewTxnOffsetCommitResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			op.Partition, op.ErrorCode = rp.Partition, code
			if refused[rt.Topic] {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
