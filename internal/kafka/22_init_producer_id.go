package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// InitProducerId, versions 0–4: an ID and epoch for an idempotent
// producer, or for a transactional ID's producer from the ID's
// coordinator: its ID and a new epoch, fencing older instances, with the
// ID and epoch it had (v3+) kept where KIP-360 allows.
// With an authorizer, a transactional producer needs WRITE on its
// transactional ID (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), an idempotent
// one IDEMPOTENT_WRITE on the cluster or WRITE on some topic
// (CLUSTER_AUTHORIZATION_FAILED), as from Kafka 3.0 (KIP-679).

func serveInitProducerID(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	var id int64
	var epoch int16
	var err error
	if req.TransactionalID != nil && !s.may(ctx, acl.Write, acl.TransactionalID, *req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	}
	if req.TransactionalID == nil && !s.mayQuietly(ctx, acl.IdempotentWrite, acl.Cluster, acl.ClusterName) &&
		!s.mayAny(ctx, acl.Write, acl.Topic) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp
	}
	if req.TransactionalID != nil {
		timeout := time.Duration(req.TransactionTimeoutMillis) * time.Millisecond
		id, epoch, err = s.broker.InitTxnProducer(ctx, *req.TransactionalID, timeout, req.ProducerID, req.ProducerEpoch)
		if err != nil {
			resp.ErrorCode = s.txnErrorCode(err, req.Version >= 4)
			return resp
		}
		resp.ProducerID, resp.ProducerEpoch = id, epoch
		return resp
	}
	id, epoch, err = s.broker.InitProducerID(ctx)
	if err != nil {
		resp.ErrorCode = s.broker.ErrorCode(err)
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, epoch
	return resp
}
