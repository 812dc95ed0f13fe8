// creek serve's node identity in a cluster: --node-cert, --node-key and
// --node-ca (ClusterConfig.TLS), and --gossip-key-file
// (ClusterConfig.EncryptionKey).

package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"
)

// nodeIdentityFromFlags builds a cluster node's identity from a PEM
// certificate and key (reloaded when the files change, as --tls-cert's
// are), which it presents to the other nodes and serves Raft with, and
// the PEM CAs that sign every node's; nil when none of the three is
// given.
func nodeIdentityFromFlags(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" && caFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" || caFile == "" {
		return nil, fmt.Errorf("--node-cert, --node-key and --node-ca go together")
	}
	certs, err := newCertReloader(certFile, keyFile, time.Now)
	if err != nil {
		return nil, fmt.Errorf("--node-cert, --node-key: %w", err)
	}
	pool, err := readCAs("--node-ca", caFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{GetCertificate: certs.get, GetClientCertificate: certs.getClient, RootCAs: pool,
		MinVersion: tls.VersionTLS12}, nil
}

// readGossipKey reads a --gossip-key-file: 16, 24 or 32 bytes in base64
// (what `openssl rand -base64 32` writes), surrounding space ignored. Its
// errors never show the key.
func readGossipKey(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--gossip-key-file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(key) != 16 && len(key) != 24 && len(key) != 32 {
		return nil, fmt.Errorf("--gossip-key-file: %s does not hold 16, 24 or 32 bytes in base64", path)
	}
	return key, nil
}
