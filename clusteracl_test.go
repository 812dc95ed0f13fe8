package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/testcert"
)

// waitForACLs waits, on n's applied metadata, until it holds count ACL
// bindings.
func waitForACLs(t *testing.T, n *Node, count int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		if len(n.controller.fsm.Metadata().ACLBindings()) == count {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("node %d holds %d ACLs, want %d", n.nodeID(), len(n.controller.fsm.Metadata().ACLBindings()), count)
		}
	}
}

// TestClusterACLs: in a cluster whose nodes reach each other with their
// certificates, which are super users, the ACLs are the cluster's: created
// through a node that is not the controller's leader (forwarded there),
// they decide a client's requests on every node, are described by any,
// and once deleted through another refuse it everywhere again; replication
// under them goes on as the nodes' own principals.
func TestClusterACLs(t *testing.T) {
	certs, key := testcert.New(t), []byte("0123456789abcdef")
	c := identityCluster(t, certs, key, func(_ int32, cfg *Config) {
		cfg.Listeners[1].Protocol = ProtocolSASLPlaintext // CLIENTS
		cfg.SASL = &SASLConfig{Plain: func(_, password string) bool { return password == "pw" }}
		cfg.ACL = &ACLConfig{SuperUsers: []string{"User:admin", "User:CN=node-1", "User:CN=node-2", "User:CN=node-3"}}
	})
	leader := controllerLeader(t, c.all(), 3)
	var followers []*testNode
	for _, n := range c.nodes {
		if n.Node != leader {
			followers = append(followers, n)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	as := func(n *testNode, user string) *kgo.Client {
		return securedClientAt(t, n.ListenerAddr("CLIENTS"), nil, plain.Auth{User: user, Pass: "pw"}.AsMechanism())
	}
	admin := kadm.NewClient(as(followers[0], "admin"))
	_, err := admin.CreateTopic(ctx, 1, 3, nil, "orders")
	require.NoError(t, err)
	produce := func(n *testNode) error {
		return as(n, "alice").ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	}
	require.ErrorIs(t, produce(c.node(1)), kerr.TopicAuthorizationFailed, "no ACL: denied")

	created, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("orders").
		Operations(kadm.OpWrite, kadm.OpDescribe).AllowHosts())
	require.NoError(t, err)
	for _, r := range created {
		require.NoError(t, r.Err, "created through node %d, forwarded to the controller's leader", followers[0].id)
	}
	for _, n := range c.nodes {
		waitForACLs(t, n.Node, 2)
		require.NoError(t, produce(n), "node %d lets alice write", n.id)
	}
	described, err := kadm.NewClient(as(c.node(2), "admin")).DescribeACLs(ctx, kadm.NewACLs().Allow("User:alice").
		AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).AllowHosts())
	require.NoError(t, err)
	assert.Len(t, described[0].Described, 2)
	for _, n := range c.nodes {
		waitForEnd(t, n.Node, "orders", 0, 3) // replicated under the ACLs, as the nodes' principals
	}

	deleted, err := kadm.NewClient(as(followers[1], "admin")).DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").
		AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).AllowHosts())
	require.NoError(t, err)
	require.NoError(t, deleted[0].Err)
	assert.Len(t, deleted[0].Deleted, 2, "the leader's matches, forwarded back")
	for _, n := range c.nodes {
		waitForACLs(t, n.Node, 0)
		require.ErrorIs(t, produce(n), kerr.TopicAuthorizationFailed, "node %d refuses alice again", n.id)
	}
}

// TestClusterACLsFailClosedUntilCaughtUp: a node that has not caught up
// with the cluster's metadata (a restarted one replaying it) decides by
// its super users alone, not by bindings a later commit may have changed,
// even with AllowIfNoACL; once caught up, by the committed bindings.
func TestClusterACLsFailClosedUntilCaughtUp(t *testing.T) {
	c := newTestCluster(t, 1, clusterOptions{})
	caughtUp := false
	acls := &clusterACLs{n: c.node(1).Node, caughtUp: func() bool { return caughtUp },
		empty: (&ACLConfig{SuperUsers: []string{"User:admin"}, AllowIfNoACL: true}).emptyAuthorizer()}
	read := func(principal string) bool {
		return acls.Authorized(kafka.Principal(principal), "127.0.0.1", acl.Read, acl.Topic, "orders")
	}
	assert.False(t, read("User:alice"), "not caught up: AllowIfNoACL does not apply")
	assert.True(t, read("User:admin"), "super users pass")
	caughtUp = true
	assert.True(t, read("User:alice"), "caught up: no binding names the topic")
}
