package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups, versions 0–2: deletes empty groups' offsets; a group with
// members gets NON_EMPTY_GROUP.

func serveDeleteGroups(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDeleteGroupsResponseGroup()
		g.Group = id
		if err := s.broker.DeleteGroup(ctx, id); err != nil {
			g.ErrorCode = s.broker.ErrorCode(err)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
