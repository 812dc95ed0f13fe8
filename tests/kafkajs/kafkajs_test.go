// Package kafkajs runs kafkajs, a stock Kafka client for Node.js, against
// a creek node over loopback. CI runs npm ci here first (.ci/run); elsewhere
// the test skips when node_modules is missing, and fails when CI is set.
package kafkajs

import (
	"context"
	"crypto/x509/pkix"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/testcert"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestKafkaJS: admin, an idempotent producer, a group of two consumers and
// a resume after their commit (check.js).
func TestKafkaJS(t *testing.T) { runScript(t, "check.js", "kafkajs: all checks passed") }

// TestKafkaJSTransactions: a committed, an aborted and a
// consume-transform-produce transaction, read back read_committed and
// read_uncommitted, and the group offsets sent in the transaction (txn.js).
func TestKafkaJSTransactions(t *testing.T) {
	runScript(t, "txn.js", "kafkajs transactions: all checks passed")
}

// TestKafkaJSSASLSSL: kafkajs over TLS, with a CA the test made, and
// SCRAM-SHA-512 produces and consumes; a wrong password is refused
// (sasl.js).
func TestKafkaJSSASLSSL(t *testing.T) {
	certs := testcert.New(t)
	cfg := creek.Config{TLS: certs.Server, SASL: &creek.SASLConfig{ScramUsers: map[string]string{"alice": "s3cret"}}}
	runScriptOn(t, cfg, "sasl.js", "kafkajs SASL_SSL: all checks passed",
		"CA_FILE="+certs.CAFile(t), "USER_NAME=alice", "PASSWORD=s3cret")
}

// TestKafkaJSMutualTLSAndACLs: kafkajs clients with certificates the
// test made (mTLS) are their certificates' principals: the node's ACLs
// refuse one a topic until the administrator, a super user, allows it
// with CreateAcls; then it produces and consumes in a group (mtls.js).
func TestKafkaJSMutualTLSAndACLs(t *testing.T) {
	certs := testcert.New(t)
	cfg := creek.Config{TLS: certs.MutualServer(), ACL: &creek.ACLConfig{SuperUsers: []string{"User:CN=admin"}}}
	aliceCert, aliceKey := testcert.WriteFiles(t, t.TempDir(), certs.ClientCert(t, pkix.Name{CommonName: "alice"}))
	adminCert, adminKey := testcert.WriteFiles(t, t.TempDir(), certs.ClientCert(t, pkix.Name{CommonName: "admin"}))
	runScriptOn(t, cfg, "mtls.js", "kafkajs mTLS and ACLs: all checks passed", "CA_FILE="+certs.CAFile(t),
		"ALICE_CERT="+aliceCert, "ALICE_KEY="+aliceKey, "ADMIN_CERT="+adminCert, "ADMIN_KEY="+adminKey)
}

// runScript runs script with Node against a fresh node and checks that it
// exits zero having printed want.
func runScript(t *testing.T, script, want string) { runScriptOn(t, creek.Config{}, script, want) }

// runScriptOn is runScript against a node of cfg (on disk, listening on
// loopback), with env added to the script's environment.
func runScriptOn(t *testing.T, cfg creek.Config, script, want string, env ...string) {
	t.Helper()
	if _, err := os.Stat("node_modules/kafkajs"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kafkajs is not installed; .ci/run runs npm ci in tests/kafkajs")
		}
		t.Skip("kafkajs is not installed (npm ci in tests/kafkajs)")
	}
	cfg.Dir, cfg.Listen, cfg.Logger = t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler)
	n, err := creek.Open(cfg)
	require.NoError(t, err)
	defer func() { assert.NoError(t, n.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(append(os.Environ(), "BROKER="+n.Addr().String()), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), want)
}
