package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// OffsetForLeaderEpoch, versions 0–4: where a leader epoch ends in the
// leader's log (KIP-101), as followers ask before they fetch, to cut a
// divergent tail, and as clients ask after a leader change, to detect
// truncation. For the newest epoch it is the log end offset; for an older
// one the start of the next; an epoch newer than all gets -1 and -1. Only
// the partition's leader answers, at the CurrentLeaderEpoch asked when
// one is given.
// With an authorizer, a consumer needs DESCRIBE on each topic
// (TOPIC_AUTHORIZATION_FAILED), a follower (ReplicaID, v3+) CLUSTER_ACTION
// on the cluster (CLUSTER_AUTHORIZATION_FAILED).

func serveOffsetForLeaderEpoch(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	follower := req.Version >= 3 && req.ReplicaID >= 0
	clusterRefused := follower && !s.mayCluster(ctx, acl.ClusterAction)
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetForLeaderEpochResponseTopic()
		ot.Topic = rt.Topic
		refused := !follower && !s.may(ctx, acl.Describe, acl.Topic, rt.Topic)
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			op.Partition = rp.Partition
			if clusterRefused || refused {
				op.ErrorCode, op.LeaderEpoch, op.EndOffset = kerr.TopicAuthorizationFailed.Code, -1, -1
				if clusterRefused {
					op.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				}
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
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
