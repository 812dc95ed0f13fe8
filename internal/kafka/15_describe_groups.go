package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups, versions 0–5: state, protocol and members with their
// metadata and assignment. A group without members is Empty when it has
// committed offsets and Dead otherwise, as in Kafka. Only the group's
// coordinator describes it.

func serveDescribeGroups(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDescribeGroupsResponseGroup()
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
