package main

import (
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
