package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// CreatePartitions, versions 0–3. Explicit assignments are refused
// (INVALID_REQUEST) until the cluster places replicas.
// With an authorizer, each topic needs ALTER (TOPIC_AUTHORIZATION_FAILED).

func serveCreatePartitions(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewCreatePartitionsResponseTopic()
		ot.Topic = rt.Topic
		if !s.may(ctx, acl.Alter, acl.Topic, rt.Topic) {
			ot.ErrorCode = kerr.TopicAuthorizationFailed.Code
		} else if len(rt.Assignment) > 0 {
			ot.ErrorCode = kerr.InvalidRequest.Code
		} else if err := s.broker.CreatePartitions(ctx, rt.Topic, rt.Count, req.ValidateOnly); err != nil {
			ot.ErrorCode = s.broker.ErrorCode(err)
			ot.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
