package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 0–4. A single node has had one leader
// epoch, 0, so any epoch ≥ 0 ends at the log end offset; clients ask this
// to detect truncation, which one node never does. The cluster issue
// brings real epochs (KIP-101).

const codeUnknownLeaderEpoch int16 = 75

func serveOffsetForLeaderEpoch(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetForLeaderEpochResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			op.Partition, op.LeaderEpoch, op.EndOffset = rp.Partition, -1, -1
			end, _, err := s.broker.ListOffset(rt.Topic, rp.Partition, -1)
			switch {
			case err != nil:
				op.ErrorCode = s.broker.ErrorCode(err)
			case rp.LeaderEpoch < 0:
				op.ErrorCode = codeUnknownLeaderEpoch
			default:
				op.LeaderEpoch, op.EndOffset = 0, end
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
