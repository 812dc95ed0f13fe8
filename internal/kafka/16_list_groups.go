package kafka

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// ListGroups, versions 0–4: groups with members or committed offsets,
// filtered by state (v4). A group with offsets and no members is Empty.
// With an authorizer, a principal without DESCRIBE on the cluster is told
// of the groups it may describe.

func serveListGroups(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	all := s.mayCluster(ctx, acl.Describe)
	for _, id := range s.broker.ListGroups() {
		if !all && !s.mayQuietly(ctx, acl.Describe, acl.Group, id) {
			continue
		}
		d := s.broker.Groups().Describe(id)
		state, protocolType := d.State.String(), d.ProtocolType
		if len(d.Members) == 0 {
			state, protocolType = "Empty", "consumer"
		}
		if len(req.StatesFilter) > 0 && !slices.Contains(req.StatesFilter, state) {
			continue
		}
		g := kmsg.NewListGroupsResponseGroup()
		g.Group, g.ProtocolType, g.GroupState = id, protocolType, state
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
