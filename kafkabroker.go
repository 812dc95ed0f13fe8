// The Kafka listener's broker: produce, fetch, metadata and offsets from a
// node.

package creek

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/kafka"
)

// kafkaBroker serves the Kafka listener's requests from a node.
type kafkaBroker struct{ n *Node }

var _ kafka.Broker = kafkaBroker{}

func (b kafkaBroker) Topics() []kafka.TopicMetadata {
	infos := b.n.Topics()
	out := make([]kafka.TopicMetadata, len(infos))
	for i, t := range infos {
		out[i] = kafka.TopicMetadata{Name: t.Name, ID: t.ID, Internal: t.Internal,
			Partitions: b.n.leadership(t.Name, len(t.Partitions))}
	}
	return out
}

func (b kafkaBroker) TopicName(id [16]byte) string { return b.n.topicName(id) }

func (b kafkaBroker) PartitionLeader(topic string, partition int32) (int32, int32) {
	if b.n.controller == nil || b.n.fenced.Load() { // a fenced node's view may be stale
		return -1, -1
	}
	t := b.n.controller.fsm.Metadata().Topics[topic]
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return -1, -1
	}
	return t.Partitions[partition].Leader, t.Partitions[partition].LeaderEpoch
}

func (b kafkaBroker) Brokers(listener string) []kafka.BrokerMetadata {
	var out []kafka.BrokerMetadata
	for _, m := range b.n.advertisedMembers() {
		addr, ok := m.Listeners[listener]
		if m.Listeners == nil { // gossiped by a node from before listeners had names
			addr, ok = m.KafkaAddr, true
		}
		if !ok {
			continue // a node without the listener is not listed on it, as Kafka lists them
		}
		host, port, err := net.SplitHostPort(addr)
		p, perr := strconv.ParseInt(port, 10, 32)
		if err != nil || perr != nil {
			continue // a member whose address does not parse is not reachable anyway
		}
		out = append(out, kafka.BrokerMetadata{NodeID: m.NodeID, Host: host, Port: int32(p), Rack: m.Rack})
	}
	return out
}

func (b kafkaBroker) AutoCreateTopic(ctx context.Context, name string) error {
	return b.n.autoCreate(ctx, name)
}

func (b kafkaBroker) Produce(ctx context.Context, topic string, partition int32, batch []byte, acks int16,
	timeout time.Duration, tx kafka.Txn) (kafka.ProduceResult, func() error, error) {
	p, err := b.n.partitionForProduce(ctx, topic, partition)
	if err != nil {
		return kafka.ProduceResult{}, nil, err
	}
	if err := b.n.verifyTxnBatch(ctx, p, batch, tx); err != nil {
		return kafka.ProduceResult{}, nil, err
	}
	base, appendTime, acked, err := p.appendBatch(batch, acks == -1, fromClient)
	if err != nil {
		return kafka.ProduceResult{}, nil, err
	}
	return kafka.ProduceResult{BaseOffset: base, LogAppendTime: appendTime, LogStartOffset: p.log.StartOffset()},
		func() error { return acked(ctx, timeout) }, nil
}

func (b kafkaBroker) Fetch(dst []byte, f kafka.FetchPartition) (kafka.FetchResult, error) {
	res := kafka.FetchResult{HighWatermark: -1, LogStartOffset: -1, LastStableOffset: -1}
	p, err := b.n.partition(f.Topic, f.Partition)
	if err == nil {
		err = p.checkLeader(f.CurrentLeaderEpoch)
	}
	if err != nil {
		return res, err
	}
	isolation := IsolationLevel(f.Isolation)
	if f.ReplicaID >= 0 {
		isolation = ReadUncommitted // a follower copies every batch
	}
	p.mu.RLock()
	res.HighWatermark, res.LogStartOffset = p.highWatermarkLocked(), p.log.StartOffset()
	res.LastStableOffset = p.lastStableLocked()
	p.mu.RUnlock()
	if f.ReplicaID >= 0 {
		// A follower's fetch counts as its log end only where its log
		// matches the leader's: otherwise it would join the ISR, and count
		// toward the high watermark, with records the leader does not have.
		var err error
		res.Diverged, res.DivergingEpoch, res.DivergingEndOffset, err = p.divergence(f.LastFetchedEpoch, f.Offset)
		if err != nil || res.Diverged {
			return res, err
		}
		if expand, isr := p.replicaFetched(f.ReplicaID, f.Offset); expand {
			b.n.replicas.requestISR(p, isr)
		}
	}
	if f.MaxBytes <= 0 {
		if isolation == ReadCommitted {
			res.Aborted = []kafka.AbortedTxn{} // a list, empty, as Kafka answers read_committed
		}
		return res, nil
	}
	res.Records, res.Aborted, err = p.fetchIsolated(context.Background(), dst, f.Offset,
		FetchOptions{MaxBytes: f.MaxBytes, replica: f.ReplicaID >= 0, isolation: isolation})
	return res, err
}

func (b kafkaBroker) Arrival(topic string, partition int32) (<-chan struct{}, error) {
	p, err := b.n.partition(topic, partition)
	if err != nil {
		return nil, err
	}
	return p.arrival(), nil
}

// ListOffset answers as Kafka does: for a timestamp after every record
// (read_committed: every record below the last stable offset), offset
// and timestamp -1.
func (b kafkaBroker) ListOffset(topic string, partition int32, timestamp int64, isolation int8) (int64, int64, error) {
	return b.n.localListOffset(topic, partition, timestamp, IsolationLevel(isolation))
}

func (b kafkaBroker) EndOffsetForEpoch(topic string, partition, currentLeaderEpoch, epoch int32) (int32, int64, error) {
	p, err := b.n.partition(topic, partition)
	if err != nil {
		return -1, -1, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.checkLeaderLocked(currentLeaderEpoch); err != nil {
		return -1, -1, err
	}
	if epoch < 0 {
		return -1, -1, fmt.Errorf("%w: leader epoch %d", ErrUnknownLeaderEpoch, epoch)
	}
	gotEpoch, end := p.epochs.endOffsetFor(epoch, p.log.EndOffset())
	return gotEpoch, end, nil
}

func (b kafkaBroker) AlterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error {
	if b.n.controller == nil {
		return ErrNotController
	}
	return b.n.controller.propose(ctx, controller.Command{ChangeISR: &controller.ChangeISR{Topic: topic,
		Partition: partition, LeaderEpoch: leaderEpoch, ISR: isr}})
}

func (b kafkaBroker) ErrorCode(err error) int16 {
	code := KafkaCode(err)
	if code == kerr.UnknownServerError.Code {
		b.n.log.Warn("answering a Kafka request with UNKNOWN_SERVER_ERROR", "err", err)
	}
	return code
}

func (b kafkaBroker) InitProducerID(ctx context.Context) (int64, int16, error) {
	return b.n.InitProducerID(ctx)
}

func (b kafkaBroker) Groups() *group.Coordinator { return b.n.groups }

func (b kafkaBroker) GroupCoordinator(ctx context.Context, group string) (int32, error) {
	return b.n.groupCoordinator(ctx, group)
}

func (b kafkaBroker) OwnsGroup(group string) error { return b.n.ownsGroup(group) }

func (b kafkaBroker) CommitOffsets(ctx context.Context, groupID string, member group.Identity, offsets map[kafka.TopicPartition]kafka.Offset) error {
	return b.n.commitLocalOffsets(ctx, groupID, member, committedOffsets(offsets))
}

// committedOffsets converts the offsets of a commit request.
func committedOffsets(offsets map[kafka.TopicPartition]kafka.Offset) map[TopicPartition]CommittedOffset {
	converted := make(map[TopicPartition]CommittedOffset, len(offsets))
	for tp, o := range offsets {
		converted[TopicPartition(tp)] = CommittedOffset{Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata}
	}
	return converted
}

func (b kafkaBroker) CommittedOffsets(groupID string) map[kafka.TopicPartition]kafka.Offset {
	committed := b.n.CommittedOffsets(groupID)
	out := make(map[kafka.TopicPartition]kafka.Offset, len(committed))
	for tp, c := range committed {
		out[kafka.TopicPartition(tp)] = kafka.Offset{Offset: c.Offset, LeaderEpoch: c.LeaderEpoch, Metadata: c.Metadata}
	}
	return out
}
