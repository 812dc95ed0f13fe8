package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// EndTxn, versions 0–5: commit or abort the producer's transaction. The
// answer comes once the decision is written to __transaction_state; the
// coordinator then writes the markers to every partition in the
// transaction (waiting a moment for them first), and goes on trying until
// they are all written. From version 5 (transaction version 2) the end
// bumps the producer's epoch, the markers are written at the new one, and
// the answer gives the producer ID and epoch to go on with.
// With an authorizer, the request needs WRITE on the transactional ID
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).

func serveEndTxn(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if !s.may(ctx, acl.Write, acl.TransactionalID, req.TransactionalID) {
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = kerr.TransactionalIDAuthorizationFailed.Code, -1, -1
		return resp
	}
	version := int16(1)
	if req.Version >= 5 {
		version = 2
	}
	pid, epoch, err := s.broker.EndTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit, version)
	if err != nil {
		resp.ErrorCode = s.txnErrorCode(err, req.Version >= 2)
		pid, epoch = -1, -1
	}
	resp.ProducerID, resp.ProducerEpoch = pid, epoch
	return resp
}
