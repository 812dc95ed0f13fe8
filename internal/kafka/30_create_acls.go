package kafka

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// CreateAcls, versions 0–3 (KIP-140; prefixed patterns from version 1,
// KIP-290): ACL bindings added, each with its own result. It needs ALTER
// on the cluster (CLUSTER_AUTHORIZATION_FAILED); a binding that is no ACL
// (a filter's value, an empty name, a malformed principal) gets
// INVALID_REQUEST; without an authorizer, SECURITY_DISABLED.

func serveCreateACLs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	code := s.aclRequestRefused(ctx, acl.Alter)
	results := make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	var valid []acl.Binding
	var at []int
	for i, c := range req.Creations {
		results[i] = kmsg.NewCreateACLsResponseResult()
		b := acl.Binding{Type: acl.ResourceType(c.ResourceType), Name: c.ResourceName,
			Pattern: acl.PatternType(c.ResourcePatternType), Principal: c.Principal, Host: c.Host,
			Operation: acl.Operation(c.Operation), Permission: acl.Permission(c.PermissionType)}
		if code != 0 {
			results[i].ErrorCode = code
		} else if err := b.Validate(); err != nil {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, errorMessage(err)
		} else {
			valid, at = append(valid, b), append(at, i)
		}
	}
	if len(valid) > 0 {
		for j, err := range s.cfg.Authorizer.CreateACLs(ctx, valid) {
			if err != nil {
				results[at[j]].ErrorCode, results[at[j]].ErrorMessage = s.aclErrorCode(err), errorMessage(err)
			}
		}
	}
	resp.Results = results
	return resp
}

// aclErrorCode maps an Authorizer's error: INVALID_REQUEST for what is no
// ACL, Kafka's own codes as they are.
func (s *Server) aclErrorCode(err error) int16 {
	if errors.Is(err, acl.ErrInvalidBinding) {
		return kerr.InvalidRequest.Code
	}
	return s.broker.ErrorCode(err)
}
