package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DeleteAcls, versions 0–3 (KIP-140; pattern types from version 1,
// KIP-290): the bindings each filter matches removed, and returned with
// its result. It needs ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED
// for every filter); a filter with a value Kafka does not have gets
// INVALID_REQUEST; without an authorizer, SECURITY_DISABLED.

func serveDeleteACLs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	code := s.aclRequestRefused(ctx, acl.Alter)
	results := make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	var valid []acl.Filter
	var at []int
	for i, rf := range req.Filters {
		results[i] = kmsg.NewDeleteACLsResponseResult()
		f := aclFilter(int8(rf.ResourceType), rf.ResourceName, int8(rf.ResourcePatternType), rf.Principal, rf.Host,
			int8(rf.Operation), int8(rf.PermissionType))
		if code != 0 {
			results[i].ErrorCode = code
		} else if err := f.Validate(); err != nil {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, errorMessage(err)
		} else {
			valid, at = append(valid, f), append(at, i)
		}
	}
	if len(valid) > 0 {
		deleted, errs := s.cfg.Authorizer.DeleteACLs(ctx, valid)
		for j, i := range at {
			if errs[j] != nil {
				results[i].ErrorCode, results[i].ErrorMessage = s.aclErrorCode(errs[j]), errorMessage(errs[j])
				continue
			}
			for _, b := range deleted[j] {
				m := kmsg.NewDeleteACLsResponseResultMatchingACL()
				m.ResourceType, m.ResourceName = kmsg.ACLResourceType(b.Type), b.Name
				m.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern)
				m.Principal, m.Host = b.Principal, b.Host
				m.Operation, m.PermissionType = kmsg.ACLOperation(b.Operation), kmsg.ACLPermissionType(b.Permission)
				results[i].MatchingACLs = append(results[i].MatchingACLs, m)
			}
		}
	}
	resp.Results = results
	return resp
}
