package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// SyncGroup, versions 0–5. The leader's assignments are stored as they
// came; each member, waiting until the leader's arrive, gets its own.

func serveSyncGroup(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.SyncGroupRequest)
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if !s.may(ctx, acl.Read, acl.Group, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	sr := group.SyncRequest{Group: req.Group, Generation: req.Generation, MemberID: req.MemberID,
		InstanceID: deref(req.InstanceID)}
	if len(req.GroupAssignment) > 0 {
		sr.Assignments = make(map[string][]byte, len(req.GroupAssignment))
		for _, a := range req.GroupAssignment {
			sr.Assignments[a.MemberID] = a.MemberAssignment
		}
	}
	assignment, err := s.broker.Groups().Sync(ctx, sr)
	if err != nil {
		resp.ErrorCode = s.groupErrorCode(err)
		return resp
	}
	resp.MemberAssignment = assignment
	resp.ProtocolType, resp.Protocol = req.ProtocolType, req.Protocol
	return resp
}
