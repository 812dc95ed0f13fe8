package creek

import (
	"fmt"
	"net"
	"strconv"

	"github.com/creekmq/creek/internal/kafka"
)

// listen starts serving the Kafka protocol on Config.Listen.
func (n *Node) listen() error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen for Kafka clients: %w", err)
	}
	cfg := kafka.Config{ClusterID: "creek", MaxRequestBytes: n.cfg.MaxRequestBytes, Logger: n.log}
	if n.cfg.Cluster != nil {
		cfg.NodeID = n.cfg.Cluster.NodeID
	}
	if n.cfg.AdvertisedAddr != "" {
		host, port, err := net.SplitHostPort(n.cfg.AdvertisedAddr)
		p, perr := strconv.ParseInt(port, 10, 32)
		if err != nil || perr != nil {
			ln.Close()
			return fmt.Errorf("%w: AdvertisedAddr %q is not host:port", ErrInvalidConfig, n.cfg.AdvertisedAddr)
		}
		cfg.AdvertisedHost, cfg.AdvertisedPort = host, int32(p)
	}
	n.kafka = kafka.Serve(ln, kafkaBroker{n}, cfg)
	return nil
}

// Addr returns the address the node serves the Kafka protocol on, or nil
// without Config.Listen.
func (n *Node) Addr() net.Addr {
	if n.kafka == nil {
		return nil
	}
	return n.kafka.Addr()
}
