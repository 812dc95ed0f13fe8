package kcat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		args = append([]string{"-b", n.Addr().String(), "-X", "security.protocol=SASL_SSL",
			"-X", "ssl.ca.location=" + ca, "-X", "sasl.mechanisms=SCRAM-SHA-512",
			"-X", "sasl.username=alice", "-X", "sasl.password=" + password}, args...)
		cmd := exec.CommandContext(ctx, "kcat", args...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			return stdout.String(), fmt.Errorf("kcat %v: %w: %s", args[len(args)-2:], err, stderr.String())
		}
		return stdout.String(), nil
	}

	_, err = run("s3cret", "one\ntwo\n", "-P", "-t", "secure")
	require.NoError(t, err)
	out, err := run("s3cret", "", "-C", "-t", "secure", "-o", "beginning", "-c", "2", "-e")
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", out)

	_, err = run("wrong", "", "-L", "-m", "5")
	assert.Error(t, err, "a wrong password gets no metadata")
}
