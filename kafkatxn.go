// The Kafka listener's view of the transaction coordinator.

package creek

import (
	"context"
	"time"

	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txn"
	"github.com/creekmq/creek/internal/txnlog"
)

func (b kafkaBroker) TxnCoordinator(ctx context.Context, id string) (int32, error) {
	return b.n.txnCoordinator(ctx, id)
}

func (b kafkaBroker) InitTxnProducer(ctx context.Context, id string, timeout time.Duration, producerID int64, epoch int16) (int64, int16, error) {
	return b.n.initTxnProducer(ctx, id, timeout, producerID, epoch)
}

func (b kafkaBroker) AddPartitionsToTxn(ctx context.Context, id string, producerID int64, epoch int16, partitions []kafka.TopicPartition) (map[kafka.TopicPartition]error, error) {
	unknown, err := b.n.addPartitionsToTxn(ctx, id, producerID, epoch, topicPartitions(partitions))
	out := make(map[kafka.TopicPartition]error, len(unknown))
	for tp, e := range unknown {
		out[kafka.TopicPartition(tp)] = e
	}
	return out, err
}

func (b kafkaBroker) VerifyTxn(ctx context.Context, id string, producerID int64, epoch int16, partitions []kafka.TopicPartition) error {
	return b.n.verifyTxn(ctx, id, producerID, epoch, topicPartitions(partitions))
}

func (b kafkaBroker) AddOffsetsToTxn(ctx context.Context, id string, producerID int64, epoch int16, group string) error {
	return b.n.addOffsetsToTxn(ctx, id, producerID, epoch, group)
}

func (b kafkaBroker) EndTxn(ctx context.Context, id string, producerID int64, epoch int16, commit bool, version int16) (int64, int16, error) {
	return b.n.endTxn(ctx, id, producerID, epoch, commit, txn.Version(version))
}

func (b kafkaBroker) WriteTxnMarker(ctx context.Context, tp kafka.TopicPartition, m txnlog.Marker) error {
	return b.n.writeLocalMarker(ctx, TopicPartition(tp), m)
}

func (b kafkaBroker) TxnCommitOffsets(ctx context.Context, groupID string, producerID int64, epoch int16, member group.Identity,
	offsets map[kafka.TopicPartition]kafka.Offset, tx kafka.Txn) error {
	return b.n.commitTxnOffsets(ctx, groupID, producerID, epoch, member, committedOffsets(offsets), tx)
}

func (b kafkaBroker) UnstableOffset(groupID string, tp kafka.TopicPartition) bool {
	return b.n.unstableOffset(groupID, TopicPartition(tp))
}

func (b kafkaBroker) DescribeTxn(ctx context.Context, id string) (txn.Metadata, error) {
	return b.n.describeTxn(ctx, id)
}

func (b kafkaBroker) ListTxns() []txn.Metadata { return b.n.listTxns() }

func (b kafkaBroker) DescribeProducers(topic string, partition int32) ([]kafka.ProducerState, error) {
	states, err := b.n.DescribeProducers(topic, partition)
	out := make([]kafka.ProducerState, len(states))
	for i, s := range states {
		out[i] = kafka.ProducerState(s)
	}
	return out, err
}

func topicPartitions(in []kafka.TopicPartition) []TopicPartition {
	out := make([]TopicPartition, len(in))
	for i, tp := range in {
		out[i] = TopicPartition(tp)
	}
	return out
}
