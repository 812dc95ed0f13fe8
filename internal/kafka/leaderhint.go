package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// KIP-951: a Produce (v10+) or Fetch (v12+) partition answered
// NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH names the leader this node
// knows, and the response lists where that leader listens (Produce v10+,
// Fetch v16+), so a client moves there without a metadata refresh.

const (
	codeNotLeader         int16 = 6
	codeFencedLeaderEpoch int16 = 74
)

// leaderHint returns the leader to name for a partition answered with
// code, and whether to name one.
func (s *Server) leaderHint(code int16, topic string, partition int32) (leader, epoch int32, ok bool) {
	if code != codeNotLeader && code != codeFencedLeaderEpoch {
		return -1, -1, false
	}
	leader, epoch = s.broker.PartitionLeader(topic, partition)
	return leader, epoch, leader >= 0
}

// hintedBrokers returns the endpoints of the leaders named.
func (s *Server) hintedBrokers(leaders map[int32]bool) []BrokerMetadata {
	if len(leaders) == 0 {
		return nil
	}
	var out []BrokerMetadata
	for _, b := range s.broker.Brokers() {
		if leaders[b.NodeID] {
			out = append(out, b)
		}
	}
	return out
}

// hintProduceLeaders fills the leader hints of a Produce response.
func (s *Server) hintProduceLeaders(req *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) {
	leaders := map[int32]bool{}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		topic := s.topicName(req.Version >= 13, t.Topic, t.TopicID)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if leader, epoch, ok := s.leaderHint(p.ErrorCode, topic, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = leader, epoch
				leaders[leader] = true
			}
		}
	}
	for _, b := range s.hintedBrokers(leaders) {
		rb := kmsg.NewProduceResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, b.Host, b.Port
		if b.Rack != "" {
			rb.Rack = &b.Rack
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
}

// hintFetchLeaders fills the leader hints of a Fetch response.
func (s *Server) hintFetchLeaders(resp *kmsg.FetchResponse) {
	leaders := map[int32]bool{}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if leader, epoch, ok := s.leaderHint(p.ErrorCode, t.Topic, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = leader, epoch
				leaders[leader] = true
			}
		}
	}
	for _, b := range s.hintedBrokers(leaders) {
		rb := kmsg.NewFetchResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, b.Host, b.Port
		if b.Rack != "" {
			rb.Rack = &b.Rack
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
}
