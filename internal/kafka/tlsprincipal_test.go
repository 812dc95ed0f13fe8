package kafka

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/testcert"
)

// TestTLSClientCertificatePrincipal: a connection with a verified client
// certificate is the principal its subject names, as Kafka's default
// principal builder names it; one without is Anonymous; a SASL
// authentication replaces either.
func TestTLSClientCertificatePrincipal(t *testing.T) {
	certs := testcert.New(t)
	s := &Server{cfg: Config{RequestReadTimeout: 10e9}}
	s.ctx = t.Context()
	principal := func(server, client *tls.Config) Principal {
		t.Helper()
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		done := make(chan error, 1)
		go func() { done <- tls.Client(b, client).Handshake() }()
		st, err := s.tlsHandshake(tls.Server(a, server), false)
		require.NoError(t, err)
		require.NoError(t, <-done)
		return st.principalOf()
	}
	cert := certs.ClientCert(t, pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}})
	client := certs.Client.Clone()
	client.ServerName = "localhost"
	mutual := certs.ClientWith(cert)
	mutual.ServerName = "localhost"
	assert.Equal(t, Principal("User:CN=alice,OU=eng"), principal(certs.MutualServer(), mutual))
	assert.Equal(t, Anonymous, principal(certs.Server, client), "no client certificate")

	st := saslState{certificate: "User:CN=alice"}
	st.principal = "User:bob"
	assert.Equal(t, Principal("User:bob"), st.principalOf(), "SASL's user, once authenticated")
	var plain saslState
	assert.Equal(t, Anonymous, plain.principalOf())
}
