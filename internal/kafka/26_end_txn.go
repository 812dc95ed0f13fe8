package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn, versions 0–4: commit or abort the producer's transaction. The
// answer comes once the decision is written to __transaction_state; the
// coordinator then writes the markers to every partition in the
// transaction (waiting a moment for them first), and goes on trying until
// they are all written.

func serveEndTxn(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if err := s.broker.EndTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit); err != nil {
		resp.ErrorCode = s.txnErrorCode(err, req.Version >= 2)
	}
	return resp
}
