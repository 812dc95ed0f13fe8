package kafka

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// ListTransactions, versions 0–1: the transactional IDs this node
// coordinates, filtered by state, producer ID and (v1) by running longer
// than DurationFilterMillis. A state filter naming no state Kafka knows
// is answered in UnknownStateFilters.
// With an authorizer, only the transactional IDs the principal may
// describe are listed.

func serveListTransactions(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	var states []kmsg.TransactionState
	for _, f := range req.StateFilters {
		st, err := kmsg.ParseTransactionState(f)
		if err != nil {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, f)
			continue
		}
		states = append(states, st)
	}
	if len(resp.UnknownStateFilters) > 0 && len(states) == 0 {
		return resp // only states that cannot match
	}
	now := time.Now()
	for _, m := range s.broker.ListTxns() {
		switch {
		case !s.mayQuietly(ctx, acl.Describe, acl.TransactionalID, m.TransactionalID),
			len(states) > 0 && !slices.Contains(states, m.State),
			len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, m.ProducerID),
			req.DurationFilterMillis >= 0 && req.Version >= 1 &&
				(m.Started.IsZero() || now.Sub(m.Started) < time.Duration(req.DurationFilterMillis)*time.Millisecond):
			continue
		}
		st := kmsg.NewListTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.TransactionState = m.TransactionalID, m.ProducerID, m.State.String()
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}
