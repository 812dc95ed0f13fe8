package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/group"
)

// JoinGroup, versions 0–9. From version 4 a first join gets
// MEMBER_ID_REQUIRED with the ID to join with (KIP-394); version 0 has no
// rebalance timeout and uses the session timeout. The request waits in the
// coordinator until the join phase ends, holding its connection, as in
// Kafka. With an authorizer, JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup need READ on the group (GROUP_AUTHORIZATION_FAILED).

func serveJoinGroup(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.JoinGroupRequest)
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	if !s.may(ctx, acl.Read, acl.Group, req.Group) {
		resp.ErrorCode, resp.Generation = kerr.GroupAuthorizationFailed.Code, -1
		return resp
	}
	jr := group.JoinRequest{Group: req.Group, MemberID: req.MemberID, InstanceID: deref(req.InstanceID),
		ClientID: clientIDFrom(ctx), ClientHost: clientHostFrom(ctx),
		SessionTimeout:       time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		RebalanceTimeout:     time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		ProtocolType:         req.ProtocolType,
		RequireKnownMemberID: req.Version >= 4}
	if req.Version == 0 {
		jr.RebalanceTimeout = jr.SessionTimeout
	}
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	joined, err := s.broker.Groups().Join(ctx, jr)
	resp.MemberID = joined.MemberID
	resp.Generation = -1
	if err != nil {
		resp.ErrorCode = s.groupErrorCode(err)
		if !errors.Is(err, group.ErrMemberIDRequired) {
			resp.MemberID = req.MemberID
		}
		return resp
	}
	resp.Generation, resp.LeaderID = joined.Generation, joined.LeaderID
	resp.Protocol, resp.ProtocolType = &joined.Protocol, &req.ProtocolType
	for _, m := range joined.Members {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID, rm.ProtocolMetadata = m.MemberID, m.Metadata
		if m.InstanceID != "" {
			rm.InstanceID = &m.InstanceID
		}
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// groupErrorCode maps a coordinator error; a request cut short by the
// server's shutdown tells the client to find the coordinator again.
func (s *Server) groupErrorCode(err error) int16 {
	if errors.Is(err, context.Canceled) || errors.Is(err, group.ErrClosed) {
		return kerr.CoordinatorNotAvailable.Code
	}
	return s.broker.ErrorCode(err)
}
