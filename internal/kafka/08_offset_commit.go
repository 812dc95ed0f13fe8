package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/group"
)

// OffsetCommit, versions 2–8. The offsets of one request are stored in one
// batch, so they commit together, after the coordinator has checked the
// member's generation; a refused commit gives every partition the same
// error. RetentionTimeMillis (v2–4) is ignored: offsets are kept until the
// group is deleted.

func serveOffsetCommit(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	offsets := map[TopicPartition]Offset{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			offsets[TopicPartition{rt.Topic, rp.Partition}] = Offset{Offset: rp.Offset, LeaderEpoch: rp.LeaderEpoch,
				Metadata: deref(rp.Metadata)}
		}
	}
	err := s.broker.CommitOffsets(ctx, req.Group, group.Identity{MemberID: req.MemberID,
		InstanceID: deref(req.InstanceID), Generation: req.Generation}, offsets)
	code := int16(0)
	if err != nil {
		code = s.groupErrorCode(err)
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetCommitResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetCommitResponseTopicPartition()
			op.Partition, op.ErrorCode = rp.Partition, code
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
