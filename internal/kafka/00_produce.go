package kafka

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// Produce, versions 3–13 (RecordBatch v2; topics by ID from version 13). Each partition's batch is
// appended as the client sent it, in the order requests arrive on the
// connection; the wait for durability runs after, on the connection's
// writer, so requests a client pipelines share fsyncs (group commit), and
// the partitions of one request are waited for together. acks 0 gets no
// response; acks 1 and -1 are answered once the batch is stored as the
// topic's creek.sync says, and acks -1 once every in-sync replica has it
// too (the high watermark passed it), or with REQUEST_TIMED_OUT after the
// request's timeout. A node that does not lead the partition answers
// NOT_LEADER_OR_FOLLOWER. A
// partition named twice in one request gets INVALID_REQUEST the second
// time. Transactional batches are appended and tracked by the partition
// (a batch outside the producer's open transaction gets INVALID_TXN_STATE,
// one of an older epoch INVALID_PRODUCER_EPOCH); the first of a
// transaction in a partition is appended once the transaction's
// coordinator says the partition is in it (TRANSACTION_ABORTABLE if not,
// INVALID_TXN_STATE below version 11, which does not know that error;
// NOT_ENOUGH_REPLICAS while it cannot say), or from version 12 at
// transaction version 2 once it has added the partition; control batches, which only
// the coordinator writes, get INVALID_RECORD. acks other than 0, 1 and -1 get
// INVALID_REQUIRED_ACKS for every partition, and nothing is appended.
// With an authorizer, a producer needs WRITE on each topic
// (TOPIC_AUTHORIZATION_FAILED) and on its transactional ID
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition).

func startProduce(ctx context.Context, s *Server, r kmsg.Request) func() kmsg.Response {
	req := r.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type waiting struct {
		out     *kmsg.ProduceResponseTopicPartition
		durable func() error
	}
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		refuseProduce(req, resp, kerr.InvalidRequiredAcks.Code)
		return func() kmsg.Response { return resp }
	}
	if req.TransactionID != nil && !s.may(ctx, acl.Write, acl.TransactionalID, *req.TransactionID) {
		refuseProduce(req, resp, kerr.TransactionalIDAuthorizationFailed.Code)
		return func() kmsg.Response { return resp }
	}
	refused := s.refusedTopics(ctx, acl.Write, func(yield func(string) bool) {
		for _, rt := range req.Topics {
			if !yield(s.topicName(req.Version >= 13, rt.Topic, rt.TopicID)) {
				return
			}
		}
	})
	var waits []waiting
	tx := Txn{ID: deref(req.TransactionID), Add: req.Version >= 12 && s.cfg.TransactionVersion >= 2, Abortable: req.Version >= 11}
	timeout := time.Duration(req.TimeoutMillis) * time.Millisecond
	seen := map[TopicPartition]bool{}
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewProduceResponseTopic()
		out.Topic, out.TopicID = rt.Topic, rt.TopicID
		rt.Topic = s.topicName(req.Version >= 13, rt.Topic, rt.TopicID)
		out.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &out.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition = rp.Partition
			tp := TopicPartition{rt.Topic, rp.Partition}
			if rt.Topic == "" {
				op.ErrorCode = kerr.UnknownTopicID.Code
				continue
			}
			if refused[rt.Topic] {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			if seen[tp] {
				op.ErrorCode = kerr.InvalidRequest.Code
				continue
			}
			seen[tp] = true
			res, durable, err := s.broker.Produce(ctx, rt.Topic, rp.Partition, rp.Records, req.Acks, timeout, tx)
			if err != nil {
				op.ErrorCode, op.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
				continue
			}
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			waits = append(waits, waiting{op, durable})
		}
	}
	// The waits start now, not when the connection's writer reaches this
	// response: a partition stays locked until its wait for durability
	// returns, and must not stay locked while earlier responses wait for
	// replication, which may need that very partition (a follower's fetch
	// of it, or a change of its role).
	var wg sync.WaitGroup
	for _, w := range waits {
		wg.Go(func() { // together: each may run the fsync of its own partition
			if err := w.durable(); err != nil {
				w.out.ErrorCode, w.out.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
				w.out.BaseOffset = -1
			}
		})
	}
	return func() kmsg.Response {
		wg.Wait()
		if req.Acks == 0 {
			return nil
		}
		s.hintProduceLeaders(ctx, req, resp)
		return resp
	}
}

// refuseProduce answers every partition of req with code.
func refuseProduce(req *kmsg.ProduceRequest, resp *kmsg.ProduceResponse, code int16) {
	for _, rt := range req.Topics {
		ot := kmsg.NewProduceResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			op := kmsg.NewProduceResponseTopicPartition()
			op.Partition, op.ErrorCode = rp.Partition, code
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
}
