package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DeleteTopics, versions 0–6: by name, or by topic ID (v6).
// With an authorizer, each topic needs DELETE
// (TOPIC_AUTHORIZATION_FAILED).

func serveDeleteTopics(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	targets := req.Topics
	for _, name := range req.TopicNames {
		targets = append(targets, kmsg.DeleteTopicsRequestTopic{Topic: &name})
	}
	for _, target := range targets {
		ot := kmsg.NewDeleteTopicsResponseTopic()
		ot.Topic, ot.TopicID = target.Topic, target.TopicID
		if target.Topic == nil {
			for _, t := range s.broker.Topics() {
				if t.ID == target.TopicID {
					ot.Topic = &t.Name
				}
			}
		}
		if ot.Topic == nil {
			ot.ErrorCode = kerr.UnknownTopicID.Code
		} else if !s.may(ctx, acl.Delete, acl.Topic, *ot.Topic) {
			ot.ErrorCode = kerr.TopicAuthorizationFailed.Code
		} else if err := s.broker.DeleteTopic(ctx, *ot.Topic); err != nil {
			ot.ErrorCode = s.broker.ErrorCode(err)
			ot.ErrorMessage = errorMessage(err)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}
