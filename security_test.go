package creek

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/creekmq/creek/internal/testcert"
)

// securedClient connects a franz-go client to n's listener over TLS with
// tlsConfig and authenticated with mechanism, either nil for none, which
// tries each request once, within a second; the test's end closes it.
func securedClient(t *testing.T, n *Node, tlsConfig *tls.Config, mechanism kgosasl.Mechanism) *kgo.Client {
	t.Helper()
	return securedClientAt(t, n.Addr(), tlsConfig, mechanism)
}

// securedClientAt is securedClient for the listener at addr.
func securedClientAt(t *testing.T, addr net.Addr, tlsConfig *tls.Config, mechanism kgosasl.Mechanism) *kgo.Client {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(addr.String()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RequestRetries(0), kgo.RetryTimeout(time.Second)}
	if tlsConfig != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsConfig))
	}
	if mechanism != nil {
		opts = append(opts, kgo.SASL(mechanism))
	}
	client, err := kgo.NewClient(opts...)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	return client
}

// roundTrip produces a record to topic "t" through client and reads it
// back, and returns the first error.
func roundTrip(ctx context.Context, client *kgo.Client) error {
	if err := client.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		return err
	}
	client.AddConsumeTopics("t")
	fetches := client.PollRecords(ctx, 1)
	if err := fetches.Err0(); err != nil {
		return err
	}
	if fetches.NumRecords() != 1 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestSASLOverTLS: stock clients authenticate with SCRAM-SHA-256,
// SCRAM-SHA-512 or PLAIN, over TLS (Kafka's SASL_SSL), and then produce
// and consume; a wrong password gets SASL_AUTHENTICATION_FAILED, and a
// client that does not authenticate is served nothing.
func TestSASLOverTLS(t *testing.T) {
	certs := testcert.New(t)
	serverTLS, clientTLS := certs.Server, certs.Client
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", TLS: serverTLS, Logger: discardLogger(), SASL: &SASLConfig{
		ScramUsers: map[string]string{"alice": "s3cret"},
		Plain:      func(user, password string) bool { return user == "bob" && password == "hunter2" },
	}})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	for name, mechanism := range map[string]kgosasl.Mechanism{
		"SCRAM-SHA-256": scram.Auth{User: "alice", Pass: "s3cret"}.AsSha256Mechanism(),
		"SCRAM-SHA-512": scram.Auth{User: "alice", Pass: "s3cret"}.AsSha512Mechanism(),
		"PLAIN":         plain.Auth{User: "bob", Pass: "hunter2"}.AsMechanism(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, roundTrip(ctx, securedClient(t, n, clientTLS, mechanism)))
		})
	}

	t.Run("refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for name, mechanism := range map[string]kgosasl.Mechanism{
			"a wrong SCRAM password": scram.Auth{User: "alice", Pass: "s3cre7"}.AsSha512Mechanism(),
			"an unknown SCRAM user":  scram.Auth{User: "bob", Pass: "hunter2"}.AsSha256Mechanism(),
			"a wrong PLAIN password": plain.Auth{User: "bob", Pass: "hunter3"}.AsMechanism(),
		} {
			err := securedClient(t, n, clientTLS, mechanism).Ping(ctx)
			require.ErrorIs(t, err, kerr.SaslAuthenticationFailed, name)
		}
		assert.Error(t, securedClient(t, n, clientTLS, nil).Ping(ctx), "no SASL: the connection closes")
		assert.Error(t, securedClient(t, n, nil, plain.Auth{User: "bob", Pass: "hunter2"}.AsMechanism()).Ping(ctx),
			"no TLS: no handshake")
	})
}

// TestSecurityConfigRefused: SASL with an empty user, TLS without a
// certificate, either without a listener, TLS between the nodes of a
// cluster and SASL in one (not yet supported) are refused at Open.
func TestSecurityConfigRefused(t *testing.T) {
	serverTLS := testcert.New(t).Server
	for name, cfg := range map[string]Config{
		"an empty user":                {Listen: "127.0.0.1:0", SASL: &SASLConfig{ScramUsers: map[string]string{"": "pw"}}},
		"no certificate":               {Listen: "127.0.0.1:0", TLS: &tls.Config{}},
		"no listener":                  {TLS: serverTLS},
		"an SSL inter-broker listener": {Listen: "127.0.0.1:0", TLS: serverTLS, Cluster: &ClusterConfig{NodeID: 1}},
		"a SASL inter-broker listener": {Listen: "127.0.0.1:0", SASL: &SASLConfig{}, Cluster: &ClusterConfig{NodeID: 1}},
		"negative session":             {Listen: "127.0.0.1:0", SASL: &SASLConfig{Plain: func(string, string) bool { return true }, SessionLifetime: -1}},
	} {
		cfg.Logger = discardLogger()
		_, err := Open(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

// TestMutualTLS: with client certificates required (mTLS), a client with
// one the CA signed produces and consumes; one without is refused in the
// handshake.
func TestMutualTLS(t *testing.T) {
	certs := testcert.New(t)
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", TLS: certs.MutualServer(), Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	connect := func(tlsConfig *tls.Config) *kgo.Client { return securedClient(t, n, tlsConfig, nil) }
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cert := certs.ClientCert(t, pkix.Name{CommonName: "alice"})
	require.NoError(t, roundTrip(ctx, connect(certs.ClientWith(cert))))
	assert.Error(t, connect(certs.Client).Ping(ctx), "no client certificate")
}

// TestOAuthBearer: a client with a token the application's validator
// takes (UnsecuredJWT here) produces and consumes; an expired one gets
// SASL_AUTHENTICATION_FAILED saying invalid_token (RFC 7628).
func TestOAuthBearer(t *testing.T) {
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), SASL: &SASLConfig{OAuthBearer: UnsecuredJWT}})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	connect := func(exp time.Time) *kgo.Client {
		enc := base64.RawURLEncoding.EncodeToString
		token := enc([]byte(`{"alg":"none"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"svc","exp":%d}`, exp.Unix())) + "."
		return securedClient(t, n, nil, oauth.Auth{Token: token}.AsMechanism())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, roundTrip(ctx, connect(time.Now().Add(time.Hour))))
	err := connect(time.Now().Add(-time.Minute)).Ping(ctx)
	require.ErrorIs(t, err, kerr.SaslAuthenticationFailed)
	assert.Contains(t, err.Error(), "invalid_token")
}
