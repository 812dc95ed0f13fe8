package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// AddOffsetsToTxn, versions 0–3: a group whose offsets the producer will
// commit in its transaction (TxnOffsetCommit, to the group's
// coordinator); the coordinator adds the group's partition of
// __consumer_offsets to the transaction, so that its marker commits or
// drops them.
// With an authorizer, the request needs WRITE on the transactional ID
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and READ on the group
// (GROUP_AUTHORIZATION_FAILED).

func serveAddOffsetsToTxn(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	switch {
	case !s.may(ctx, acl.Write, acl.TransactionalID, req.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	case !s.may(ctx, acl.Read, acl.Group, req.Group):
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	if err := s.broker.AddOffsetsToTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group); err != nil {
		resp.ErrorCode = s.txnErrorCode(err, req.Version >= 2)
	}
	return resp
}
