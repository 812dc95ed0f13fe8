package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// LeaveGroup, versions 0–5: one member (v0–2) or several, each with its
// own error (v3+).

func serveLeaveGroup(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.LeaveGroupRequest)
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if !s.may(ctx, acl.Read, acl.Group, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	if req.Version < 3 {
		if err := s.broker.Groups().Leave(req.Group, group.Identity{MemberID: req.MemberID}); err != nil {
			resp.ErrorCode = s.groupErrorCode(err)
		}
		return resp
	}
	for _, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = m.MemberID, m.InstanceID
		if err := s.broker.Groups().Leave(req.Group, group.Identity{MemberID: m.MemberID,
			InstanceID: deref(m.InstanceID)}); err != nil {
			rm.ErrorCode = s.groupErrorCode(err)
		}
		resp.Members = append(resp.Members, rm)
	}
	return resp
}
