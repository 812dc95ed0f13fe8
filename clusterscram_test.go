package creek

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// waitForScramUser waits, on n's applied metadata, until user has (or no
// longer has, when present is false) SCRAM credentials there.
func waitForScramUser(t *testing.T, n *Node, user string, present bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		if _, ok := n.controller.fsm.Metadata().Credentials()[user]; ok == present {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("node %d: %s has SCRAM credentials: %v, want %v", n.nodeID(), user, !present, present)
		}
	}
}

// TestClusterScramUsers: in a cluster SCRAM users are the cluster's. The
// controller's leader seeds them from SASLConfig.ScramUsers, and the
// first authentications wait for the seed; a user added
// or removed through any node — over Kafka on a node that is not the
// controller's leader, which forwards it, or in process — authenticates,
// or no longer does, on every node's SASL listener; refusals keep Kafka's
// codes on the way back.
func TestClusterScramUsers(t *testing.T) {
	c := newTestCluster(t, 3, clusterOptions{config: func(_ int32, cfg *Config) {
		cfg.Listen = ""
		cfg.SASL = &SASLConfig{ScramUsers: map[string]string{"admin": "root-pw"}}
		cfg.Listeners = []Listener{{Name: "INTERNAL", Addr: "127.0.0.1:0"},
			{Name: "CLIENTS", Addr: "127.0.0.1:0", Protocol: ProtocolSASLPlaintext}}
	}})
	leader := controllerLeader(t, c.all(), 3)
	var follower *testNode
	for _, n := range c.nodes {
		if n.Node != leader {
			follower = n
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	authenticates := func(n *Node, user, password string) error {
		return securedClientAt(t, n.ListenerAddr("CLIENTS"), nil,
			scram.Auth{User: user, Pass: password}.AsSha512Mechanism()).Ping(ctx)
	}
	for _, n := range c.nodes { // at once: an authentication waits for the seed
		require.NoError(t, authenticates(n.Node, "admin", "root-pw"), "node %d: the seeded admin", n.id)
	}

	admin := kadm.NewClient(securedClientAt(t, follower.ListenerAddr("CLIENTS"), nil,
		scram.Auth{User: "admin", Pass: "root-pw"}.AsSha512Mechanism()))
	altered, err := admin.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "c-pw"}})
	require.NoError(t, err)
	require.NoError(t, altered.Error(), "forwarded to the controller's leader")
	for _, n := range c.nodes {
		waitForScramUser(t, n.Node, "carol", true)
		require.NoError(t, authenticates(n.Node, "carol", "c-pw"), "node %d: carol", n.id)
	}
	described, err := admin.DescribeUserSCRAMs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []kadm.CredInfo{{Mechanism: kadm.ScramSha512, Iterations: 4096}}, described["carol"].CredInfos)

	altered, err = admin.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "dave", Mechanism: kadm.ScramSha256}}, nil)
	require.NoError(t, err)
	require.ErrorIs(t, altered["dave"].Err, kerr.ResourceNotFound, "the leader's refusal, forwarded back")

	require.NoError(t, follower.DeleteScramUser(ctx, "carol"))
	require.NoError(t, leader.SetScramPassword(ctx, "erin", "e-pw"))
	for _, n := range c.nodes {
		waitForScramUser(t, n.Node, "carol", false)
		waitForScramUser(t, n.Node, "erin", true)
		require.ErrorIs(t, authenticates(n.Node, "carol", "c-pw"), kerr.SaslAuthenticationFailed, "node %d: carol gone", n.id)
		require.NoError(t, authenticates(n.Node, "erin", "e-pw"), "node %d: erin", n.id)
	}
}
