package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/testcert"
)

// TestUserCommandsOverSASLSSL: the client commands reach a node over
// TLS, authenticated with SCRAM (the password from $CREEK_SASL_PASSWORD);
// creek user adds a user who can then produce and consume, lists users,
// and deletes one, who then cannot connect.
func TestUserCommandsOverSASLSSL(t *testing.T) {
	certs := testcert.New(t)
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", TLS: certs.Server, SASL: &creek.SASLConfig{ScramUsers: map[string]string{"admin": "root-pw"}},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	require.NoError(t, n.CreateTopic(t.Context(), "secure", creek.TopicSpec{}))
	ca := certs.CAFile(t)
	creekAs := func(user, password, stdin string, args ...string) (string, error) {
		t.Helper()
		t.Setenv("CREEK_SASL_PASSWORD", password)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		args = append(args, "--brokers", n.Addr().String(), "--tls-ca", ca,
			"--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", user)
		err := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}

	out, err := creekAs("admin", "root-pw", "dave-pw\n", "user", "set", "dave", "--iterations", "8192")
	require.NoError(t, err)
	assert.Equal(t, "set user dave (both)\n", out)
	out, err = creekAs("admin", "root-pw", "", "user", "list")
	require.NoError(t, err)
	assert.Equal(t, "admin\tSCRAM-SHA-256 iterations=4096, SCRAM-SHA-512 iterations=4096\n"+
		"dave\tSCRAM-SHA-256 iterations=8192, SCRAM-SHA-512 iterations=8192\n", out)

	_, err = creekAs("dave", "dave-pw", "hello\n", "produce", "secure")
	require.NoError(t, err)
	out, err = creekAs("dave", "dave-pw", "", "consume", "secure", "--from", "beginning", "--count", "1")
	require.NoError(t, err)
	assert.Contains(t, out, "hello")

	out, err = creekAs("admin", "root-pw", "", "user", "delete", "dave")
	require.NoError(t, err)
	assert.Equal(t, "deleted user dave (both)\n", out)
	_, err = creekAs("dave", "dave-pw", "", "user", "list")
	assert.Error(t, err, "dave is gone")
	_, err = creekAs("admin", "root-pw", "", "user", "list", "dave")
	assert.ErrorContains(t, err, "RESOURCE_NOT_FOUND")
	_, err = creekAs("admin", "root-pw", "", "user", "set", "eve")
	assert.ErrorContains(t, err, "no password on stdin")
}
