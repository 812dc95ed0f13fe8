package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AlterPartition, versions 0–1: a partition leader asks the controller's
// leader to change the partition's in-sync replicas, at the leader epoch
// it leads at. Topics are named (version 2 names them by ID); only the
// NewISR list is read. A node that does not lead the controller answers
// NOT_CONTROLLER; a stale leader epoch, FENCED_LEADER_EPOCH; an ISR the
// metadata refuses, INVALID_REQUEST.
// With an authorizer, only a principal with CLUSTER_ACTION on the cluster
// may (CLUSTER_AUTHORIZATION_FAILED).

func serveAlterPartition(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AlterPartitionRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	if !s.mayCluster(ctx, acl.ClusterAction) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	for _, rt := range req.Topics {
		ot := kmsg.NewAlterPartitionResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewAlterPartitionResponseTopicPartition()
			op.Partition, op.LeaderEpoch, op.ISR = rp.Partition, rp.LeaderEpoch, rp.NewISR
			if err := s.broker.AlterISR(ctx, rt.Topic, rp.Partition, rp.LeaderEpoch, rp.NewISR); err != nil {
				op.ErrorCode = s.broker.ErrorCode(err)
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
