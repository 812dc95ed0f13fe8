package kafka

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce, versions 3–11 (RecordBatch v2). Each partition's batch is
// appended as the client sent it; partitions of one request are appended
// concurrently, so their fsyncs overlap. acks 0 gets no response; acks 1
// and -1 are answered once the batch is stored as the topic's creek.sync
// says (on one node every replica is in sync). Transactional batches are
// not accepted yet: no transaction coordinator serves them.

func serveProduce(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	var wg sync.WaitGroup
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		out := &resp.Topics[i]
		*out = kmsg.NewProduceResponseTopic()
		out.Topic = rt.Topic
		out.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &out.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition = rp.Partition
			wg.Go(func() {
				res, err := s.broker.Produce(ctx, rt.Topic, rp.Partition, rp.Records)
				if err != nil {
					op.ErrorCode = s.broker.ErrorCode(err)
					msg := err.Error()
					op.ErrorMessage = &msg
					return
				}
				op.BaseOffset, op.LogAppendTime, op.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			})
		}
	}
	wg.Wait()
	if req.Acks == 0 {
		return nil
	}
	return resp
}
