package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeProducers, version 0: the active producers of each partition
// asked for that this node leads (KIP-664); a partition it does not lead
// answers NOT_LEADER_OR_FOLLOWER, one that does not exist
// UNKNOWN_TOPIC_OR_PARTITION. Unlike Kafka, LastTimestamp is when the
// node last appended the producer's batch, by its own clock, not the
// batch's max timestamp; -1 for a producer known only from the log.
// With an authorizer, each topic needs READ (TOPIC_AUTHORIZATION_FAILED).

func serveDescribeProducers(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range req.Topics {
		ot := kmsg.NewDescribeProducersResponseTopic()
		ot.Topic = rt.Topic
		refused := !s.may(ctx, acl.Read, acl.Topic, rt.Topic)
		for _, partition := range rt.Partitions {
			if refused {
				op := kmsg.NewDescribeProducersResponseTopicPartition()
				op.Partition, op.ErrorCode = partition, kerr.TopicAuthorizationFailed.Code
				ot.Partitions = append(ot.Partitions, op)
				continue
			}
			ot.Partitions = append(ot.Partitions, describeProducers(s, rt.Topic, partition))
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}

// describeProducers answers for one partition.
func describeProducers(s *Server, topic string, partition int32) kmsg.DescribeProducersResponseTopicPartition {
	op := kmsg.NewDescribeProducersResponseTopicPartition()
	op.Partition = partition
	states, err := s.broker.DescribeProducers(topic, partition)
	if err != nil {
		op.ErrorCode, op.ErrorMessage = s.broker.ErrorCode(err), errorMessage(err)
		return op
	}
	for _, st := range states {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = st.ProducerID, int32(st.ProducerEpoch), st.LastSequence
		ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = st.LastTimestamp, st.CoordinatorEpoch, st.CurrentTxnStartOffset
		op.ActiveProducers = append(op.ActiveProducers, ap)
	}
	return op
}
