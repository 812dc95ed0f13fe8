package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	_, sasl, err := securityFromFlags("", "", write("# users\nalice:s3cret\n\nbob:a:b\n"))
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
		_, _, err := securityFromFlags("", "", write(text))
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "s3cret", name)
	}
	_, _, err = securityFromFlags("cert.pem", "", "")
	assert.ErrorContains(t, err, "go together")
	tlsConfig, sasl, err := securityFromFlags("", "", "")
	require.NoError(t, err)
	assert.Nil(t, tlsConfig)
	assert.Nil(t, sasl)
}
