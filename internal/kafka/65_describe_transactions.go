package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeTransactions, version 0: the state of transactional IDs this
// node coordinates; one it does not answers NOT_COORDINATOR (or
// COORDINATOR_LOAD_IN_PROGRESS), one it does not know
// TRANSACTIONAL_ID_NOT_FOUND.
// With an authorizer, each transactional ID needs DESCRIBE
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and the partitions of topics
// the principal may not describe are left out.

func serveDescribeTransactions(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID, st.ProducerID, st.ProducerEpoch, st.StartTimestamp = id, -1, -1, -1
		if !s.may(ctx, acl.Describe, acl.TransactionalID, id) {
			st.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		m, err := s.broker.DescribeTxn(ctx, id)
		if err != nil {
			st.ErrorCode = s.txnErrorCode(err, true)
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State, st.TimeoutMillis = m.State.String(), int32(m.Timeout.Milliseconds())
		st.ProducerID, st.ProducerEpoch = m.ProducerID, m.Epoch
		if !m.Started.IsZero() {
			st.StartTimestamp = m.Started.UnixMilli()
		}
		for _, p := range m.SortedPartitions() {
			if !s.may(ctx, acl.Describe, acl.Topic, p.Topic) {
				continue
			}
			if n := len(st.Topics); n == 0 || st.Topics[n-1].Topic != p.Topic {
				t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
				t.Topic = p.Topic
				st.Topics = append(st.Topics, t)
			}
			t := &st.Topics[len(st.Topics)-1]
			t.Partitions = append(t.Partitions, p.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return resp
}
