package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete, version 0: deletes a group's committed offsets in
// partitions. creek refuses it while the group has members
// (NON_EMPTY_GROUP), where Kafka refuses only partitions the members are
// subscribed to.

func serveOffsetDelete(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	var partitions []TopicPartition
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			partitions = append(partitions, TopicPartition{rt.Topic, rp.Partition})
		}
	}
	if err := s.broker.DeleteGroupOffsets(ctx, req.Group, partitions); err != nil {
		resp.ErrorCode = s.groupErrorCode(err)
		return resp
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetDeleteResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetDeleteResponseTopicPartition()
			op.Partition = rp.Partition
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
