package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// In a cluster, the node's own producers write to partitions led
// elsewhere over the Kafka protocol, as a Kafka client would (DESIGN.md
// decision 5): here when this node leads, otherwise on the leader the
// controller's metadata names, again after a leader change.

// produceTo appends a batch to a partition wherever it is led, waiting as
// acksAll says, and returns the base offset and log append time (-1 under
// CreateTime). A write refused because leadership moved is sent again to
// the new leader once the metadata names it, while ctx lasts.
func (n *Node) produceTo(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (base, appendTime int64, err error) {
	p, err := n.partition(topic, partition)
	if err != nil {
		return -1, -1, err
	}
	for {
		changed := n.leadersChanged()
		err = p.checkLeader(-1)
		if err == nil {
			base, appendTime, err = p.produce(ctx, b, acksAll)
		} else if leader := n.partitionLeader(topic, partition); errors.Is(err, ErrNotLeader) && leader >= 0 && leader != n.nodeID() {
			base, appendTime, err = n.produceRemote(ctx, leader, topic, partition, b, acksAll)
		}
		if !errors.Is(err, ErrNotLeader) || changed == nil {
			return base, appendTime, err
		}
		select { // the leader moved, or is not known yet: wait for the metadata that says where
		case <-changed:
		case <-ctx.Done():
			return -1, -1, fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}
}

// produceRemote sends a batch to the node leading the partition.
func (n *Node) produceRemote(ctx context.Context, leader int32, topic string, partition int32, b []byte,
	acksAll bool) (base, appendTime int64, err error) {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, int32(defaultReplicationTimeout/time.Millisecond)
	if acksAll {
		req.Acks = -1
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, n.topicID(topic)
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, b
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	resp, err := n.peers.request(ctx, leader, req)
	if err != nil {
		return -1, -1, err
	}
	got := resp.(*kmsg.ProduceResponse).Topics
	if len(got) != 1 || len(got[0].Partitions) != 1 {
		return -1, -1, fmt.Errorf("node %d answered Produce for other partitions", leader)
	}
	gp := got[0].Partitions[0]
	if err := errorForCode(gp.ErrorCode, fmt.Sprintf("produce to %s-%d on node %d", topic, partition, leader)); err != nil {
		return -1, -1, err
	}
	return gp.BaseOffset, gp.LogAppendTime, nil
}

// partitionLeader returns the node the controller's metadata names as a
// partition's leader; -1 for none or outside a cluster.
func (n *Node) partitionLeader(topic string, partition int32) int32 {
	if n.controller == nil {
		return -1
	}
	t := n.controller.fsm.Metadata().Topics[topic]
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return -1
	}
	return t.Partitions[partition].Leader
}

// leadersChanged returns a channel closed at the next change of the
// cluster's metadata; nil outside a cluster, where leaders never change.
func (n *Node) leadersChanged() <-chan struct{} {
	if n.controller == nil {
		return nil
	}
	return n.controller.fsm.Changed()
}

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
		conn, err := kafka.DialVia(ctx, pc.n.cfg.Cluster.dial, addr, fmt.Sprintf("creek-node-%d", pc.n.nodeID()))
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
