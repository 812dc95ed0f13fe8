package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// IncrementalAlterConfigs, versions 0–1: set and delete topic configs.
// APPEND and SUBTRACT (for list configs) and broker resources are refused
// with INVALID_REQUEST.
// With an authorizer, a resource needs ALTER_CONFIGS as configsRefused
// says.

func serveIncrementalAlterConfigs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, res := range req.Resources {
		out := kmsg.NewIncrementalAlterConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		set, remove, ok := map[string]string{}, []string(nil), res.ResourceType == kmsg.ConfigResourceTypeTopic
		for _, c := range res.Configs {
			switch {
			case c.Op == kmsg.IncrementalAlterConfigOpSet && c.Value != nil:
				set[c.Name] = *c.Value
			case c.Op == kmsg.IncrementalAlterConfigOpDelete:
				remove = append(remove, c.Name)
			default:
				ok = false
			}
		}
		if code := s.configsRefused(ctx, acl.AlterConfigs, res.ResourceType, res.ResourceName); code != 0 {
			out.ErrorCode = code
		} else if !ok {
			out.ErrorCode = kerr.InvalidRequest.Code
		} else if err := s.broker.AlterTopicConfigs(ctx, res.ResourceName, set, remove, req.ValidateOnly); err != nil {
			out.ErrorCode = s.broker.ErrorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}
