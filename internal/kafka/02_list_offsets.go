package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// ListOffsets, versions 0–7: the offset of the first record at or after a
// timestamp, or of the log's start (-2) or end (-1). The max-timestamp
// query of version 7 (-3, KIP-734) gets INVALID_REQUEST: creek does not
// track which record holds the largest timestamp yet. Version 0, which
// Burrow and other old tools send, answers with a list of offsets: the one
// found, if MaxNumOffsets allows one (Kafka listed segment starts too).
// A read_committed request (IsolationLevel 1, version 2+) gets the last
// stable offset for the end, and for a timestamp no offset at or past it,
// as Kafka answers. With an authorizer, each topic needs DESCRIBE
// (TOPIC_AUTHORIZATION_FAILED).

func serveListOffsets(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewListOffsetsResponseTopic()
		ot.Topic = rt.Topic
		refused := !s.may(ctx, acl.Describe, acl.Topic, rt.Topic)
		for _, rp := range rt.Partitions {
			op := kmsg.NewListOffsetsResponseTopicPartition()
			op.Partition = rp.Partition
			op.LeaderEpoch = 0
			if refused {
				op.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else if rp.Timestamp < -2 {
				op.ErrorCode = kerr.InvalidRequest.Code
			} else if offset, ts, err := s.broker.ListOffset(rt.Topic, rp.Partition, rp.Timestamp, req.IsolationLevel); err != nil {
				op.ErrorCode = s.broker.ErrorCode(err)
			} else if req.Version == 0 {
				if rp.MaxNumOffsets > 0 && offset >= 0 {
					op.OldStyleOffsets = []int64{offset}
				}
			} else {
				op.Offset, op.Timestamp = offset, ts
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
