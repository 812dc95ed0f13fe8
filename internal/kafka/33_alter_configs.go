package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AlterConfigs, versions 0–2, which sarama and older librdkafka send where
// newer clients send IncrementalAlterConfigs: a topic's configs become
// exactly those given, the rest going back to their defaults. Broker
// configs are read-only: INVALID_REQUEST.
// With an authorizer, a resource needs ALTER_CONFIGS as configsRefused
// says.

func serveAlterConfigs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, res := range req.Resources {
		out := kmsg.NewAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		if code := s.configsRefused(ctx, acl.AlterConfigs, res.ResourceType, res.ResourceName); code != 0 {
			out.ErrorCode = code
		} else if res.ResourceType != kmsg.ConfigResourceTypeTopic {
			out.ErrorCode = kerr.InvalidRequest.Code
			message := "creek's broker configs are read-only"
			out.ErrorMessage = &message
		} else if err := s.replaceTopicConfigs(ctx, res, req.ValidateOnly); err != nil {
			out.ErrorCode = s.broker.ErrorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

// replaceTopicConfigs sets a topic's configs to those given and removes
// the others set on it.
func (s *Server) replaceTopicConfigs(ctx context.Context, res kmsg.AlterConfigsRequestResource, validateOnly bool) error {
	_, explicit, err := s.broker.TopicConfigs(res.ResourceName)
	if err != nil {
		return err
	}
	set := map[string]string{}
	for _, c := range res.Configs {
		if c.Value != nil {
			set[c.Name] = *c.Value
		}
	}
	var remove []string
	for name := range explicit {
		if _, kept := set[name]; !kept && explicit[name] {
			remove = append(remove, name)
		}
	}
	return s.broker.AlterTopicConfigs(ctx, res.ResourceName, set, remove, validateOnly)
}
