package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
)

// TestListenersFromFlags: Kafka's listeners, protocol map and advertised
// listeners make the node's listeners; a name that is a protocol needs no
// entry in the map; an entry for no listener, or one that does not
// parse, is refused.
func TestListenersFromFlags(t *testing.T) {
	got, err := listenersFromFlags("PLAINTEXT://127.0.0.1:9092, clients://:9093,SSL://:9094",
		"CLIENTS:sasl_ssl", "clients://kafka.example:9093")
	require.NoError(t, err)
	assert.Equal(t, []creek.Listener{
		{Name: "PLAINTEXT", Addr: "127.0.0.1:9092", Protocol: creek.ProtocolPlaintext},
		{Name: "CLIENTS", Addr: ":9093", AdvertisedAddr: "kafka.example:9093", Protocol: creek.ProtocolSASLSSL},
		{Name: "SSL", Addr: ":9094", Protocol: creek.ProtocolSSL},
	}, got)

	for name, args := range map[string][3]string{
		"not NAME://host:port":        {"127.0.0.1:9092", "", ""},
		"no address":                  {"A://", "", ""},
		"a protocol pair without ':'": {"A://:1", "A", ""},
		"a protocol for no listener":  {"A://:1", "A:SSL,B:SSL", ""},
		"an advertised for none":      {"A://:1", "A:SSL", "B://h:1"},
		"a bad advertised":            {"A://:1", "A:SSL", "h:1"},
	} {
		_, err := listenersFromFlags(args[0], args[1], args[2])
		assert.Error(t, err, name)
	}
}

// TestGossipKeyFile: a gossip key is 16, 24 or 32 bytes in base64;
// anything else is refused without being shown.
func TestGossipKeyFile(t *testing.T) {
	write := func(text string) string {
		path := filepath.Join(t.TempDir(), "key")
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	key, err := readGossipKey(write(" MDEyMzQ1Njc4OWFiY2RlZg==\n"))
	require.NoError(t, err)
	assert.Equal(t, []byte("0123456789abcdef"), key)
	for _, bad := range []string{"MDEy", "not base64!", ""} {
		_, err := readGossipKey(write(bad))
		require.Error(t, err)
		if bad != "" {
			assert.NotContains(t, err.Error(), bad, "the key is not shown")
		}
	}
	_, err = nodeIdentityFromFlags("cert.pem", "", "")
	assert.Error(t, err, "the three node flags go together")
}

// TestServeRefusesAnUnreachableJWKS: a JWKS that cannot be read stops
// creek serve at once, naming the flag, rather than failing every client
// later.
func TestServeRefusesAnUnreachableJWKS(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--sasl-oauth-jwks",
		"file://" + filepath.Join(t.TempDir(), "missing.json")}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--sasl-oauth-jwks")
}
