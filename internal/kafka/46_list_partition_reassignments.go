package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// ListPartitionReassignments, version 0: the reassignments under way, in
// every topic (null topics) or in the partitions asked for.
// With an authorizer, the request needs DESCRIBE on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveListPartitionReassignments(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	if !s.mayCluster(ctx, acl.Describe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	var topics []string
	asked := map[TopicPartition]bool{}
	for _, rt := range req.Topics {
		topics = append(topics, rt.Topic)
		for _, p := range rt.Partitions {
			asked[TopicPartition{rt.Topic, p}] = true
		}
	}
	byTopic := map[string]int{}
	for _, ra := range s.broker.Reassignments(topics) {
		if req.Topics != nil && !asked[ra.TopicPartition] {
			continue
		}
		i := TopicIndex(&resp.Topics, byTopic, ra.Topic, func(topic string) kmsg.ListPartitionReassignmentsResponseTopic {
			ot := kmsg.NewListPartitionReassignmentsResponseTopic()
			ot.Topic = topic
			return ot
		})
		op := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		op.Partition, op.Replicas, op.AddingReplicas, op.RemovingReplicas = ra.Partition, ra.Replicas, ra.Adding, ra.Removing
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, op)
	}
	return resp
}
