// Package faultnet is a loopback network for cluster tests that can cut
// the links between nodes, as a network partition would, and heal them.
// Nodes dial through it; it knows which node listens on which address, so
// a dial across a cut link fails and the connections already open across
// it break at once, on both sides. Cuts are deterministic; on top of them
// a test may Inject random faults from a seeded source: delayed writes
// and packets, lost and duplicated gossip packets, broken connections.
package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrCut is the error a dial, read or write across a cut link returns.
var ErrCut = errors.New("faultnet: link cut")

// link is an unordered pair of nodes.
type link struct{ a, b int32 }

func linkOf(a, b int32) link {
	if a > b {
		a, b = b, a
	}
	return link{a, b}
}

// Network is the nodes, their addresses and the links cut between them.
// The zero value is not usable; call New.
type Network struct {
	mu    sync.Mutex
	owner map[string]int32 // address → the node listening there
	cut   map[link]bool
	conns map[link]map[*conn]bool // open connections across each link
	chaos chaos
}

// New returns a network with every link up.
func New() *Network {
	return &Network{owner: map[string]int32{}, cut: map[link]bool{}, conns: map[link]map[*conn]bool{}}
}

// Register says node listens on addrs.
func (n *Network) Register(node int32, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		n.owner[a] = node
	}
}

// Owner returns the node listening on addr, if any is registered.
func (n *Network) Owner(addr string) (int32, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	node, ok := n.owner[addr]
	return node, ok
}

// Node is the network as one node sees it: it dials, and sends and
// receives gossip, as that node. It is a creek.ClusterConfig Dialer that
// also filters gossip.
type Node struct {
	net *Network
	id  int32
}

// Node returns the network as node id sees it.
func (n *Network) Node(id int32) Node { return Node{net: n, id: id} }

// DialContext dials addr from the node, failing across a cut link.
func (d Node) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	n, from := d.net, d.id
	to, known := n.Owner(addr)
	if known && n.Cut(from, to) {
		return nil, fmt.Errorf("dial %s from node %d: %w", addr, from, ErrCut)
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, network, addr)
	if err != nil || !known {
		return nc, err
	}
	c := &conn{Conn: nc, net: n, link: linkOf(from, to)}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[c.link] { // cut while dialling
		nc.Close()
		return nil, fmt.Errorf("dial %s from node %d: %w", addr, from, ErrCut)
	}
	if n.conns[c.link] == nil {
		n.conns[c.link] = map[*conn]bool{}
	}
	n.conns[c.link][c] = true
	return c, nil
}

// GossipBlocked reports whether the node cannot reach addr: a registered
// address across a cut link. Packet transports (gossip) drop traffic to
// and from it.
func (d Node) GossipBlocked(addr string) bool {
	to, known := d.net.Owner(addr)
	return known && d.net.Cut(d.id, to)
}

// Cut reports whether the link between a and b is cut.
func (n *Network) Cut(a, b int32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut[linkOf(a, b)]
}

// Partition cuts every link between a node of side and a node of other,
// and closes the connections open across them.
func (n *Network) Partition(side, other []int32) {
	n.mu.Lock()
	var broken []*conn
	for _, a := range side {
		for _, b := range other {
			l := linkOf(a, b)
			n.cut[l] = true
			for c := range n.conns[l] {
				broken = append(broken, c)
			}
			delete(n.conns, l)
		}
	}
	n.mu.Unlock()
	for _, c := range broken {
		c.Conn.Close()
	}
}

// HealAll restores every link.
func (n *Network) HealAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = map[link]bool{}
}

// conn is a connection across a link; it fails once the link is cut.
type conn struct {
	net.Conn
	net  *Network
	link link
}

func (c *conn) Read(b []byte) (int, error) {
	if c.net.Cut(c.link.a, c.link.b) {
		return 0, ErrCut
	}
	return c.Conn.Read(b)
}

func (c *conn) Write(b []byte) (int, error) {
	if c.net.Cut(c.link.a, c.link.b) {
		return 0, ErrCut
	}
	if c.net.beforeWrite() {
		c.Close()
		return 0, fmt.Errorf("%w: connection broken at random", ErrCut)
	}
	return c.Conn.Write(b)
}

func (c *conn) Close() error {
	c.net.mu.Lock()
	delete(c.net.conns[c.link], c)
	c.net.mu.Unlock()
	return c.Conn.Close()
}
