package kcat

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/testcert"
)

// TestSASLSSL: kcat (librdkafka) connects over SASL_SSL, TLS with a
// certificate the test made and SCRAM-SHA-512, then produces and consumes;
// a wrong password is refused.
func TestSASLSSL(t *testing.T) {
	startBroker(t) // skips, or fails in CI, without kcat
	certs := testcert.New(t)
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", AutoCreateTopics: true,
		TLS: certs.Server, SASL: &creek.SASLConfig{ScramUsers: map[string]string{"alice": "s3cret"}},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	ca := certs.CAFile(t)
	run := func(password, stdin string, args ...string) (string, error) {
		return kcatWith(t, n.Addr().String(), "security.protocol=SASL_SSL", "ssl.ca.location="+ca,
			"sasl.mechanisms=SCRAM-SHA-512", "sasl.username=alice", "sasl.password="+password)(stdin, args...)
	}

	_, err = run("s3cret", "one\ntwo\n", "-P", "-t", "secure")
	require.NoError(t, err)
	out, err := run("s3cret", "", "-C", "-t", "secure", "-o", "beginning", "-c", "2", "-e")
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", out)

	_, err = run("wrong", "", "-L", "-m", "5")
	assert.Error(t, err, "a wrong password gets no metadata")
}

// kcatWith returns a runner of kcat against addr with the librdkafka
// settings given (-X), which returns its stdout, or an error with its
// stderr.
func kcatWith(t *testing.T, addr string, settings ...string) func(stdin string, args ...string) (string, error) {
	return func(stdin string, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		all := []string{"-b", addr}
		for _, s := range settings {
			all = append(all, "-X", s)
		}
		cmd := exec.CommandContext(ctx, "kcat", append(all, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return stdout.String(), fmt.Errorf("kcat %v: %w: %s", args, err, stderr.String())
		}
		return stdout.String(), nil
	}
}

// TestMutualTLSAndACLs: kcat connects with a client certificate the test
// made (mTLS), which makes its principal User:CN=alice; the node's ACLs
// refuse it a topic until an administrator, a super user by its own
// certificate, allows it over Kafka, then serve it.
func TestMutualTLSAndACLs(t *testing.T) {
	startBroker(t) // skips, or fails in CI, without kcat
	certs := testcert.New(t)
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", TLS: certs.MutualServer(),
		ACL: &creek.ACLConfig{SuperUsers: []string{"User:CN=admin"}}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "orders", creek.TopicSpec{}))
	cert, key := testcert.WriteFiles(t, t.TempDir(), certs.ClientCert(t, pkix.Name{CommonName: "alice"}))
	alice := kcatWith(t, n.Addr().String(), "security.protocol=SSL", "ssl.ca.location="+certs.CAFile(t),
		"ssl.certificate.location="+cert, "ssl.key.location="+key)

	_, err = alice("one\n", "-P", "-t", "orders")
	require.Error(t, err, "no ACL lets alice write")
	assert.Contains(t, err.Error(), "authoriz", "refused as not authorized")

	admin, err := kgo.NewClient(kgo.SeedBrokers(n.Addr().String()),
		kgo.DialTLSConfig(certs.ClientWith(certs.ClientCert(t, pkix.Name{CommonName: "admin"}))))
	require.NoError(t, err)
	defer admin.Close()
	created, err := kadm.NewClient(admin).CreateACLs(ctx, kadm.NewACLs().Allow("User:CN=alice").Topics("orders").
		Operations(kadm.OpWrite, kadm.OpRead, kadm.OpDescribe).AllowHosts())
	require.NoError(t, err)
	for _, c := range created {
		require.NoError(t, c.Err)
	}
	_, err = alice("one\ntwo\n", "-P", "-t", "orders")
	require.NoError(t, err)
	out, err := alice("", "-C", "-t", "orders", "-o", "beginning", "-c", "2", "-e")
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", out)
}
