package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AlterPartitionAssignments, version 0: start moving partitions to new
// replicas (KIP-455), or cancel a move with null replicas. The answer
// comes once the controller has committed each start; the replicas copy
// the log afterwards (ListPartitionReassignments follows them).
// With an authorizer, the request needs ALTER on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveAlterPartitionAssignments(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if !s.mayCluster(ctx, acl.Alter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	moves := map[TopicPartition][]int32{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			moves[TopicPartition{rt.Topic, rp.Partition}] = rp.Replicas
		}
	}
	errs := s.broker.ReassignPartitions(ctx, moves)
	for _, rt := range req.Topics {
		ot := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			op.Partition = rp.Partition
			if err := errs[TopicPartition{rt.Topic, rp.Partition}]; err != nil {
				op.ErrorCode, op.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
