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
// for the requests it sends them. A request takes an idle connection to
// its node, or dials one, and gives it back after: a slow request (a
// write that waits for its replicas, as an AddPartitionsToTxn or a
// WriteTxnMarkers does) never holds up another to the same node, such as
// the Metadata a node asks before it leads again (fence.go).
type peerConns struct {
	n *Node

	mu     sync.Mutex
	idle   map[int32][]*kafka.Conn // by node, at most maxIdlePeerConns each
	open   map[*kafka.Conn]struct{}
	closed bool
}

// maxIdlePeerConns bounds the idle connections kept to one node; more
// are dialled while requests overlap, and closed after.
const maxIdlePeerConns = 4

func newPeerConns(n *Node) *peerConns {
	return &peerConns{n: n, idle: map[int32][]*kafka.Conn{}, open: map[*kafka.Conn]struct{}{}}
}

// request sends req to node and returns its response.
func (pc *peerConns) request(ctx context.Context, node int32, req kmsg.Request) (kmsg.Response, error) {
	conn, err := pc.take(ctx, node)
	if err != nil {
		return nil, err
	}
	resp, err := conn.Request(ctx, req)
	pc.give(node, conn, err == nil)
	return resp, err
}

// take returns an idle connection to node, or a new one.
func (pc *peerConns) take(ctx context.Context, node int32) (*kafka.Conn, error) {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return nil, ErrClosed
	}
	if idle := pc.idle[node]; len(idle) > 0 {
		conn := idle[len(idle)-1]
		pc.idle[node] = idle[:len(idle)-1]
		pc.mu.Unlock()
		return conn, nil
	}
	pc.mu.Unlock()
	addr := pc.n.memberKafkaAddr(node)
	if addr == "" {
		return nil, fmt.Errorf("%w: node %d is not a live member", ErrNotLeader, node)
	}
	conn, err := pc.n.dialNode(ctx, addr, fmt.Sprintf("creek-node-%d", pc.n.nodeID()))
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.closed {
		conn.Close()
		return nil, ErrClosed
	}
	pc.open[conn] = struct{}{}
	return conn, nil
}

// give takes back a connection a request used: kept idle if it is
// healthy and there is room, else closed.
func (pc *peerConns) give(node int32, conn *kafka.Conn, healthy bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if healthy && !pc.closed && len(pc.idle[node]) < maxIdlePeerConns {
		pc.idle[node] = append(pc.idle[node], conn)
		return
	}
	delete(pc.open, conn)
	conn.Close()
}

// close closes every connection, which fails the requests on them;
// requests after fail with ErrClosed.
func (pc *peerConns) close() {
	pc.mu.Lock()
	pc.closed = true
	open := pc.open
	pc.open, pc.idle = nil, nil
	pc.mu.Unlock()
	for conn := range open {
		conn.Close()
	}
}
