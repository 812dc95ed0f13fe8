package creek

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/creekmq/creek/internal/testcert"
)

// advertisedBrokers asks the listener at addr for Metadata and returns
// the address it gives each node, by node ID.
func advertisedBrokers(t *testing.T, addr net.Addr, client *kgo.Client) map[int32]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	seeds := client.SeedBrokers()
	require.Len(t, seeds, 1)
	resp, err := seeds[0].Request(ctx, kmsg.NewPtrMetadataRequest())
	require.NoError(t, err, "metadata from %s", addr)
	out := map[int32]string{}
	for _, b := range resp.(*kmsg.MetadataResponse).Brokers {
		out[b.NodeID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	}
	return out
}

// TestListenersServeEachItsProtocol: a node with a plaintext listener on
// loopback, for the application beside it, and a SASL_SSL one, for
// everyone else: each serves its protocol alone, and tells its clients
// the node's address on it, advertised or bound.
func TestListenersServeEachItsProtocol(t *testing.T) {
	certs := testcert.New(t)
	n := newTestNode(t, Config{Logger: discardLogger(), TLS: certs.Server,
		SASL: &SASLConfig{ScramUsers: map[string]string{"alice": "s3cret"}},
		Listeners: []Listener{
			{Name: "local", Addr: "127.0.0.1:0"},
			{Name: "CLIENTS", Addr: "127.0.0.1:0", Protocol: ProtocolSASLSSL},
			{Name: "OUTSIDE", Addr: "127.0.0.1:0", AdvertisedAddr: "broker.example:9093"},
		}})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	local, clients, outside := n.ListenerAddr("LOCAL"), n.ListenerAddr("clients"), n.ListenerAddr("OUTSIDE")
	require.NotNil(t, local)
	require.NotNil(t, clients)
	require.NotNil(t, outside)
	assert.Equal(t, local, n.Addr(), "Addr is the first listener's")
	assert.Nil(t, n.ListenerAddr("NONE"))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	plainClient := securedClientAt(t, local, nil, nil)
	require.NoError(t, roundTrip(ctx, plainClient), "plaintext on LOCAL")
	assert.Equal(t, map[int32]string{0: local.String()}, advertisedBrokers(t, local, plainClient))

	alice := scram.Auth{User: "alice", Pass: "s3cret"}.AsSha512Mechanism()
	saslClient := securedClientAt(t, clients, certs.Client, alice)
	require.NoError(t, roundTrip(ctx, saslClient), "SASL_SSL on CLIENTS")
	assert.Equal(t, map[int32]string{0: clients.String()}, advertisedBrokers(t, clients, saslClient))
	assert.Error(t, securedClientAt(t, clients, nil, nil).Ping(ctx), "CLIENTS: plaintext refused")
	assert.Error(t, securedClientAt(t, clients, certs.Client, nil).Ping(ctx), "CLIENTS: no SASL, served nothing")
	assert.Error(t, securedClientAt(t, local, certs.Client, alice).Ping(ctx), "LOCAL: no TLS handshake")

	assert.Equal(t, map[int32]string{0: "broker.example:9093"},
		advertisedBrokers(t, outside, securedClientAt(t, outside, nil, nil)))

	configs, err := kadm.NewClient(plainClient).DescribeBrokerConfigs(ctx, 0)
	require.NoError(t, err)
	described := map[string]string{}
	for _, c := range configs[0].Configs {
		if c.Value != nil {
			described[c.Key] = *c.Value
		}
	}
	assert.Equal(t, "LOCAL:PLAINTEXT,CLIENTS:SASL_SSL,OUTSIDE:PLAINTEXT", described["listener.security.protocol.map"])
	assert.Equal(t, "LOCAL://"+local.String()+",CLIENTS://"+clients.String()+",OUTSIDE://broker.example:9093",
		described["advertised.listeners"])
	assert.Equal(t, "LOCAL://"+local.String()+",CLIENTS://"+clients.String()+",OUTSIDE://"+outside.String(),
		described["listeners"])
}

// TestListenersConfigRefused: listeners that clash, miss what their
// protocol needs or leave a setting unused are refused at Open.
func TestListenersConfigRefused(t *testing.T) {
	serverTLS := testcert.New(t).Server
	sasl := &SASLConfig{ScramUsers: map[string]string{"alice": "pw"}}
	one := func(l Listener) []Listener {
		l.Addr = "127.0.0.1:0"
		return []Listener{l}
	}
	for name, cfg := range map[string]Config{
		"Listen and Listeners":          {Listen: "127.0.0.1:0", Listeners: one(Listener{})},
		"AdvertisedAddr without Listen": {AdvertisedAddr: "h:1", Listeners: one(Listener{})},
		"two of one name":               {Listeners: []Listener{{Name: "A", Addr: "127.0.0.1:0"}, {Name: "a", Addr: "127.0.0.1:0"}}},
		"two defaults":                  {Listeners: []Listener{{Addr: "127.0.0.1:0"}, {Addr: "127.0.0.1:0"}}},
		"a bad name":                    {Listeners: one(Listener{Name: "A B"})},
		"no address":                    {Listeners: []Listener{{Name: "A"}}},
		"unknown protocol":              {Listeners: one(Listener{Protocol: "SSH"})},
		"a bad advertised":              {Listeners: one(Listener{AdvertisedAddr: "nowhere"})},
		"SSL without TLS":               {Listeners: one(Listener{Protocol: ProtocolSSL})},
		"SSL without a certificate":     {Listeners: one(Listener{Protocol: ProtocolSSL, TLS: &tls.Config{}})},
		"SASL_PLAINTEXT without SASL":   {Listeners: one(Listener{Protocol: ProtocolSASLPlaintext})},
		"SASL unused":                   {SASL: sasl, Listeners: one(Listener{})},
		"TLS unused":                    {TLS: serverTLS, Listeners: one(Listener{})},
		"an unknown inter-broker listener": {Listeners: one(Listener{Name: "A"}),
			Cluster: &ClusterConfig{NodeID: 1, InterBrokerListener: "B"}},
		"an SSL inter-broker listener": {TLS: serverTLS, Listeners: []Listener{{Name: "A", Addr: "127.0.0.1:0"},
			{Name: "B", Addr: "127.0.0.1:0", Protocol: ProtocolSSL}}, Cluster: &ClusterConfig{NodeID: 1, InterBrokerListener: "b"}},
	} {
		cfg.Logger = discardLogger()
		_, err := Open(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

// TestClusterListeners: three nodes that reach each other on a plaintext
// INTERNAL listener and serve their clients TLS on CLIENTS: a client of
// either listener is told every node at its address on that listener,
// and records produced over TLS with acks=all reach every replica
// through INTERNAL.
func TestClusterListeners(t *testing.T) {
	certs := testcert.New(t)
	c := newTestCluster(t, 3, clusterOptions{config: func(_ int32, cfg *Config) {
		cfg.Listen, cfg.TLS = "", certs.Server
		cfg.Listeners = []Listener{{Name: "INTERNAL", Addr: "127.0.0.1:0"},
			{Name: "CLIENTS", Addr: "127.0.0.1:0", Protocol: ProtocolSSL}}
		cfg.Cluster.InterBrokerListener = "INTERNAL"
	}})
	internal, clients := map[int32]string{}, map[int32]string{}
	for _, n := range c.nodes {
		internal[n.id], clients[n.id] = n.ListenerAddr("INTERNAL").String(), n.ListenerAddr("CLIENTS").String()
		for _, m := range n.ClusterMembers() {
			if m.NodeID == n.id {
				assert.Equal(t, internal[n.id], m.KafkaAddr, "the others reach node %d on INTERNAL", n.id)
			}
		}
	}
	first := c.node(1).ListenerAddr("CLIENTS")
	client := securedClientAt(t, first, certs.Client, nil)
	assert.Equal(t, clients, advertisedBrokers(t, first, client))
	inside := c.node(2).ListenerAddr("INTERNAL")
	assert.Equal(t, internal, advertisedBrokers(t, inside, securedClientAt(t, inside, nil, nil)))

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := kadm.NewClient(client).CreateTopic(ctx, 1, 3, nil, "t")
	require.NoError(t, err)
	producer := securedClientAt(t, first, certs.Client, nil)
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr())
	for _, n := range c.nodes {
		waitForEnd(t, n.Node, "t", 0, 1)
	}
}
