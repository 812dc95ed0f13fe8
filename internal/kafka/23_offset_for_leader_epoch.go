package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 0–4: where a leader epoch ends in the
// leader's log (KIP-101), as followers ask before they fetch, to cut a
// divergent tail, and as clients ask after a leader change, to detect
// truncation. For the newest epoch it is the log end offset; for an older
// one the start of the next; an epoch newer than all gets -1 and -1. Only
// the partition's leader answers, at the CurrentLeaderEpoch asked when
// one is given.

func serveOffsetForLeaderEpoch(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetForLeaderEpochResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			op.Partition = rp.Partition
			epoch, end, err := s.broker.EndOffsetForEpoch(rt.Topic, rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch)
			if err != nil {
				op.ErrorCode = s.broker.ErrorCode(err)
				epoch, end = -1, -1
			}
			op.LeaderEpoch, op.EndOffset = epoch, end
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
