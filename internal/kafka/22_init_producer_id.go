package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId, versions 0–4: an ID and epoch for an idempotent
// producer. A transactional ID gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// until creek has a transaction coordinator, so a transactional client
// stops at once instead of failing later.

func serveInitProducerID(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	}
	id, epoch, err := s.broker.InitProducerID(ctx)
	if err != nil {
		resp.ErrorCode = s.broker.ErrorCode(err)
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, epoch
	return resp
}
