// security.go owns -security mtls: the material a run makes once in its
// directory (a CA, each node's certificate and key, a gossip key, a SCRAM
// users file), the `creek serve` flags that make a node use it, and the
// TLS and SASL options every franz-go client of the harness is made with
// (ClientConfig).

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security modes, as -security names them.
const (
	SecurityNone = "none" // plaintext between nodes and to clients
	SecurityMTLS = "mtls" // nodes over mTLS with their own certificates, clients SASL_SSL with SCRAM-SHA-512
)

// SecurityModes is every value -security takes.
var SecurityModes = []string{SecurityNone, SecurityMTLS}

// The SCRAM user the harness's clients authenticate as, seeded into the
// cluster from the users file.
const (
	scramUser     = "faults"
	scramPassword = "faults-pw"
)

// The listeners of a node under -security mtls: the one the nodes reach
// each other on (SSL, a node's certificate required) and the clients'.
const (
	listenerInternal = "INTERNAL"
	listenerClients  = "CLIENTS"
)

// certValidity is how long the run's certificates are valid, from an hour
// before they are made: longer than any run.
const certValidity = 30 * 24 * time.Hour

// Security is a run's -security mtls material, in files of its directory.
// A nil *Security is -security none: the nodes serve plaintext and the
// clients connect without TLS or SASL.
type Security struct {
	Dir           string // where the files are
	CAFile        string // the CA's certificate, PEM
	GossipKeyFile string // 16 random bytes in base64
	UsersFile     string // the SCRAM user's "user:password" line

	roots *x509.CertPool // the CA, for the clients
}

// MakeSecurity makes what mode asks for, for nodes 1..nodes, in dir: nil
// for SecurityNone.
func MakeSecurity(mode, dir string, nodes int) (*Security, error) {
	if mode != SecurityMTLS {
		return nil, nil
	}
	return NewSecurity(dir, nodes)
}

// NewSecurity makes, in dir, a CA (ECDSA P-256), a certificate it signs
// for each of nodes 1..nodes with its key, a gossip key and the users
// file.
func NewSecurity(dir string, nodes int) (*Security, error) {
	s := &Security{Dir: dir, CAFile: filepath.Join(dir, "ca.pem"),
		GossipKeyFile: filepath.Join(dir, "gossip.key"), UsersFile: filepath.Join(dir, "sasl-users")}
	ca, caKey, err := newCA()
	if err != nil {
		return nil, err
	}
	s.roots = x509.NewCertPool()
	s.roots.AddCert(ca)
	if err := writePEM(s.CAFile, "CERTIFICATE", ca.Raw); err != nil {
		return nil, err
	}
	for id := 1; id <= nodes; id++ {
		if err := s.writeNodeCert(id, ca, caKey); err != nil {
			return nil, fmt.Errorf("node %d's certificate: %w", id, err)
		}
	}
	if err := writeGossipKey(s.GossipKeyFile); err != nil {
		return nil, err
	}
	return s, os.WriteFile(s.UsersFile, []byte(scramUser+":"+scramPassword+"\n"), 0o600)
}

// NodeCertFile is node id's certificate, PEM.
func (s *Security) NodeCertFile(id int) string {
	return filepath.Join(s.Dir, fmt.Sprintf("node-%d-cert.pem", id))
}

// NodeKeyFile is node id's private key, PKCS#8 PEM.
func (s *Security) NodeKeyFile(id int) string {
	return filepath.Join(s.Dir, fmt.Sprintf("node-%d-key.pem", id))
}

// ServeArgs are node id's `creek serve` flags besides --listeners: the
// listeners' protocols, the inter-broker one, its certificate for clients
// and as its identity to the other nodes, the CA, the gossip key and the
// users.
func (s *Security) ServeArgs(id int) []string {
	cert, key := s.NodeCertFile(id), s.NodeKeyFile(id)
	return []string{
		"--listener-protocols", listenerInternal + ":SSL," + listenerClients + ":SASL_SSL",
		"--inter-broker-listener", listenerInternal,
		"--tls-cert", cert, "--tls-key", key,
		"--node-cert", cert, "--node-key", key, "--node-ca", s.CAFile,
		"--gossip-key-file", s.GossipKeyFile, "--sasl-users", s.UsersFile,
	}
}

// ClientOpts are the options that make a client reach the CLIENTS
// listeners: TLS trusting the CA and SCRAM-SHA-512 as the harness's user;
// none for a nil s.
func (s *Security) ClientOpts() []kgo.Opt {
	if s == nil {
		return nil
	}
	return []kgo.Opt{
		kgo.DialTLSConfig(&tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: scramUser, Pass: scramPassword}.AsSha512Mechanism()),
	}
}

// ClientConfig is what every franz-go client of the harness is made with:
// the seed brokers and the run's security (nil: none).
type ClientConfig struct {
	Brokers  []string
	Security *Security
}

// Opts returns a client's options: the seed brokers, the security's, then
// more.
func (cc ClientConfig) Opts(more ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(cc.Brokers...)}, cc.Security.ClientOpts()...)
	return append(opts, more...)
}

// newCA makes a self-signed CA certificate and its key.
func newCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := certTemplate(pkix.Name{CommonName: "creek faults harness CA"})
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// writeNodeCert makes node id's key and a certificate of it the CA signs
// (CN=node-<id>; for the node's host, 127.0.0.1 and localhost; to serve
// and to connect with, as a node's identity is used both ways) and writes
// both.
func (s *Security) writeNodeCert(id int, ca *x509.Certificate, caKey *ecdsa.PrivateKey) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := certTemplate(pkix.Name{CommonName: fmt.Sprintf("node-%d", id)})
	tmpl.IPAddresses = []net.IP{net.ParseIP(nodeHost(id)), net.IPv4(127, 0, 0, 1)}
	tmpl.DNSNames = []string{"localhost"}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(s.NodeCertFile(id), "CERTIFICATE", der); err != nil {
		return err
	}
	return writePEM(s.NodeKeyFile(id), "PRIVATE KEY", pkcs8)
}

// certTemplate is a certificate for subject with a random serial number,
// valid from an hour ago for certValidity.
func certTemplate(subject pkix.Name) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	now := time.Now()
	return &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certValidity)}
}

// writePEM writes der as one PEM block of type typ, readable only by its
// owner.
func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// writeGossipKey writes 16 random bytes in base64, a gossip encryption
// key.
func writeGossipKey(path string) error {
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
}
