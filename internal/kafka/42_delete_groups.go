package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DeleteGroups, versions 0–2: deletes empty groups' offsets; a group with
// members gets NON_EMPTY_GROUP.
// With an authorizer, each group needs DELETE
// (GROUP_AUTHORIZATION_FAILED).

func serveDeleteGroups(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDeleteGroupsResponseGroup()
		g.Group = id
		if !s.may(ctx, acl.Delete, acl.Group, id) {
			g.ErrorCode = kerr.GroupAuthorizationFailed.Code
		} else if err := s.broker.DeleteGroup(ctx, id); err != nil {
			g.ErrorCode = s.broker.ErrorCode(err)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
