package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/creekmq/creek/internal/testcert"
)

// TestClusterProcessesWithNodeIdentities: three `creek serve` processes
// that reach each other only over mTLS with their own certificates (an
// SSL inter-broker listener, Raft) and gossip with a key, and serve
// clients SASL_SSL with SCRAM-SHA-512 users seeded into the cluster's
// metadata: acks=all writes through franz-go survive a node's SIGKILL and
// restart, as over plaintext.
func TestClusterProcessesWithNodeIdentities(t *testing.T) {
	certs := testcert.New(t)
	dir := t.TempDir()
	caFile, keyFile, usersFile := certs.CAFile(t), filepath.Join(dir, "gossip.key"), filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(keyFile, []byte("MDEyMzQ1Njc4OWFiY2RlZg==\n"), 0o600))
	require.NoError(t, os.WriteFile(usersFile, []byte("admin:root-pw\n"), 0o600))
	nodes := startProcessCluster(t, func(id int) ([]string, []string) {
		cert, key := testcert.WriteFiles(t, t.TempDir(), certs.NodeCert(t, "node-"+string(rune('0'+id))))
		return []string{"INTERNAL://127.0.0.1:0", "CLIENTS://127.0.0.1:0"}, []string{
			"--listener-protocols", "INTERNAL:SSL,CLIENTS:SASL_SSL", "--inter-broker-listener", "INTERNAL",
			"--tls-cert", cert, "--tls-key", key, "--node-cert", cert, "--node-key", key, "--node-ca", caFile,
			"--gossip-key-file", keyFile, "--sasl-users", usersFile}
	})
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.listenerAddr("CLIENTS"))
	}
	checkAckedSurviveSIGKILL(t, nodes, seeds, kgo.DialTLSConfig(certs.Client),
		kgo.SASL(scram.Auth{User: "admin", Pass: "root-pw"}.AsSha512Mechanism()))
}
