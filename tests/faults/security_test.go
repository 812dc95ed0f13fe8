package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSecurityNodeCertificates: each node's certificate the run makes is
// signed by its CA for the node's host, 127.0.0.1 and localhost, both to
// serve and to connect with, and goes with its PKCS#8 key.
func TestSecurityNodeCertificates(t *testing.T) {
	sec, err := NewSecurity(t.TempDir(), 3)
	require.NoError(t, err)
	caPEM, err := os.ReadFile(sec.CAFile)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM), "the CA file holds a PEM certificate")
	for id := 1; id <= 3; id++ {
		pair, err := tls.LoadX509KeyPair(sec.NodeCertFile(id), sec.NodeKeyFile(id))
		require.NoError(t, err, "node %d's certificate and key", id)
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("node-%d", id), cert.Subject.CommonName)
		for _, name := range []string{nodeHost(id), "127.0.0.1", "localhost"} {
			for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
				require.NoError(t, err, "node %d for %s, usage %v", id, name, usage)
			}
		}
		_, err = cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: nodeHost(id%3 + 1)})
		require.Error(t, err, "node %d's certificate is not another node's host's", id)
	}
	block, _ := pem.Decode(caPEM)
	require.NotNil(t, block)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.True(t, ca.IsCA)
	require.Equal(t, x509.ECDSA, ca.PublicKeyAlgorithm)
}

// TestSecurityFiles: the gossip key is 16 bytes in base64 and the users
// file names the harness's SCRAM user; a nil Security gives clients no
// options.
func TestSecurityFiles(t *testing.T) {
	sec, err := MakeSecurity(SecurityMTLS, t.TempDir(), 3)
	require.NoError(t, err)
	text, err := os.ReadFile(sec.GossipKeyFile)
	require.NoError(t, err)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	require.NoError(t, err)
	require.Len(t, key, 16)
	users, err := os.ReadFile(sec.UsersFile)
	require.NoError(t, err)
	require.Equal(t, "faults:faults-pw\n", string(users))
	require.Len(t, sec.ClientOpts(), 2)
	require.Contains(t, strings.Join(sec.ServeArgs(2), " "), "--node-cert "+sec.NodeCertFile(2))

	none, err := MakeSecurity(SecurityNone, t.TempDir(), 3)
	require.NoError(t, err)
	require.Nil(t, none)
	require.Empty(t, none.ClientOpts())
	require.Len(t, ClientConfig{Brokers: []string{"127.0.0.11:9092"}}.Opts(), 1)
}

// TestParseSecurity: -security takes none (the default) and mtls, and
// nothing else.
func TestParseSecurity(t *testing.T) {
	now := time.Unix(0, 42)
	o, err := ParseOptions(nil, now)
	require.NoError(t, err)
	require.Equal(t, SecurityNone, o.Security)
	o, err = ParseOptions([]string{"-security", "mtls"}, now)
	require.NoError(t, err)
	require.Equal(t, SecurityMTLS, o.Security)
	_, err = ParseOptions([]string{"-security", "tls"}, now)
	require.ErrorContains(t, err, `-security "tls"`)
}
