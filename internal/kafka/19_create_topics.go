package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// CreateTopics, versions 0–7. Partition count and replication factor -1
// take the node's defaults; 0 or below -1 get INVALID_PARTITIONS and
// INVALID_REPLICATION_FACTOR. Replicas assigned by hand (kafka-topics
// --replica-assignment) come with both -1, as in Kafka (INVALID_REQUEST
// otherwise), and name every partition from 0 once
// (INVALID_REPLICA_ASSIGNMENT otherwise). Version 5 and later return the
// topic's configs in force.
// With an authorizer, each topic needs CREATE on the cluster or on the
// topic (TOPIC_AUTHORIZATION_FAILED), and its configs, number of
// partitions and replication factor are reported only with
// DESCRIBE_CONFIGS on it (TOPIC_AUTHORIZATION_FAILED as its config error
// code otherwise, the topic created all the same), as Kafka's controller
// reports them.

func serveCreateTopics(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewCreateTopicsResponseTopic()
		ot.Topic = rt.Topic
		configs := map[string]string{}
		for _, c := range rt.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		assignment, code := replicaAssignment(rt)
		if !s.mayCreateTopic(ctx, rt.Topic) {
			code = kerr.TopicAuthorizationFailed.Code
		}
		if code == 0 {
			code = countsCode(rt)
		}
		if code != 0 {
			ot.ErrorCode = code
		} else if err := s.broker.CreateTopic(ctx, rt.Topic, rt.NumPartitions, rt.ReplicationFactor, assignment,
			configs, req.ValidateOnly); err != nil {
			ot.ErrorCode = s.broker.ErrorCode(err)
			ot.ErrorMessage = errorMessage(err)
		}
		switch {
		case ot.ErrorCode != 0:
		case !s.may(ctx, acl.DescribeConfigs, acl.Topic, rt.Topic):
			ot.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
			if !req.ValidateOnly {
				s.describeCreatedTopicID(&ot)
			}
		case !req.ValidateOnly:
			s.describeCreatedTopic(&ot)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}

// countsCode refuses a partition count or replication factor that is
// neither positive nor -1 (the default), as Kafka does.
func countsCode(rt kmsg.CreateTopicsRequestTopic) int16 {
	switch {
	case rt.NumPartitions == 0 || rt.NumPartitions < -1:
		return kerr.InvalidPartitions.Code
	case rt.ReplicationFactor == 0 || rt.ReplicationFactor < -1:
		return kerr.InvalidReplicationFactor.Code
	}
	return 0
}

// replicaAssignment returns a topic's replicas assigned by hand, by
// partition, or the error code that refuses them.
func replicaAssignment(rt kmsg.CreateTopicsRequestTopic) ([][]int32, int16) {
	if len(rt.ReplicaAssignment) == 0 {
		return nil, 0
	}
	if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
		return nil, kerr.InvalidRequest.Code
	}
	out := make([][]int32, len(rt.ReplicaAssignment))
	for _, a := range rt.ReplicaAssignment {
		if a.Partition < 0 || int(a.Partition) >= len(out) || out[a.Partition] != nil || len(a.Replicas) == 0 {
			return nil, kerr.InvalidReplicaAssignment.Code
		}
		out[a.Partition] = a.Replicas
	}
	return out, 0
}

// describeCreatedTopic fills what version 5 and later report of a new
// topic.
func (s *Server) describeCreatedTopic(ot *kmsg.CreateTopicsResponseTopic) {
	if t, ok := s.describeCreatedTopicID(ot); ok {
		ot.NumPartitions, ot.ReplicationFactor = int32(len(t.Partitions)), 1
		if len(t.Partitions) > 0 {
			ot.ReplicationFactor = int16(len(t.Partitions[0].Replicas))
		}
	}
	configs, explicit, err := s.broker.TopicConfigs(ot.Topic)
	if err != nil {
		return
	}
	for _, name := range sortedKeys(configs) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		value := configs[name]
		c.Name, c.Value, c.Source = name, &value, int8(configSource(explicit[name]))
		ot.Configs = append(ot.Configs, c)
	}
}

// describeCreatedTopicID fills a new topic's ID, what is reported of it
// without DESCRIBE_CONFIGS, and returns the topic.
func (s *Server) describeCreatedTopicID(ot *kmsg.CreateTopicsResponseTopic) (TopicMetadata, bool) {
	for _, t := range s.broker.Topics() {
		if t.Name == ot.Topic {
			ot.TopicID = t.ID
			return t, true
		}
	}
	return TopicMetadata{}, false
}

func errorMessage(err error) *string {
	msg := err.Error()
	return &msg
}
