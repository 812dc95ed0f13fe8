package kafka

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// txnErrorCode returns the code a transaction request answers err with:
// a request cut short by the node's closing sends the client to look for
// the coordinator again, and PRODUCER_FENCED goes to clients that predate
// it (knowsFenced false) as INVALID_PRODUCER_EPOCH, as Kafka does (KIP-588).
func (s *Server) txnErrorCode(err error, knowsFenced bool) int16 {
	if errors.Is(err, context.Canceled) {
		return kerr.CoordinatorNotAvailable.Code
	}
	code := s.broker.ErrorCode(err)
	if code == kerr.ProducerFenced.Code && !knowsFenced {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}
