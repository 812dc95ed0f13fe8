// Node identities (issue 17): with ClusterConfig.TLS the nodes of a
// cluster reach each other over TLS, each presenting its own certificate
// — on the inter-broker listener and for Raft — so a node without a
// certificate of the cluster's CA can neither replicate nor vote.

package creek

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/creekmq/creek/internal/kafka"
)

// dialFunc connects to an address, as net.Dialer.DialContext does.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialNode connects to another node's inter-broker listener at addr,
// over TLS with this node's certificate when ClusterConfig.TLS is set.
func (n *Node) dialNode(ctx context.Context, addr, clientID string) (*kafka.Conn, error) {
	return kafka.DialVia(ctx, n.nodeDialer(), addr, clientID)
}

// nodeDialer returns how this node connects to the others: through
// ClusterConfig.Dialer, and over TLS with ClusterConfig.TLS.
func (n *Node) nodeDialer() dialFunc {
	c := n.cfg.Cluster
	if c.TLS == nil {
		return c.Dialer.DialContext
	}
	return tlsDialer(c.Dialer.DialContext, c.TLS)
}

// tlsDialer returns dial with a TLS handshake on top, as a client of cfg
// verifying the peer's certificate for the host dialled (an IP address's
// SAN for a node's address), within ctx.
func tlsDialer(dial dialFunc, cfg *tls.Config) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS with node at %s: %w", addr, err)
		}
		return tc, nil
	}
}

// listenerTLS returns the TLS a listener serves: its own, and on the
// inter-broker listener of a node with an identity, a client certificate
// required of every connection, verified by the listener's ClientCAs or
// else the cluster's CAs: only nodes (and clients with a certificate of
// those CAs) reach it.
func (n *Node) listenerTLS(l Listener) *tls.Config {
	cfg := l.TLS.Clone()
	c := n.cfg.Cluster
	if c == nil || c.TLS == nil || l.Name != interBrokerListener(c, n.cfg.listeners()[0].Name) {
		return cfg
	}
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if cfg.ClientCAs == nil {
		cfg.ClientCAs = c.TLS.RootCAs
	}
	return cfg
}

// raftServerTLS is the TLS of the Raft listener: the node's certificate,
// and a client certificate the cluster's CAs (cfg.RootCAs) verify
// required of every peer.
func raftServerTLS(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, cfg.RootCAs
	return c
}

// validateNodeTLS reports what is wrong with ClusterConfig.TLS beside the
// inter-broker listener's protocol.
func validateNodeTLS(c *ClusterConfig, interBroker Listener) error {
	switch {
	case c.TLS == nil && interBroker.Protocol == ProtocolSSL:
		return fmt.Errorf("%w: inter-broker listener %s is SSL: the nodes need ClusterConfig.TLS, their identity, to reach it",
			ErrInvalidConfig, interBroker.Name)
	case c.TLS == nil:
		return nil
	case interBroker.Protocol != ProtocolSSL:
		return fmt.Errorf("%w: with ClusterConfig.TLS the inter-broker listener %s must be SSL, not %s", ErrInvalidConfig,
			interBroker.Name, interBroker.Protocol)
	case len(c.TLS.Certificates) == 0 && c.TLS.GetClientCertificate == nil:
		return fmt.Errorf("%w: ClusterConfig.TLS has no certificate: it is the node's identity", ErrInvalidConfig)
	case c.TLS.RootCAs == nil:
		return fmt.Errorf("%w: ClusterConfig.TLS has no RootCAs: the CAs that sign the nodes' certificates", ErrInvalidConfig)
	case len(c.EncryptionKey) == 0:
		// Gossip is memberlist's, without TLS: without a key a node with
		// no certificate could still join it, be placed replicas and be
		// made a voter it can never be.
		return fmt.Errorf("%w: ClusterConfig.TLS needs EncryptionKey too: gossip is not TLS's", ErrInvalidConfig)
	}
	return nil
}
