package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// OffsetDelete, version 0: deletes a group's committed offsets in
// partitions. creek refuses it while the group has members
// (NON_EMPTY_GROUP), where Kafka refuses only partitions the members are
// subscribed to.
// With an authorizer, the request needs DELETE on the group
// (GROUP_AUTHORIZATION_FAILED) and READ on each topic
// (TOPIC_AUTHORIZATION_FAILED; the others' offsets are deleted).

func serveOffsetDelete(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if !s.may(ctx, acl.Delete, acl.Group, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	refused := map[string]bool{}
	var partitions []TopicPartition
	for _, rt := range req.Topics {
		if !s.may(ctx, acl.Read, acl.Topic, rt.Topic) {
			refused[rt.Topic] = true
			continue
		}
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
			if refused[rt.Topic] {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
