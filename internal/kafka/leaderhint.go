package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KIP-951: a Produce (v10+) or Fetch (v12+) partition answered
// NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH names the leader this node
// knows, and the response lists where that leader listens (Produce v10+,
// Fetch v16+), so a client moves there without a metadata refresh.

// leaderHint returns the leader to name for a partition answered with
// code, and whether to name one.
func (s *Server) leaderHint(code int16, topic string, partition int32) (leader, epoch int32, ok bool) {
	if code != kerr.NotLeaderForPartition.Code && code != kerr.FencedLeaderEpoch.Code {
		return -1, -1, false
	}
	leader, epoch = s.broker.PartitionLeader(topic, partition)
	return leader, epoch, leader >= 0
}

// hintedBrokers returns the endpoints of the leaders named, as Produce
// lists them; Fetch's entries have the same fields, and convert.
func (s *Server) hintedBrokers(ctx context.Context, leaders map[int32]bool) []kmsg.ProduceResponseBroker {
	var out []kmsg.ProduceResponseBroker
	for _, b := range s.broker.Brokers(listenerFrom(ctx).name()) {
		if !leaders[b.NodeID] {
			continue
		}
		rb := kmsg.NewProduceResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, b.Host, b.Port
		if b.Rack != "" {
			rb.Rack = &b.Rack
		}
		out = append(out, rb)
	}
	return out
}

// hintProduceLeaders fills the leader hints of a Produce response.
func (s *Server) hintProduceLeaders(ctx context.Context, req *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) {
	var leaders map[int32]bool // made on the first hint: Fetch is a hot path
	for i := range resp.Topics {
		t := &resp.Topics[i]
		topic := s.topicName(req.Version >= 13, t.Topic, t.TopicID)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if leader, epoch, ok := s.leaderHint(p.ErrorCode, topic, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = leader, epoch
				if leaders == nil {
					leaders = map[int32]bool{}
				}
				leaders[leader] = true
			}
		}
	}
	if len(leaders) > 0 {
		resp.Brokers = s.hintedBrokers(ctx, leaders)
	}
}

// hintFetchLeaders fills the leader hints of a Fetch response.
func (s *Server) hintFetchLeaders(ctx context.Context, resp *kmsg.FetchResponse) {
	var leaders map[int32]bool // made on the first hint: Fetch is a hot path
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if leader, epoch, ok := s.leaderHint(p.ErrorCode, t.Topic, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = leader, epoch
				if leaders == nil {
					leaders = map[int32]bool{}
				}
				leaders[leader] = true
			}
		}
	}
	if len(leaders) == 0 {
		return
	}
	for _, b := range s.hintedBrokers(ctx, leaders) {
		resp.Brokers = append(resp.Brokers, kmsg.FetchResponseBroker(b))
	}
}
