package main

import (
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/testcert"
)

// TestSASLUsersFile: a --sasl-users file gives SCRAM its users and PLAIN
// the same passwords; a bad line is named by its number, never by what it
// holds.
func TestSASLUsersFile(t *testing.T) {
	write := func(text string) string {
		path := filepath.Join(t.TempDir(), "users")
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	_, sasl, err := securityFromFlags("", "", "", write("# users\nalice:s3cret\n\nbob:a:b\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"alice": "s3cret", "bob": "a:b"}, sasl.ScramUsers)
	assert.True(t, sasl.Plain("alice", "s3cret"))
	assert.True(t, sasl.Plain("bob", "a:b"))
	assert.False(t, sasl.Plain("alice", "s3cre"))
	assert.False(t, sasl.Plain("carol", ""))

	for name, text := range map[string]string{
		"no password": "alice:s3cret\nbob\n",
		"twice":       "alice:x\nalice:y\n",
		"empty":       "# nobody\n",
	} {
		_, _, err := securityFromFlags("", "", "", write(text))
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "s3cret", name)
	}
	_, _, err = securityFromFlags("cert.pem", "", "", "")
	assert.ErrorContains(t, err, "go together")
	tlsConfig, sasl, err := securityFromFlags("", "", "", "")
	require.NoError(t, err)
	assert.Nil(t, tlsConfig)
	assert.Nil(t, sasl)
}

// TestCertificateReloads: a certificate renewed in its files is served
// from the next handshake a second on, without a restart; a renewal half
// written leaves the last one served.
func TestCertificateReloads(t *testing.T) {
	certs := testcert.New(t)
	first := certs.ClientCert(t, pkix.Name{CommonName: "first"})
	second := certs.ClientCert(t, pkix.Name{CommonName: "second"})
	dir := t.TempDir()
	certFile, keyFile := testcert.WriteFiles(t, dir, first)
	now := time.Unix(1e9, 0)
	r, err := newCertReloader(certFile, keyFile, func() time.Time { return now })
	require.NoError(t, err)
	served := func() []byte {
		c, err := r.get(nil)
		require.NoError(t, err)
		return c.Certificate[0]
	}
	assert.Equal(t, first.Certificate[0], served())

	testcert.WriteFiles(t, dir, second)
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(certFile, later, later))
	assert.Equal(t, first.Certificate[0], served(), "looked at once a second at most")
	now = now.Add(time.Second)
	assert.Equal(t, second.Certificate[0], served(), "renewed")

	require.NoError(t, os.WriteFile(keyFile, []byte("half"), 0o600))
	evenLater := later.Add(time.Minute)
	require.NoError(t, os.Chtimes(keyFile, evenLater, evenLater))
	now = now.Add(time.Second)
	assert.Equal(t, second.Certificate[0], served(), "a key that does not load")
}
