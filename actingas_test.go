package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/acl"
)

// allowACL gives principal op on the resource of type t named name, on
// n's own authorizer.
func allowACL(t *testing.T, n *Node, principal string, op acl.Operation, rt acl.ResourceType, name string) acl.Binding {
	t.Helper()
	b := acl.Binding{Type: rt, Name: name, Pattern: acl.Literal, Principal: principal, Host: acl.Wildcard,
		Operation: op, Permission: acl.Allow}
	require.NoError(t, n.acls.CreateACLs(t.Context(), []acl.Binding{b})[0])
	return b
}

// TestEmbeddedPrincipals: a Producer or Consumer that names a Principal
// is decided by the node's ACLs as a Kafka client of it is — an
// idempotent producer needs IDEMPOTENT_WRITE or WRITE on some topic, a
// transactional one WRITE on its ID, a record WRITE on its topic, a group member READ on the group and the
// topic — and a grant taken back refuses it again at once; one that
// names none is the application's and is not checked.
func TestEmbeddedPrincipals(t *testing.T) {
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), ACL: &ACLConfig{}})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "orders", TopicSpec{}))
	require.NoError(t, n.CreateTopic(ctx, "payroll", TopicSpec{}))

	_, err := n.NewProducer(ProducerConfig{Principal: "User:alice"})
	require.ErrorIs(t, err, ErrClusterAuthorizationFailed, "idempotent, and no WRITE anywhere")
	assert.Equal(t, kerr.ClusterAuthorizationFailed.Code, KafkaCode(err))
	write := allowACL(t, n, "User:alice", acl.Write, acl.Topic, "orders")
	alice, err := n.NewProducer(ProducerConfig{Principal: "User:alice"})
	require.NoError(t, err, "WRITE on some topic stands for IDEMPOTENT_WRITE")
	defer alice.Close()
	require.NoError(t, alice.Produce(ctx, &Record{Topic: "orders", Value: []byte("v")}))
	require.ErrorIs(t, alice.Produce(ctx, &Record{Topic: "payroll", Value: []byte("v")}), ErrTopicAuthorizationFailed)

	_, err = n.NewProducer(ProducerConfig{Principal: "User:alice", TransactionalID: "billing"})
	require.ErrorIs(t, err, ErrTransactionalIDAuthorizationFailed)

	app, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)
	defer app.Close()
	require.NoError(t, app.Produce(ctx, &Record{Topic: "payroll", Value: []byte("v")}), "the application's own")

	bob, err := n.NewConsumer(ConsumerConfig{Principal: "User:bob", Group: "reports", Reset: ResetEarliest})
	require.NoError(t, err)
	defer bob.Close()
	bob.Subscribe("orders")
	_, err = bob.Poll(ctx)
	require.ErrorIs(t, err, ErrGroupAuthorizationFailed)
	allowACL(t, n, "User:bob", acl.Read, acl.Group, "reports")
	allowACL(t, n, "User:bob", acl.Read, acl.Topic, "orders")
	bob2, err := n.NewConsumer(ConsumerConfig{Principal: "User:bob", Group: "reports", Reset: ResetEarliest})
	require.NoError(t, err)
	defer bob2.Close()
	bob2.Subscribe("orders")
	polled, err := bob2.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, polled, 1)
	require.NoError(t, bob2.Commit(ctx))

	_, errs := n.acls.DeleteACLs(ctx, []acl.Filter{{Type: write.Type, Name: write.Name, Pattern: write.Pattern,
		Principal: write.Principal, Host: write.Host, Operation: write.Operation, Permission: write.Permission}})
	require.NoError(t, errs[0])
	require.ErrorIs(t, alice.Produce(ctx, &Record{Topic: "orders", Value: []byte("v")}), ErrTopicAuthorizationFailed,
		"the grant taken back")
}
