package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// Metadata, versions 0–13. Each partition's leader, leader epoch,
// replicas and ISR are the node's: itself alone outside a cluster, the
// controller's committed metadata in one; a partition without a leader
// gets LEADER_NOT_AVAILABLE. A topic named twice is answered once. Topics
// are named; a request
// naming a topic by ID only (v10+) gets UNKNOWN_TOPIC_ID. An unknown topic
// is created when the request allows it (always before v4) and the node
// creates topics on first use, as Kafka's auto.create.topics.enable does:
// librdkafka relies on that. With an authorizer, a topic the principal
// may not DESCRIBE is left out of a request for every topic, and a named
// one gets TOPIC_AUTHORIZATION_FAILED, whether it exists or not, as does
// one the request would create on first use without CREATE on the
// cluster or on the topic. The
// authorized operations (v8+) are given when the request asks.

func serveMetadata(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	for _, b := range s.brokers(ctx) {
		rb := kmsg.NewMetadataResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, b.Host, b.Port
		if b.Rack != "" {
			rb.Rack = &b.Rack
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	resp.ClusterID = &s.cfg.ClusterID
	resp.ControllerID = s.cfg.NodeID
	topics := s.broker.Topics()
	byName := make(map[string]TopicMetadata, len(topics))
	for _, t := range topics {
		byName[t.Name] = t
	}
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = s.clusterAuthorizedOperations(ctx)
	}
	add := func(t TopicMetadata) {
		mt := s.topicMetadata(t)
		if req.IncludeTopicAuthorizedOperations {
			mt.AuthorizedOperations = s.authorizedOperations(ctx, acl.Topic, t.Name, topicOperations...)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	if req.Topics == nil { // all topics
		for _, t := range topics {
			if s.mayQuietly(ctx, acl.Describe, acl.Topic, t.Name) {
				add(t)
			}
		}
		return resp
	}
	asked := make(map[string]bool, len(req.Topics))
	for _, rt := range req.Topics {
		if rt.Topic != nil && asked[*rt.Topic] {
			continue // answered once, as Kafka does: a request of a million empty names gets one answer
		}
		if rt.Topic != nil {
			asked[*rt.Topic] = true
		}
		if rt.Topic == nil {
			missing := kmsg.NewMetadataResponseTopic()
			missing.TopicID = rt.TopicID
			missing.ErrorCode = kerr.UnknownTopicID.Code
			resp.Topics = append(resp.Topics, missing)
			continue
		}
		refuse := func() {
			refused := kmsg.NewMetadataResponseTopic()
			refused.Topic = rt.Topic
			refused.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, refused)
		}
		if !s.may(ctx, acl.Describe, acl.Topic, *rt.Topic) {
			refuse()
			continue
		}
		t, ok := byName[*rt.Topic]
		autoCreate := !ok && (req.AllowAutoTopicCreation || req.Version < 4)
		if autoCreate && !s.mayCreateTopic(ctx, *rt.Topic) {
			refuse()
			continue
		}
		if autoCreate && s.broker.AutoCreateTopic(ctx, *rt.Topic) == nil {
			t, ok = s.findTopic(*rt.Topic)
		}
		if !ok {
			missing := kmsg.NewMetadataResponseTopic()
			missing.Topic = rt.Topic
			missing.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, missing)
			continue
		}
		add(t)
	}
	return resp
}

// mayCreateTopic reports whether the request's principal may create a
// topic: CREATE on the cluster, or on the topic.
func (s *Server) mayCreateTopic(ctx context.Context, name string) bool {
	return s.mayQuietly(ctx, acl.Create, acl.Cluster, acl.ClusterName) || s.may(ctx, acl.Create, acl.Topic, name)
}

func (s *Server) topicMetadata(t TopicMetadata) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = &t.Name
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader, mp.LeaderEpoch, mp.Replicas, mp.ISR = p.Leader, p.LeaderEpoch, p.Replicas, p.ISR
		if p.Leader < 0 {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

func (s *Server) findTopic(name string) (TopicMetadata, bool) {
	for _, t := range s.broker.Topics() {
		if t.Name == name {
			return t, true
		}
	}
	return TopicMetadata{}, false
}

// topicName returns the topic a request names: by name, or by ID from
// the version that switched to IDs.
func (s *Server) topicName(byID bool, name string, id [16]byte) string {
	if byID {
		return s.broker.TopicName(id)
	}
	return name
}
