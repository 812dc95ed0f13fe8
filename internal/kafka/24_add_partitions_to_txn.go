package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AddPartitionsToTxn, versions 0–5 (5 as 4): partitions a producer is about to
// write in its transaction, which the coordinator records before the
// producer writes there, so that it knows where to write the markers.
// Version 4, which brokers send, batches several transactions and may
// only verify that a transaction holds partitions (VerifyOnly). A
// request naming a partition that does not exist adds none: that one
// answers UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED.
// With an authorizer, a transaction's partitions need WRITE on its
// transactional ID and on their topics (see txnPartitionsRefused), and
// version 4, the brokers', CLUSTER_ACTION on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveAddPartitionsToTxn(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version < 4 {
		var parts []TopicPartition
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, TopicPartition{rt.Topic, p})
			}
		}
		codes := s.txnPartitionsRefused(ctx, req.TransactionalID, parts)
		if codes == nil {
			codes = s.addPartitionsToTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, parts, false, req.Version >= 2)
		}
		for _, rt := range req.Topics {
			ot := kmsg.NewAddPartitionsToTxnResponseTopic()
			ot.Topic = rt.Topic
			for _, p := range rt.Partitions {
				op := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				op.Partition, op.ErrorCode = p, codes[TopicPartition{rt.Topic, p}]
				ot.Partitions = append(ot.Partitions, op)
			}
			resp.Topics = append(resp.Topics, ot)
		}
		return resp
	}
	if !s.mayCluster(ctx, acl.ClusterAction) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	for _, rtx := range req.Transactions {
		var parts []TopicPartition
		for _, rt := range rtx.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, TopicPartition{rt.Topic, p})
			}
		}
		codes := s.txnPartitionsRefused(ctx, rtx.TransactionalID, parts)
		if codes == nil {
			codes = s.addPartitionsToTxn(ctx, rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, parts, rtx.VerifyOnly, true)
		}
		otx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		otx.TransactionalID = rtx.TransactionalID
		for _, rt := range rtx.Topics {
			ot := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			ot.Topic = rt.Topic
			for _, p := range rt.Partitions {
				op := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				op.Partition, op.ErrorCode = p, codes[TopicPartition{rt.Topic, p}]
				ot.Partitions = append(ot.Partitions, op)
			}
			otx.Topics = append(otx.Topics, ot)
		}
		resp.Transactions = append(resp.Transactions, otx)
	}
	return resp
}

// txnPartitionsRefused returns the codes of a transaction's partitions
// when its principal may not add them, nil when it may: without WRITE on
// the transactional ID, TRANSACTIONAL_ID_AUTHORIZATION_FAILED for all;
// without WRITE on a topic, TOPIC_AUTHORIZATION_FAILED for its
// partitions and OPERATION_NOT_ATTEMPTED for the others, as from Kafka.
func (s *Server) txnPartitionsRefused(ctx context.Context, id string, parts []TopicPartition) map[TopicPartition]int16 {
	if !s.may(ctx, acl.Write, acl.TransactionalID, id) {
		codes := make(map[TopicPartition]int16, len(parts))
		for _, tp := range parts {
			codes[tp] = kerr.TransactionalIDAuthorizationFailed.Code
		}
		return codes
	}
	refused := s.refusedTopics(ctx, acl.Write, func(yield func(string) bool) {
		for _, tp := range parts {
			if !yield(tp.Topic) {
				return
			}
		}
	})
	if len(refused) == 0 {
		return nil
	}
	codes := make(map[TopicPartition]int16, len(parts))
	for _, tp := range parts {
		codes[tp] = kerr.OperationNotAttempted.Code
		if refused[tp.Topic] {
			codes[tp] = kerr.TopicAuthorizationFailed.Code
		}
	}
	return codes
}

// addPartitionsToTxn adds (or verifies) one transaction's partitions and
// returns each one's error code.
func (s *Server) addPartitionsToTxn(ctx context.Context, id string, pid int64, epoch int16, parts []TopicPartition,
	verifyOnly, knowsFenced bool) map[TopicPartition]int16 {
	codes := make(map[TopicPartition]int16, len(parts))
	var each map[TopicPartition]error
	var err error
	if verifyOnly {
		err = s.broker.VerifyTxn(ctx, id, pid, epoch, parts)
	} else {
		each, err = s.broker.AddPartitionsToTxn(ctx, id, pid, epoch, parts)
	}
	for _, tp := range parts {
		switch e, ok := each[tp]; {
		case ok:
			codes[tp] = s.broker.ErrorCode(e)
		case err != nil:
			codes[tp] = s.txnErrorCode(err, knowsFenced)
		default:
			codes[tp] = 0
		}
	}
	if len(each) > 0 {
		for tp := range codes {
			if _, ok := each[tp]; !ok {
				codes[tp] = kerr.OperationNotAttempted.Code
			}
		}
	}
	return codes
}
