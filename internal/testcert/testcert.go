// Package testcert makes TLS certificates for tests: a CA of its own and
// a server certificate it signs for 127.0.0.1 and localhost, so that
// tests of TLS listeners need no files from outside (issue 17). Only
// tests import it.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs are a test's CA and the server certificate it signed.
type Certs struct {
	// Server is a TLS server configuration with the certificate.
	Server *tls.Config
	// Client is a TLS client configuration that trusts the CA.
	Client *tls.Config
	// CAPEM is the CA's certificate, PEM-encoded, for clients that read
	// it from a file.
	CAPEM []byte
	// CAs is a pool of the CA's certificate, for servers that verify
	// clients' (ClientCAs).
	CAs *x509.CertPool

	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
}

// New makes a CA and a server certificate valid for an hour.
func New(t testing.TB) Certs {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(t, err)
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "creek test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	check(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	check(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "creek"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	check(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return Certs{
		Server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}},
		Client: &tls.Config{RootCAs: pool},
		CAPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CAs:    pool, caKey: caKey, caCert: caCert,
	}
}

// ClientCert makes a client certificate the CA signs, for subject.
func (c Certs) ClientCert(t testing.TB, subject pkix.Name) tls.Certificate {
	t.Helper()
	return c.sign(t, &x509.Certificate{Subject: subject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// NodeCert makes a certificate the CA signs for a cluster node named
// name (CN=name): for 127.0.0.1 and localhost, to serve and to connect
// with, as a node's identity is used both ways.
func (c Certs) NodeCert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	return c.sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: name},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
}

// sign makes a key and a certificate of it the CA signs from tmpl, valid
// for an hour.
func (c Certs) sign(t testing.TB, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(t, err)
	now := time.Now()
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(now.UnixNano()), now.Add(-time.Hour), now.Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.caCert, &key.PublicKey, c.caKey)
	check(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// MutualServer returns Server, requiring and verifying client
// certificates the CA signed (mTLS).
func (c Certs) MutualServer() *tls.Config {
	cfg := c.Server.Clone()
	cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, c.CAs
	return cfg
}

// ClientWith returns Client, presenting cert.
func (c Certs) ClientWith(cert tls.Certificate) *tls.Config {
	cfg := c.Client.Clone()
	cfg.Certificates = []tls.Certificate{cert}
	return cfg
}

// ServerFiles writes the server certificate and its key as PEM files of
// the test's, for a server that reads them (creek serve --tls-cert,
// --tls-key), and returns their paths.
func (c Certs) ServerFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	return WriteFiles(t, t.TempDir(), c.Server.Certificates[0])
}

// WriteFiles writes cert's certificate and key as cert.pem and key.pem in
// dir, replacing what is there, and returns their paths.
func WriteFiles(t testing.TB, dir string, cert tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	check(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	check(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600))
	check(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600))
	return certFile, keyFile
}

// CAFile writes the CA's certificate to a file of the test's and returns
// its path.
func (c Certs) CAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	check(t, os.WriteFile(path, c.CAPEM, 0o600))
	return path
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
