package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeGroups, versions 0–5: state, protocol and members with their
// metadata and assignment. A group without members is Empty when it has
// committed offsets and Dead otherwise, as in Kafka. Only the group's
// coordinator describes it. With an authorizer, each group needs
// DESCRIBE (GROUP_AUTHORIZATION_FAILED); its authorized operations (v3+)
// are given when the request asks.

func serveDescribeGroups(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDescribeGroupsResponseGroup()
		if !s.may(ctx, acl.Describe, acl.Group, id) {
			g.Group, g.ErrorCode = id, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		if req.IncludeAuthorizedOperations {
			g.AuthorizedOperations = s.authorizedOperations(ctx, acl.Group, id, groupOperations...)
		}
		if err := s.broker.OwnsGroup(id); err != nil {
			g.Group, g.ErrorCode = id, s.groupErrorCode(err)
			resp.Groups = append(resp.Groups, g)
			continue
		}
		d := s.broker.Groups().Describe(id)
		g.Group, g.State, g.ProtocolType, g.Protocol = id, d.State.String(), d.ProtocolType, d.Protocol
		if len(d.Members) == 0 && len(s.broker.CommittedOffsets(id)) > 0 {
			g.State, g.ProtocolType = "Empty", "consumer"
		}
		for _, m := range d.Members {
			rm := kmsg.NewDescribeGroupsResponseGroupMember()
			rm.MemberID, rm.ClientID, rm.ClientHost = m.MemberID, m.ClientID, m.ClientHost
			rm.ProtocolMetadata, rm.MemberAssignment = m.Metadata, m.Assignment
			if m.InstanceID != "" {
				rm.InstanceID = &m.InstanceID
			}
			g.Members = append(g.Members, rm)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
