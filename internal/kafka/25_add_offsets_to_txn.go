package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddOffsetsToTxn, versions 0–3: a group whose offsets the producer will
// commit in its transaction (TxnOffsetCommit, to the group's
// coordinator); the coordinator adds the group's partition of
// __consumer_offsets to the transaction, so that its marker commits or
// drops them.

func serveAddOffsetsToTxn(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if err := s.broker.AddOffsetsToTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group); err != nil {
		resp.ErrorCode = s.txnErrorCode(err, req.Version >= 2)
	}
	return resp
}
