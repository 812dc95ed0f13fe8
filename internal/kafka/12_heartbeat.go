package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// Heartbeat, versions 0–4.

func serveHeartbeat(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if !s.may(ctx, acl.Read, acl.Group, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	err := s.broker.Groups().Heartbeat(req.Group, group.Identity{MemberID: req.MemberID,
		InstanceID: deref(req.InstanceID), Generation: req.Generation})
	if err != nil {
		resp.ErrorCode = s.groupErrorCode(err)
	}
	return resp
}
