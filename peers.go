// Connections to other nodes' Kafka listeners, for forwarded requests.

package creek

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// peerConns are this node's connections to other nodes' Kafka listeners,
// for requests it forwards: one per node, one request at a time.
type peerConns struct {
	n *Node

	mu     sync.Mutex
	conns  map[int32]*peerConn
	closed bool
}

// peerConn serialises the requests to one node over one connection,
// redialling after a failure.
type peerConn struct {
	mu   sync.Mutex
	conn *kafka.Conn
}

func newPeerConns(n *Node) *peerConns { return &peerConns{n: n, conns: map[int32]*peerConn{}} }

// request sends req to node and returns its response.
func (pc *peerConns) request(ctx context.Context, node int32, req kmsg.Request) (kmsg.Response, error) {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return nil, ErrClosed
	}
	c := pc.conns[node]
	if c == nil {
		c = &peerConn{}
		pc.conns[node] = c
	}
	pc.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		addr := pc.n.memberKafkaAddr(node)
		if addr == "" {
			return nil, fmt.Errorf("%w: node %d is not a live member", ErrNotLeader, node)
		}
		conn, err := kafka.DialVia(ctx, pc.n.cfg.Cluster.Dialer.DialContext, addr, fmt.Sprintf("creek-node-%d", pc.n.nodeID()))
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	resp, err := c.conn.Request(ctx, req)
	if err != nil {
		c.conn.Close()
		c.conn = nil
	}
	return resp, err
}

// close closes every connection; requests after fail with ErrClosed.
func (pc *peerConns) close() {
	pc.mu.Lock()
	pc.closed = true
	conns := pc.conns
	pc.conns = nil
	pc.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		if c.conn != nil {
			c.conn.Close()
			c.conn = nil
		}
		c.mu.Unlock()
	}
}
