package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DeleteRecords, versions 0–2: moves each partition's log start offset up
// (offset -1: to the high watermark).
// With an authorizer, each topic needs DELETE
// (TOPIC_AUTHORIZATION_FAILED).

func serveDeleteRecords(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewDeleteRecordsResponseTopic()
		ot.Topic = rt.Topic
		refused := !s.may(ctx, acl.Delete, acl.Topic, rt.Topic)
		for _, rp := range rt.Partitions {
			op := kmsg.NewDeleteRecordsResponseTopicPartition()
			op.Partition, op.LowWatermark = rp.Partition, -1
			if refused {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else if low, err := s.broker.DeleteRecords(ctx, rt.Topic, rp.Partition, rp.Offset); err != nil {
				op.ErrorCode = s.broker.ErrorCode(err)
			} else {
				op.LowWatermark = low
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
