// ClusterConfig and joining a cluster: gossip membership, the controller,
// replication.

package creek

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/creekmq/creek/internal/membership"
	"github.com/creekmq/creek/internal/netx"
)

// ClusterConfig makes a node a member of a cluster. Nodes find each other
// and notice failures by gossip (hashicorp/memberlist); a Raft controller
// decides topics, partition leaders and in-sync replicas; followers
// replicate from leaders over the Kafka protocol.
type ClusterConfig struct {
	// NodeID is this node's ID, unique in the cluster, also its broker ID
	// in Kafka metadata.
	NodeID int32
	// GossipAddr is the host:port gossip binds (UDP and TCP); port 0 picks
	// a free one (Node.GossipAddr reports it).
	GossipAddr string
	// AdvertiseGossipAddr is the address other nodes gossip to; default
	// the bound one.
	AdvertiseGossipAddr string
	// Seeds are gossip addresses of members to join; none starts a new
	// cluster.
	Seeds []string
	// Rack names the node's failure domain.
	Rack string
	// InterBrokerListener names the listener the other nodes reach this
	// one on, for replica fetches and forwarded requests
	// (inter.broker.listener.name); default the first. It is PLAINTEXT,
	// or SSL with TLS.
	InterBrokerListener string
	// TLS, when set, is the node's identity among the others (mTLS
	// between nodes): Certificates (or GetClientCertificate) is its
	// certificate, which must serve as both server and client, and
	// RootCAs the CAs that sign every node's. The node reaches the
	// others over TLS, presenting it and verifying theirs for the address
	// dialled: on the inter-broker listener, which must then be SSL and
	// requires a client certificate of every connection (verified by its
	// TLS's ClientCAs, or else RootCAs), and for Raft, whose listener takes
	// only peers whose certificates RootCAs verify. A node without the
	// cluster's certificate can then neither replicate nor vote. Gossip
	// is not TLS's: with TLS, EncryptionKey is required too.
	TLS *tls.Config
	// EncryptionKey (16, 24 or 32 bytes) encrypts gossip; every node needs
	// the same one.
	EncryptionKey []byte
	// RaftAddr is the host:port the controller's Raft listens on; default
	// GossipAddr's host with a free port. A node without Seeds and without
	// Raft state bootstraps a new cluster's controller.
	RaftAddr string
	// ReplicaLagTimeMax is how long a follower may go without catching up
	// before its leader drops it from the in-sync replicas (Kafka's
	// replica.lag.time.max.ms); default 30s.
	ReplicaLagTimeMax time.Duration
	// ReplaceGoneAfter is how long a node may be gone before the
	// controller moves its replicas to live nodes, which copy the logs
	// from the leaders; default 5 min, negative never. A node that comes
	// back later holds no replicas of those partitions.
	ReplaceGoneAfter time.Duration
	// LocalNetwork says every node runs on one host or on a LAN with
	// sub-millisecond round trips: gossip probes (memberlist's local
	// profile, tightened further), Raft heartbeats and elections, and the
	// default ReplicaLagTimeMax (1s) are shortened, so a failed node is
	// noticed within about a second. On a slower network it makes healthy
	// nodes look dead.
	LocalNetwork bool
	// Dialer connects to other nodes (Kafka and Raft traffic); default a
	// net.Dialer whose connections leave from RaftAddr's host. Pass one to
	// go through a proxy or another network. A Dialer that also has the
	// methods GossipBlocked(addr string) bool and GossipFate(addr string)
	// (drop, duplicate bool, delay time.Duration) decides the fate of
	// gossip packets too, to and from addr: so a test's network (creek's
	// own tests use one) can cut or lose gossip as well.
	Dialer Dialer
}

// Dialer connects to an address, as net.Dialer's DialContext does; a
// *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// gossipFilter is what a Dialer may also do to gossip: creek looks for it
// as io.Copy looks for io.WriterTo. GossipBlocked cuts the node off from
// the gossip addresses it returns true for; GossipFate decides, for each
// packet sent to addr, whether it is lost, sent twice or held for delay.
type gossipFilter interface {
	GossipBlocked(addr string) bool
	GossipFate(addr string) (drop, duplicate bool, delay time.Duration)
}

// ClusterMember is a live node of the cluster.
type ClusterMember struct {
	NodeID    int32
	KafkaAddr string // where the other nodes reach it: its inter-broker listener
	// Listeners are its listeners' advertised addresses, by name: where
	// Kafka clients reach it.
	Listeners  map[string]string
	Rack       string
	GossipAddr string
	RaftAddr   string // where its controller takes Raft traffic
	// Incarnation is new each time the node's process starts: the
	// controller registers it, and moves leadership off a restarted node.
	Incarnation uint64
}

// joinCluster starts gossip once the Kafka sockets are open, so the
// addresses gossiped are the ones the node serves on.
func (n *Node) joinCluster(listeners []boundListener) error {
	c := n.cfg.Cluster
	if len(listeners) == 0 {
		return fmt.Errorf("%w: a cluster node needs Config.Listen or Listeners: the others reach it there", ErrInvalidConfig)
	}
	kafkaAddr, advertised := "", map[string]string{}
	for _, l := range listeners {
		advertised[l.Name] = l.advertised()
		if l.Name == interBrokerListener(c, listeners[0].Name) {
			kafkaAddr = l.advertised()
		}
	}
	own := *c // the caller's config stays as given
	c = &own
	n.cfg.Cluster = c
	if c.RaftAddr == "" {
		host, _, err := net.SplitHostPort(c.GossipAddr)
		if err != nil {
			return fmt.Errorf("%w: GossipAddr %q: %v", ErrInvalidConfig, c.GossipAddr, err)
		}
		c.RaftAddr = net.JoinHostPort(host, "0")
	}
	if c.Dialer == nil {
		c.Dialer = dialerFrom(c.RaftAddr)
	}
	if c.ReplicaLagTimeMax <= 0 {
		c.ReplicaLagTimeMax = 30 * time.Second
		if c.LocalNetwork {
			c.ReplicaLagTimeMax = time.Second
		}
	}
	if c.ReplaceGoneAfter == 0 {
		c.ReplaceGoneAfter = 5 * time.Minute
	}
	if err := n.startController(); err != nil {
		return err
	}
	mc := membership.Config{NodeID: c.NodeID, BindAddr: c.GossipAddr,
		AdvertiseAddr: c.AdvertiseGossipAddr, Seeds: c.Seeds, KafkaAddr: kafkaAddr, Listeners: advertised, Rack: c.Rack,
		RaftAddr: n.controller.raftAddr(), Incarnation: n.incarnation, EncryptionKey: c.EncryptionKey, Logger: n.log,
		LocalNetwork: c.LocalNetwork}
	if f, ok := c.Dialer.(gossipFilter); ok {
		mc.Blocked, mc.Packets = f.GossipBlocked, f.GossipFate
	}
	m, err := membership.Join(mc)
	if err != nil {
		return errors.Join(err, n.controller.close())
	}
	n.members = m
	if c.TLS != nil {
		n.identities = n.startIdentityChecks()
	}
	n.replicas = newReplicaManager(n, c.NodeID, c.ReplicaLagTimeMax)
	n.peers = newPeerConns(n)
	n.controller.run()
	return nil
}

// dialerFrom returns a dialer whose connections leave from the host
// of addr when it names an IP address (the node's Raft address, which must),
// so that a node's traffic to its peers comes from the address it gives
// them, as its gossip packets do: on a host with several addresses, a
// firewall or a test's network cut then sees one address per node.
func dialerFrom(addr string) Dialer {
	host, _, _ := net.SplitHostPort(addr)
	d := netx.DialerFrom(host, 0)
	return &d
}

// ClusterMembers returns the live nodes of the cluster, this one included,
// by node ID; nil for a node that is not in a cluster. With node
// identities (ClusterConfig.TLS), only those proven to be nodes of the
// cluster (nodeverify.go).
func (n *Node) ClusterMembers() []ClusterMember {
	if n.members == nil {
		return nil
	}
	members := n.members.Members()
	if n.identities != nil {
		members = n.identities.filter(members)
	}
	var out []ClusterMember
	for _, m := range members {
		out = append(out, ClusterMember(m))
	}
	return out
}

// clusterChanged returns a channel closed at the next change of the
// cluster's members; nil outside a cluster.
func (n *Node) clusterChanged() <-chan struct{} {
	switch {
	case n.members == nil:
		return nil
	case n.identities != nil: // it tells after each gossip change, once it has verified
		return n.identities.Changed()
	}
	return n.members.Changed()
}

// GossipAddr returns the address the node gossips on, for other nodes'
// Seeds; empty outside a cluster.
func (n *Node) GossipAddr() string {
	if n.members == nil {
		return ""
	}
	return n.members.GossipAddr()
}

// WaitForCluster waits until the node sees at least members live nodes,
// itself included, and the controller has registered it, or until ctx
// ends. A registered node has caught up with the cluster's metadata and
// acts on it, leading and following partitions, and a controller leader
// is known: a readiness check, and what a test waits for before it
// creates replicated topics. It fails with ErrInvalidConfig for a node
// that is not in a cluster, and with ctx's error when ctx ends first.
func (n *Node) WaitForCluster(ctx context.Context, members int) error {
	if n.members == nil {
		return fmt.Errorf("%w: the node is not in a cluster (Config.Cluster)", ErrInvalidConfig)
	}
	leaders, stop := n.controller.observeLeaders(1)
	defer stop()
	for {
		changed, applied := n.clusterChanged(), n.controller.fsm.Changed()
		seen := len(n.ClusterMembers())
		registered := n.controller.registered()
		if seen >= members && registered && n.controller.leader() >= 0 {
			return nil
		}
		select {
		case <-changed:
		case <-applied:
		case <-leaders:
		case <-ctx.Done():
			return fmt.Errorf("node %d sees %d of %d members, registered %t: %w", n.nodeID(), seen, members,
				registered, ctx.Err())
		}
	}
}

// leaveCluster stops the node's controller, then tells the others this
// node is going, so they need not wait for failure detection.
func (n *Node) leaveCluster() error {
	if n.members == nil {
		return nil
	}
	err := n.controller.close()
	n.replicas.close()
	n.peers.close()
	if n.identities != nil {
		n.identities.close()
	}
	return errors.Join(err, n.members.Leave(time.Second))
}

// interBrokerListener returns the name of the listener the nodes reach
// each other on: ClusterConfig.InterBrokerListener, or first, the name
// of the node's first listener.
func interBrokerListener(c *ClusterConfig, first string) string {
	if c.InterBrokerListener == "" {
		return first
	}
	return strings.ToUpper(c.InterBrokerListener)
}

// validateInterBroker reports what is wrong with the inter-broker
// listener of a cluster node.
func (c Config) validateInterBroker() error {
	listeners := c.listeners()
	if c.Cluster == nil || len(listeners) == 0 {
		return nil
	}
	name := interBrokerListener(c.Cluster, listeners[0].Name)
	i := slices.IndexFunc(listeners, func(l Listener) bool { return l.Name == name })
	switch {
	case i < 0:
		return fmt.Errorf("%w: InterBrokerListener %s is none of the node's listeners", ErrInvalidConfig, name)
	case listeners[i].Protocol.usesSASL():
		// A node has no SASL credentials of its own to reach the others
		// with: its identity is its certificate.
		return fmt.Errorf("%w: inter-broker listener %s is %s: not supported, it is PLAINTEXT or SSL", ErrInvalidConfig,
			name, listeners[i].Protocol)
	}
	return validateNodeTLS(c.Cluster, listeners[i])
}
