package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// ElectLeaders, versions 0–2: preferred leader election, for the
// partitions asked for or (null topics) for all. Unclean election
// (type 1) is a topic config here, not a request: INVALID_REQUEST.
// With an authorizer, the request needs ALTER on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveElectLeaders(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	if !s.mayCluster(ctx, acl.Alter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	if req.ElectionType != 0 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	var partitions []TopicPartition
	for _, rt := range req.Topics {
		for _, p := range rt.Partitions {
			partitions = append(partitions, TopicPartition{rt.Topic, p})
		}
	}
	errs := s.broker.ElectPreferredLeaders(ctx, partitions)
	if req.Topics == nil {
		for tp := range errs {
			partitions = append(partitions, tp)
		}
	}
	byTopic := map[string]int{}
	for _, tp := range partitions {
		i := TopicIndex(&resp.Topics, byTopic, tp.Topic, func(topic string) kmsg.ElectLeadersResponseTopic {
			ot := kmsg.NewElectLeadersResponseTopic()
			ot.Topic = topic
			return ot
		})
		op := kmsg.NewElectLeadersResponseTopicPartition()
		op.Partition = tp.Partition
		if err := errs[tp]; err != nil {
			op.ErrorCode, op.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, op)
	}
	return resp
}
