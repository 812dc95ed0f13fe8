package franzgo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
)

// TestTransactionsAreRefusedAtOnce: until creek serves transactions
// (issue 16), a transactional producer is told so on its first call
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which franz-go treats as
// fatal) rather than looking for a coordinator until it gives up. The
// minute is the test's bound, not the refusal's.
func TestTransactionsAreRefusedAtOnce(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{}))
	producer := newClient(t, n, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("t"))
	err := producer.BeginTransaction() // fails once the client has asked for its producer ID
	if err == nil {
		err = producer.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr()
	}
	assert.ErrorIs(t, err, kerr.TransactionalIDAuthorizationFailed)
	assert.NoError(t, ctx.Err(), "refused before the test's bound")
}
