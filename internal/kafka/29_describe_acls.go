package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeAcls, versions 0–3 (KIP-140; pattern types from version 1,
// KIP-290): the ACLs a filter matches, grouped by resource pattern. It
// needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED); a filter
// with a value Kafka does not have gets INVALID_REQUEST; without an
// authorizer, SECURITY_DISABLED.

func serveDescribeACLs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	f := aclFilter(int8(req.ResourceType), req.ResourceName, int8(req.ResourcePatternType), req.Principal, req.Host,
		int8(req.Operation), int8(req.PermissionType))
	if resp.ErrorCode = s.aclRequestRefused(ctx, acl.Describe); resp.ErrorCode != 0 {
		return resp
	}
	if err := f.Validate(); err != nil {
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, errorMessage(err)
		return resp
	}
	type pattern struct {
		t       acl.ResourceType
		name    string
		pattern acl.PatternType
	}
	at := map[pattern]int{}
	for _, b := range s.cfg.Authorizer.DescribeACLs(f) {
		p := pattern{b.Type, b.Name, b.Pattern}
		i, ok := at[p]
		if !ok {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType, res.ResourceName = kmsg.ACLResourceType(b.Type), b.Name
			res.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern)
			i = len(resp.Resources)
			at[p] = i
			resp.Resources = append(resp.Resources, res)
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host = b.Principal, b.Host
		a.Operation, a.PermissionType = kmsg.ACLOperation(b.Operation), kmsg.ACLPermissionType(b.Permission)
		resp.Resources[i].ACLs = append(resp.Resources[i].ACLs, a)
	}
	return resp
}

// aclRequestRefused returns the code refusing an ACL request whole, 0 when
// it is served: SECURITY_DISABLED without an authorizer,
// CLUSTER_AUTHORIZATION_FAILED without op (DESCRIBE, ALTER) on the
// cluster.
func (s *Server) aclRequestRefused(ctx context.Context, op acl.Operation) int16 {
	switch {
	case s.cfg.Authorizer == nil:
		return kerr.SecurityDisabled.Code
	case !s.mayCluster(ctx, op):
		return kerr.ClusterAuthorizationFailed.Code
	}
	return 0
}

// aclFilter returns the filter of a DescribeAcls or DeleteAcls request:
// null strings match all.
func aclFilter(t int8, name *string, pattern int8, principal, host *string, op, permission int8) acl.Filter {
	return acl.Filter{Type: acl.ResourceType(t), Name: deref(name), Pattern: acl.PatternType(pattern),
		Principal: deref(principal), Host: deref(host), Operation: acl.Operation(op), Permission: acl.Permission(permission)}
}
