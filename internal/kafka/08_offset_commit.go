package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// OffsetCommit, versions 2–8. The offsets of one request are stored in one
// batch, so they commit together, after the coordinator has checked the
// member's generation; a refused commit gives every partition the same
// error. RetentionTimeMillis (v2–4) is ignored: offsets are kept until the
// group is deleted. With an authorizer, the request needs READ on the
// group (GROUP_AUTHORIZATION_FAILED for every partition) and on each
// topic (TOPIC_AUTHORIZATION_FAILED; the other topics' offsets commit).

func serveOffsetCommit(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	if !s.may(ctx, acl.Read, acl.Group, req.Group) {
		return offsetCommitAnswer(req, resp, kerr.GroupAuthorizationFailed.Code, nil)
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
	err := s.broker.CommitOffsets(ctx, req.Group, group.Identity{MemberID: req.MemberID,
		InstanceID: deref(req.InstanceID), Generation: req.Generation}, offsets)
	code := int16(0)
	if err != nil {
		code = s.groupErrorCode(err)
	}
	return offsetCommitAnswer(req, resp, code, refused)
}

// offsetCommitAnswer answers every partition with code, but those of
// refused topics, which get TOPIC_AUTHORIZATION_FAILED.
func offsetCommitAnswer(req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, code int16, refused map[string]bool) kmsg.Response {
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetCommitResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetCommitResponseTopicPartition()
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
