// The Kafka listener's socket: Config.Listen, with its address advertised.

package creek

import (
	"fmt"
	"net"
	"strconv"

	"github.com/creekmq/creek/internal/kafka"
)

// listen opens the socket for the Kafka protocol on Config.Listen. The
// node serves on it (serve) only once it is whole: a cluster node first
// joins its cluster, with the address the socket got, and requests
// arriving meanwhile wait in the socket's backlog.
func (n *Node) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for Kafka clients: %w", err)
	}
	return ln, nil
}

// serve starts serving the Kafka protocol on ln.
func (n *Node) serve(ln net.Listener) error {
	cfg := kafka.Config{ClusterID: "creek", MaxRequestBytes: n.cfg.MaxRequestBytes,
		QueuedMaxRequestBytes: n.cfg.QueuedMaxRequestBytes, FetchMaxBytes: n.cfg.FetchMaxBytes,
		MaxRequestEntries: n.cfg.MaxRequestEntries, IdleTimeout: n.cfg.IdleTimeout, WriteTimeout: n.cfg.WriteTimeout,
		RequestReadTimeout: n.cfg.RequestReadTimeout, TransactionVersion: n.cfg.TransactionVersion, Logger: n.log}
	if n.cfg.Cluster != nil {
		cfg.NodeID = n.cfg.Cluster.NodeID
	}
	if n.cfg.AdvertisedAddr != "" {
		var err error
		if cfg.AdvertisedHost, cfg.AdvertisedPort, err = splitAdvertised(n.cfg.AdvertisedAddr); err != nil {
			return err
		}
	}
	cfg.SASL = n.cfg.SASL.kafkaSASL(n.scram)
	if n.acls != nil {
		cfg.Authorizer = n.acls
	}
	n.kafka = kafka.Serve(n.secureListener(ln), kafkaBroker{n}, cfg)
	return nil
}

// splitAdvertised splits Config.AdvertisedAddr into its host and port.
func splitAdvertised(addr string) (string, int32, error) {
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.ParseInt(port, 10, 32)
	if err != nil || perr != nil {
		return "", 0, fmt.Errorf("%w: AdvertisedAddr %q is not host:port", ErrInvalidConfig, addr)
	}
	return host, int32(p), nil
}

// Addr returns the address the node serves the Kafka protocol on, or nil
// without Config.Listen.
func (n *Node) Addr() net.Addr {
	if n.kafka == nil {
		return nil
	}
	return n.kafka.Addr()
}

// closeListener closes ln, if any.
func closeListener(ln net.Listener) error {
	if ln == nil {
		return nil
	}
	return ln.Close()
}
