package creek

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/membership"
	"github.com/creekmq/creek/internal/testcert"
)

// identityCluster opens three nodes that reach each other only over TLS
// with certificates of certs' CA: an SSL inter-broker listener, which
// requires one of every client, and Raft; their clients use a plaintext
// listener. more, if set, adjusts each node's Config after.
func identityCluster(t *testing.T, certs testcert.Certs, key []byte, more func(id int32, cfg *Config)) *testCluster {
	t.Helper()
	return newTestCluster(t, 3, clusterOptions{config: func(id int32, cfg *Config) {
		cert := certs.NodeCert(t, "node-"+string(rune('0'+id)))
		cfg.Listen = ""
		cfg.Listeners = []Listener{{Name: "INTERNAL", Addr: "127.0.0.1:0", Protocol: ProtocolSSL,
			TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, // client certificates required of it all the same
			{Name: "CLIENTS", Addr: "127.0.0.1:0"}}
		cfg.Cluster.InterBrokerListener = "INTERNAL"
		cfg.Cluster.TLS = certs.ClientWith(cert)
		cfg.Cluster.EncryptionKey = key
		if more != nil {
			more(id, cfg)
		}
	}})
}

// TestClusterNodeIdentities: nodes that reach each other only with their
// certificates elect a controller, create a replicated topic and
// replicate acks=all records to every replica; a node whose certificate
// another CA signed is refused by the inter-broker listener and by Raft,
// and one without the gossip key cannot join; node 1 logs each refusal.
func TestClusterNodeIdentities(t *testing.T) {
	certs, key := testcert.New(t), []byte("0123456789abcdef")
	var logs lines // node 1's
	c := identityCluster(t, certs, key, func(id int32, cfg *Config) {
		if id == 1 {
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := securedClientAt(t, c.node(1).ListenerAddr("CLIENTS"), nil, nil)
	_, err := kadm.NewClient(client).CreateTopic(ctx, 1, 3, nil, "t")
	require.NoError(t, err)
	require.NoError(t, client.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr())
	for _, n := range c.nodes {
		waitForEnd(t, n.Node, "t", 0, 1)
	}

	// A rogue trusts the cluster's CA but presents a certificate another
	// CA signed.
	other := testcert.New(t)
	rogueTLS := other.ClientWith(other.NodeCert(t, "rogue"))
	rogueTLS.RootCAs = certs.CAs
	rogue := tlsDialer(c.node(1).cfg.Cluster.Dialer.DialContext, rogueTLS)
	_, err = kafka.DialVia(ctx, rogue, c.node(1).ListenerAddr("INTERNAL").String(), "rogue")
	assert.Error(t, err, "the inter-broker listener refuses another CA's certificate")
	conn, err := rogue(ctx, "tcp", c.node(1).controller.raftAddr())
	if err == nil { // TLS 1.3: the server refuses the client's certificate after the client's handshake ends
		conn.Write([]byte{0})
		_, err = io.ReadAll(conn)
		conn.Close()
	}
	assert.Error(t, err, "Raft refuses another CA's certificate")

	// A node verifies the certificate of the one it dials.
	server := other.MutualServer()
	server.Certificates = rogueTLS.Certificates
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		if nc, err := ln.Accept(); err == nil {
			nc.(*tls.Conn).Handshake()
			nc.Close()
		}
	}()
	_, err = c.node(1).nodeDialer()(ctx, "tcp", ln.Addr().String())
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown, "a node verifies the certificate of the one it dials")

	_, err = Open(Config{Listen: "127.0.0.1:0", Logger: discardLogger(), Cluster: &ClusterConfig{NodeID: 4,
		GossipAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", Seeds: []string{c.node(1).GossipAddr()}, LocalNetwork: true,
		EncryptionKey: []byte("fedcba9876543210")}})
	assert.Error(t, err, "a node with another gossip key cannot join")

	// Each refusal is in node 1's log, with why (logged by the goroutine
	// that refused, maybe after the refused one has seen it).
	assert.True(t, logs.waitFor(ctx, `during="TLS handshake" err="tls: failed to verify certificate`), "the inter-broker listener's")
	assert.True(t, logs.waitFor(ctx, `module=raft-net error="tls: failed to verify certificate`), "Raft's")
	assert.True(t, logs.waitFor(ctx, `no installed keys could decrypt the message`), "gossip's")
}

// TestNodeIdentityConfigRefused: a node identity without what it needs,
// or beside an inter-broker listener it cannot be used on, is refused at
// Open.
func TestNodeIdentityConfigRefused(t *testing.T) {
	certs := testcert.New(t)
	identity := certs.ClientWith(certs.NodeCert(t, "node-1"))
	key := []byte("0123456789abcdef")
	ssl := []Listener{{Name: "INTERNAL", Addr: "127.0.0.1:0", Protocol: ProtocolSSL, TLS: certs.MutualServer()}}
	for name, cfg := range map[string]Config{
		"an SSL inter-broker listener without an identity": {Listeners: ssl, Cluster: &ClusterConfig{NodeID: 1}},
		"an identity on a PLAINTEXT inter-broker listener": {Listen: "127.0.0.1:0",
			Cluster: &ClusterConfig{NodeID: 1, TLS: identity, EncryptionKey: key}},
		"an identity without a certificate": {Listeners: ssl,
			Cluster: &ClusterConfig{NodeID: 1, TLS: certs.Client, EncryptionKey: key}},
		"an identity without CAs": {Listeners: ssl,
			Cluster: &ClusterConfig{NodeID: 1, TLS: &tls.Config{Certificates: identity.Certificates}, EncryptionKey: key}},
		"an identity without a gossip key": {Listeners: ssl, Cluster: &ClusterConfig{NodeID: 1, TLS: identity}},
	} {
		cfg.Logger = discardLogger()
		_, err := Open(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

// TestGossipKeyWithoutCertificateMakesNoNode: a node that has the gossip
// key but a certificate another CA signed joins the gossip, but the
// others never count it a member — not admitted to the controller, not
// listed to clients, placed no replicas — and log why.
func TestGossipKeyWithoutCertificateMakesNoNode(t *testing.T) {
	certs, key := testcert.New(t), []byte("0123456789abcdef")
	var logs lines // node 1's
	c := identityCluster(t, certs, key, func(id int32, cfg *Config) {
		if id == 1 {
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		}
	})
	n1 := c.node(1).Node
	other := testcert.New(t)
	rogueCert := other.NodeCert(t, "rogue")
	rogue, err := Open(Config{Logger: discardLogger(), Listeners: []Listener{
		{Name: "INTERNAL", Addr: "127.0.0.1:0", Protocol: ProtocolSSL, TLS: &tls.Config{Certificates: []tls.Certificate{rogueCert}}},
		{Name: "CLIENTS", Addr: "127.0.0.1:0"}},
		Cluster: &ClusterConfig{NodeID: 4, GossipAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", Seeds: []string{n1.GossipAddr()},
			LocalNetwork: true, EncryptionKey: key, InterBrokerListener: "INTERNAL", TLS: other.ClientWith(rogueCert)}})
	require.NoError(t, err, "the gossip key lets it join the gossip")
	defer rogue.Close()

	deadline := time.After(30 * time.Second)
	gossiped := func() bool {
		return slices.ContainsFunc(n1.members.Members(), func(m membership.Member) bool { return m.NodeID == 4 })
	}
	for !gossiped() {
		select {
		case <-n1.members.Changed():
		case <-deadline:
			t.Fatal("node 1 never gossiped with the rogue")
		}
	}
	for range 2 { // the second pass began after node 1 gossiped with it, and tried it
		select {
		case <-n1.identities.Changed():
		case <-deadline:
			t.Fatal("node 1 did not try the rogue's identity")
		}
	}
	for _, m := range n1.ClusterMembers() {
		assert.NotEqual(t, int32(4), m.NodeID, "not a member")
	}
	assert.NotContains(t, n1.controller.raftServers(), int32(4), "not admitted to the controller")
	assert.NotZero(t, logs.count(`msg="cluster member not verified as a node`))
	for _, b := range (kafkaBroker{n1}).Brokers("CLIENTS") {
		assert.NotEqual(t, int32(4), b.NodeID, "not listed to clients")
	}
}
