package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/group"
)

// Heartbeat, versions 0–4.

func serveHeartbeat(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	err := s.broker.Groups().Heartbeat(req.Group, group.Identity{MemberID: req.MemberID,
		InstanceID: deref(req.InstanceID), Generation: req.Generation})
	if err != nil {
		resp.ErrorCode = s.groupErrorCode(err)
	}
	return resp
}
