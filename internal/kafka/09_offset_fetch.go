package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// OffsetFetch, versions 1–7: a group's committed offsets in the
// partitions asked for, or in all its partitions (Topics null, v2+). A
// partition without a commit gets offset -1. Only the group's coordinator
// answers; version 1, without a top-level error, carries it per partition.
// With RequireStable (v7), a partition where a transaction not yet ended
// committed an offset answers UNSTABLE_OFFSET_COMMIT, which clients retry.
// With an authorizer, the request needs DESCRIBE on the group
// (GROUP_AUTHORIZATION_FAILED) and on each topic it names
// (TOPIC_AUTHORIZATION_FAILED); asked for all, it gets the topics it may
// describe.

func serveOffsetFetch(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if !s.may(ctx, acl.Describe, acl.Group, req.Group) {
		return offsetFetchError(req, resp, kerr.GroupAuthorizationFailed.Code)
	}
	if err := s.broker.OwnsGroup(req.Group); err != nil {
		return offsetFetchError(req, resp, s.groupErrorCode(err))
	}
	committed := s.broker.CommittedOffsets(req.Group)
	topics := req.Topics
	if topics == nil {
		byTopic := map[string][]int32{}
		for tp := range committed {
			if !s.may(ctx, acl.Describe, acl.Topic, tp.Topic) {
				continue
			}
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
		}
		for topic, partitions := range byTopic {
			sort.Slice(partitions, func(i, j int) bool { return partitions[i] < partitions[j] })
			topics = append(topics, kmsg.OffsetFetchRequestTopic{Topic: topic, Partitions: partitions})
		}
		sort.Slice(topics, func(i, j int) bool { return topics[i].Topic < topics[j].Topic })
	}
	for _, rt := range topics {
		ot := kmsg.NewOffsetFetchResponseTopic()
		ot.Topic = rt.Topic
		refused := req.Topics != nil && !s.may(ctx, acl.Describe, acl.Topic, rt.Topic)
		for _, p := range rt.Partitions {
			op := kmsg.NewOffsetFetchResponseTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch = p, -1, -1
			if refused {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			if c, ok := committed[TopicPartition{rt.Topic, p}]; ok {
				op.Offset, op.LeaderEpoch = c.Offset, c.LeaderEpoch
				op.Metadata = &c.Metadata
			}
			if req.RequireStable && s.broker.UnstableOffset(req.Group, TopicPartition{rt.Topic, p}) {
				op.Offset, op.LeaderEpoch, op.Metadata = -1, -1, nil
				op.ErrorCode = kerr.UnstableOffsetCommit.Code
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}

// offsetFetchError answers a whole request with one error.
func offsetFetchError(req *kmsg.OffsetFetchRequest, resp *kmsg.OffsetFetchResponse, code int16) kmsg.Response {
	resp.ErrorCode = code
	if req.Version >= 2 {
		return resp
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetFetchResponseTopic()
		ot.Topic = rt.Topic
		for _, p := range rt.Partitions {
			op := kmsg.NewOffsetFetchResponseTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = p, -1, -1, code
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
