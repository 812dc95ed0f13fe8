// Package membership finds the nodes of a creek cluster and notices when
// they fail, by gossip (hashicorp/memberlist's SWIM). Each node gossips
// its metadata — node ID, the address Kafka clients and other nodes reach
// it on, its rack — so every node knows every live node. Decisions about
// what membership changes mean belong to the controller, not here.
package membership

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/creekmq/creek/internal/logbridge"
)

// Config configures a node's membership.
type Config struct {
	// NodeID is this node's ID, unique in the cluster.
	NodeID int32
	// BindAddr is the host:port gossip listens on (UDP and TCP); port 0
	// picks a free one.
	BindAddr string
	// AdvertiseAddr is the host:port other nodes gossip to; default the
	// bound address.
	AdvertiseAddr string
	// Seeds are gossip addresses of nodes to join; none starts a new
	// cluster.
	Seeds []string
	// KafkaAddr is where the other nodes reach this one's Kafka protocol:
	// its inter-broker listener's advertised address.
	KafkaAddr string
	// Listeners are its listeners' advertised addresses, by name.
	Listeners map[string]string
	// Rack names the node's failure domain, for replica placement.
	Rack string
	// RaftAddr is where this node's controller takes Raft traffic.
	RaftAddr string
	// Incarnation tells this start of the node's process from others;
	// gossiped, so the controller sees a restart (controller.OnRestarts).
	Incarnation uint64
	// EncryptionKey, if set (16, 24 or 32 bytes), encrypts gossip with
	// AES-GCM; every node needs the same key.
	EncryptionKey []byte
	// Logger receives membership changes, and memberlist's own warnings
	// and errors; default slog.Default().
	Logger *slog.Logger
	// LocalNetwork shortens gossip's timers (probes, suspicion) for nodes
	// on one host or a sub-millisecond LAN; failure detection then takes
	// well under a second.
	LocalNetwork bool
	// Blocked, if set, cuts this node off from the gossip addresses it
	// returns true for, for tests of network partitions.
	Blocked func(addr string) bool
	// Packets, if set, decides the fate of each packet sent to addr: lost,
	// sent twice, or held for delay; for tests of a lossy network.
	Packets func(addr string) (drop, duplicate bool, delay time.Duration)
}

// Member is a live node of the cluster.
type Member struct {
	NodeID     int32
	KafkaAddr  string
	Listeners  map[string]string
	Rack       string
	GossipAddr string
	RaftAddr   string
	// Incarnation is new each time the node's process starts.
	Incarnation uint64
}

// Membership is this node's view of the cluster.
type Membership struct {
	ml  *memberlist.Memberlist
	log *slog.Logger

	mu      sync.Mutex
	members map[string]Member // by memberlist node name
	failed  map[string]string // gossip address of each node gone, by name, to reconnect to
	changed chan struct{}     // closed, and replaced, at every change
	closed  bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// reconnectInterval is how often a node tries to gossip again with nodes
// it found dead: memberlist alone never merges the sides of a network
// partition that healed, as each side stopped probing the other (Serf
// reconnects the same way).
func reconnectInterval(local bool) time.Duration {
	if local {
		return 200 * time.Millisecond
	}
	return 10 * time.Second
}

// Join starts gossip and joins the seeds (if any).
func Join(cfg Config) (*Membership, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mc, err := memberlistConfig(cfg)
	if err != nil {
		return nil, err
	}
	m := &Membership{log: cfg.Logger, members: map[string]Member{}, failed: map[string]string{},
		changed: make(chan struct{}), stop: make(chan struct{})}
	meta, err := encodeMeta(nodeMeta{NodeID: cfg.NodeID, KafkaAddr: cfg.KafkaAddr, Listeners: cfg.Listeners, Rack: cfg.Rack, RaftAddr: cfg.RaftAddr,
		Incarnation: cfg.Incarnation})
	if err != nil {
		return nil, err
	}
	mc.Delegate = metaDelegate(meta)
	mc.Events = m
	if m.ml, err = memberlist.Create(mc); err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", cfg.BindAddr, err)
	}
	if len(cfg.Seeds) > 0 {
		if _, err := m.ml.Join(cfg.Seeds); err != nil {
			return nil, errors.Join(fmt.Errorf("join the cluster through %v: %w", cfg.Seeds, err), m.ml.Shutdown())
		}
	}
	m.wg.Add(1)
	go m.reconnect(reconnectInterval(cfg.LocalNetwork))
	return m, nil
}

// reconnect tries, every interval, to gossip again with the nodes found
// dead; a node that answers rejoins (and refutes its death).
func (m *Membership) reconnect(interval time.Duration) {
	defer m.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
		}
		m.mu.Lock()
		var addrs []string
		for _, addr := range m.failed {
			addrs = append(addrs, addr)
		}
		m.mu.Unlock()
		if len(addrs) > 0 {
			m.ml.Join(addrs) // those still unreachable fail, and are tried again
		}
	}
}

func memberlistConfig(cfg Config) (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	if cfg.LocalNetwork {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval, mc.ProbeTimeout = 100*time.Millisecond, 50*time.Millisecond
		mc.GossipInterval, mc.SuspicionMult = 20*time.Millisecond, 2
		mc.PushPullInterval = time.Second
	}
	mc.Name = nodeName(cfg.NodeID)
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("BindAddr: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertiseAddr, mc.AdvertisePort = "", 0
	if cfg.AdvertiseAddr != "" {
		if mc.AdvertiseAddr, mc.AdvertisePort, err = splitHostPort(cfg.AdvertiseAddr); err != nil {
			return nil, fmt.Errorf("AdvertiseAddr: %w", err)
		}
	}
	if len(cfg.EncryptionKey) > 0 {
		keyring, err := memberlist.NewKeyring(nil, cfg.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("EncryptionKey: %w", err)
		}
		mc.Keyring = keyring
	}
	mc.Logger = logbridge.StdLog(cfg.Logger) // its warnings and errors; changes of members are logged here
	if cfg.Blocked != nil || cfg.Packets != nil {
		t, err := newFilteredTransport(host, port, cfg.Blocked, cfg.Packets)
		if err != nil {
			return nil, fmt.Errorf("start gossip on %s: %w", cfg.BindAddr, err)
		}
		mc.Transport = t
	}
	return mc, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	return host, p, err
}

func nodeName(id int32) string { return fmt.Sprintf("creek-%d", id) }

// Members returns the live nodes, this one included, by node ID.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, member := range m.members {
		out = append(out, member)
	}
	slices.SortFunc(out, func(a, b Member) int { return int(a.NodeID - b.NodeID) })
	return out
}

// Changed returns a channel closed at the next change of membership.
func (m *Membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// GossipAddr returns the address this node gossips on.
func (m *Membership) GossipAddr() string { return m.ml.LocalNode().Address() }

// Leave tells the others this node is leaving, waiting up to timeout for
// the message to spread, and stops gossip. Without Leave (a crash), the
// others find out by failure detection; so a leave that cannot spread in
// time (the others are gone or leaving too) is logged, not an error.
func (m *Membership) Leave(timeout time.Duration) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed { // stopped already, as a crash would: nothing to tell
		return nil
	}
	if err := m.ml.Leave(timeout); err != nil {
		m.log.Warn("leaving the cluster: the others will find out by failure detection", "err", err)
	}
	return m.Close()
}

// Close stops gossip at once, as a crash would.
func (m *Membership) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	m.wg.Wait()
	return m.ml.Shutdown()
}

// NotifyJoin implements memberlist.EventDelegate.
func (m *Membership) NotifyJoin(n *memberlist.Node) { m.update(n, true) }

// NotifyUpdate implements memberlist.EventDelegate.
func (m *Membership) NotifyUpdate(n *memberlist.Node) { m.update(n, true) }

// NotifyLeave implements memberlist.EventDelegate: the node left or was
// found dead.
func (m *Membership) NotifyLeave(n *memberlist.Node) { m.update(n, false) }

func (m *Membership) update(n *memberlist.Node, alive bool) {
	member := Member{GossipAddr: n.Address()}
	if alive {
		meta, err := decodeMeta(n.Meta)
		if err != nil {
			m.log.Warn("ignoring a gossip member with unreadable metadata", "member", n.Name, "err", err)
			return
		}
		member.NodeID, member.KafkaAddr, member.Rack, member.RaftAddr = meta.NodeID, meta.KafkaAddr, meta.Rack, meta.RaftAddr
		member.Listeners = meta.Listeners
		member.Incarnation = meta.Incarnation
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if alive {
		if _, known := m.members[n.Name]; !known {
			m.log.Info("cluster node joined", "node", member.NodeID, "kafka", member.KafkaAddr, "rack", member.Rack)
		}
		m.members[n.Name] = member
		delete(m.failed, n.Name)
	} else {
		m.log.Info("cluster node left or failed", "member", n.Name)
		delete(m.members, n.Name)
		// memberlist does not tell a leave from a failure here, so every
		// node gone is called back: a stopped one just refuses, cheaply.
		m.failed[n.Name] = n.Address()
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// metaDelegate gossips this node's metadata and nothing else.
type metaDelegate []byte

func (d metaDelegate) NodeMeta(limit int) []byte {
	if len(d) > limit {
		return nil // encodeMeta bounds it well below memberlist's limit
	}
	return d
}
func (metaDelegate) NotifyMsg([]byte)                {}
func (metaDelegate) GetBroadcasts(int, int) [][]byte { return nil }
func (metaDelegate) LocalState(bool) []byte          { return nil }
func (metaDelegate) MergeRemoteState([]byte, bool)   {}
