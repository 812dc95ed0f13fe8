package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// FindCoordinator, versions 0–4: the node coordinating a group (key type
// 0) or a transactional ID (key type 1), which in a cluster leads the
// key's partition of __consumer_offsets or __transaction_state (asking
// creates that topic, as in Kafka). Other key types get INVALID_REQUEST.
// With an authorizer, a key needs DESCRIBE on its group
// (GROUP_AUTHORIZATION_FAILED) or transactional ID
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).

func serveFindCoordinator(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	find := func(key string) (BrokerMetadata, int16) {
		var id int32
		var err error
		switch {
		case req.CoordinatorType == 0 && !s.may(ctx, acl.Describe, acl.Group, key):
			return BrokerMetadata{NodeID: -1}, kerr.GroupAuthorizationFailed.Code
		case req.CoordinatorType == 1 && !s.may(ctx, acl.Describe, acl.TransactionalID, key):
			return BrokerMetadata{NodeID: -1}, kerr.TransactionalIDAuthorizationFailed.Code
		}
		switch req.CoordinatorType {
		case 0:
			id, err = s.broker.GroupCoordinator(ctx, key)
		case 1:
			id, err = s.broker.TxnCoordinator(ctx, key)
		default:
			return BrokerMetadata{NodeID: -1}, kerr.InvalidRequest.Code
		}
		if err != nil {
			return BrokerMetadata{NodeID: -1}, s.groupErrorCode(err)
		}
		if id == s.cfg.NodeID {
			return s.self(ctx), 0
		}
		for _, b := range s.broker.Brokers(listenerFrom(ctx).name()) {
			if b.NodeID == id {
				return b, 0
			}
		}
		return BrokerMetadata{NodeID: -1}, kerr.CoordinatorNotAvailable.Code // gone from the members meanwhile
	}
	if req.Version < 4 {
		b, code := find(req.CoordinatorKey)
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = code, b.NodeID, b.Host, b.Port
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		b, code := find(key)
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.ErrorCode, c.NodeID, c.Host, c.Port = key, code, b.NodeID, b.Host, b.Port
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp
}
