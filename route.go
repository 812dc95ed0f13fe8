// Routing: produce and fetch at the partition's leader, here or on another
// node.

package creek

import (
	"context"
	"errors"
	"fmt"
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
	err = n.whileLeaderMoves(ctx, p, func() error {
		acked, err := n.appendOnce(ctx, p, b, acksAll, fromClient, "")
		if err == nil {
			base, appendTime, err = acked()
		}
		return err
	})
	return base, appendTime, err
}

// appendTo is produceTo in two steps, for a Producer that appends its next
// batch while this one waits, and for batches it built (builtHere): it returns once the batch is appended (here
// when this node leads; at a leader elsewhere once it has answered), and
// acked then waits as acksAll says and returns the base offset and log
// append time. An acked that fails with ErrNotLeader leaves the batch to
// be sent again.
func (n *Node) appendTo(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (acked func() (base, appendTime int64, err error), err error) {
	return n.appendAs(ctx, "", topic, partition, b, acksAll)
}

// appendAs is appendTo for the producer of a transactional ID, "" for
// none: a leader elsewhere is sent the ID with the batch, to verify a
// transactional batch with the transaction's coordinator.
func (n *Node) appendAs(ctx context.Context, transactionalID, topic string, partition int32, b []byte, acksAll bool) (acked func() (base, appendTime int64, err error), err error) {
	p, err := n.partition(topic, partition)
	if err != nil {
		return nil, err
	}
	err = n.whileLeaderMoves(ctx, p, func() (err error) {
		acked, err = n.appendOnce(ctx, p, b, acksAll, builtHere, transactionalID)
		return err
	})
	return acked, err
}

// whileLeaderMoves runs attempt, and again each time it fails with
// ErrNotLeader and then the metadata or the partition's role changes, or
// leaderRetryInterval passes, while ctx lasts: the leader moved, or was not
// known yet, or the node the metadata names has not taken up the role yet
// (nothing here announces when it does, so attempt runs again after a
// while, as a Kafka client retries after retry.backoff.ms).
func (n *Node) whileLeaderMoves(ctx context.Context, p *partition, attempt func() error) error {
	for {
		changed, roleChanged := n.leadersChanged(), p.arrival()
		err := attempt()
		if !errors.Is(err, ErrNotLeader) || changed == nil {
			return err
		}
		retry := time.NewTimer(leaderRetryInterval)
		select { // wait for the metadata that says where
		case <-changed:
		case <-roleChanged: // this node took up the role the metadata gave it
		case <-retry.C:
		case <-ctx.Done():
			retry.Stop()
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		retry.Stop()
	}
}

// leaderRetryInterval is how long whileLeaderMoves waits, at most, before
// it tries a refused attempt again: Kafka's retry.backoff.ms.
const leaderRetryInterval = 100 * time.Millisecond

// appendOnce appends a batch here if this node leads the partition, or at
// the leader the metadata names, and returns what waits for its
// acknowledgement.
func (n *Node) appendOnce(ctx context.Context, p *partition, b []byte, acksAll bool, origin batchOrigin, transactionalID string) (acked func() (base, appendTime int64, err error), err error) {
	err = p.checkLeader(-1)
	if err == nil {
		base, appendTime, wait, err := p.appendBatch(b, acksAll, origin)
		if err != nil {
			return nil, err
		}
		return func() (int64, int64, error) {
			return base, appendTime, wait(ctx, defaultReplicationTimeout)
		}, nil
	}
	if leader := n.partitionLeader(p.topic, p.index); errors.Is(err, ErrNotLeader) && leader >= 0 && leader != n.nodeID() {
		base, appendTime, err := n.produceRemote(ctx, leader, p.topic, p.index, b, acksAll, transactionalID)
		if err != nil {
			return nil, err
		}
		return func() (int64, int64, error) { return base, appendTime, nil }, nil
	}
	return nil, err
}

// produceRemote sends a batch to the node leading the partition.
func (n *Node) produceRemote(ctx context.Context, leader int32, topic string, partition int32, b []byte,
	acksAll bool, transactionalID string) (base, appendTime int64, err error) {
	req := kmsg.NewPtrProduceRequest()
	if transactionalID != "" {
		req.TransactionID = &transactionalID
	}
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

// localListOffset returns, for a partition this node leads, the offset
// for a timestamp in milliseconds (the first record at or after it), or
// for -1 (the high watermark; the last stable offset for ReadCommitted)
// or -2 (the log start offset), with the timestamp of the record found;
// for a timestamp after every record a reader with isolation may read,
// offset and timestamp -1, as Kafka answers.
func (n *Node) localListOffset(topic string, partition int32, timestamp int64, isolation IsolationLevel) (int64, int64, error) {
	p, err := n.partition(topic, partition)
	if err != nil {
		return -1, -1, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.checkLeaderLocked(-1); err != nil {
		return -1, -1, err
	}
	switch timestamp {
	case -1:
		return p.readLimitLocked(isolation), -1, nil
	case -2:
		return p.log.StartOffset(), -1, nil
	}
	offset, ok, err := p.log.OffsetForTime(timestamp)
	if err != nil || !ok || offset >= p.readLimitLocked(isolation) {
		return -1, -1, err
	}
	found, err := p.log.Read(nil, offset, 1)
	if err != nil {
		return -1, -1, err
	}
	records, err := decodeBatches(found, offset)
	if err != nil || len(records) == 0 {
		return offset, -1, err
	}
	return offset, records[0].Timestamp.UnixMilli(), nil
}

// listOffset is localListOffset wherever the partition is led: here, or
// with a ListOffsets request to its leader. It returns the offset only.
func (n *Node) listOffset(ctx context.Context, topic string, partition int32, isolation IsolationLevel, timestamp int64) (int64, error) {
	offset, _, err := n.localListOffset(topic, partition, timestamp, isolation)
	leader := n.partitionLeader(topic, partition)
	if !errors.Is(err, ErrNotLeader) || leader < 0 || leader == n.nodeID() {
		return offset, err
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = int8(isolation)
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = partition, timestamp
	rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
	req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
	resp, err := n.peers.request(ctx, leader, req)
	if err != nil {
		return -1, err
	}
	got := resp.(*kmsg.ListOffsetsResponse).Topics
	if len(got) != 1 || len(got[0].Partitions) != 1 {
		return -1, fmt.Errorf("node %d answered ListOffsets for other partitions", leader)
	}
	gp := got[0].Partitions[0]
	return gp.Offset, errorForCode(gp.ErrorCode, fmt.Sprintf("list offsets of %s-%d on node %d", topic, partition, leader))
}

// fetchFrom reads a partition's batches from offset on, up to maxBytes
// but always one whole batch, below the high watermark (ReadCommitted:
// the last stable offset, with the aborted transactions the batches
// meet), without waiting: from this node when it leads the partition,
// appended to dst, otherwise from its leader, in the bytes of its answer.
// It reports whether it read remotely: the caller then has no local
// arrival to wait on.
func (n *Node) fetchFrom(ctx context.Context, p *partition, dst []byte, offset int64, maxBytes int, isolation IsolationLevel) (
	b []byte, aborted []kafka.AbortedTxn, remote bool, err error) {
	err = p.checkLeader(-1)
	leader := n.partitionLeader(p.topic, p.index)
	if !errors.Is(err, ErrNotLeader) || leader < 0 || leader == n.nodeID() {
		if err != nil {
			return nil, nil, false, err
		}
		b, aborted, err = p.fetchIsolated(ctx, dst, offset, FetchOptions{MaxBytes: maxBytes, isolation: isolation})
		return b, aborted, false, err
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 0, 1, int32(maxBytes)
	req.IsolationLevel = int8(isolation)
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = p.topic, n.topicID(p.topic)
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.index, offset, int32(maxBytes)
	rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
	req.Topics = []kmsg.FetchRequestTopic{rt}
	resp, err := n.peers.request(ctx, leader, req)
	if err != nil {
		return nil, nil, true, err
	}
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 {
		return nil, nil, true, errorForCode(fr.ErrorCode, fmt.Sprintf("fetch %s-%d from node %d", p.topic, p.index, leader))
	}
	if len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 {
		return nil, nil, true, fmt.Errorf("node %d answered Fetch for other partitions", leader)
	}
	gp := fr.Topics[0].Partitions[0]
	if err := errorForCode(gp.ErrorCode, fmt.Sprintf("fetch %s-%d from node %d", p.topic, p.index, leader)); err != nil {
		return nil, nil, true, err
	}
	for _, a := range gp.AbortedTransactions {
		aborted = append(aborted, kafka.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
	}
	return gp.RecordBatches, aborted, true, nil
}
