package creek

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txn"
)

// TestTxnVerifiesAPartitionsFirstBatch: a transactional batch that
// begins its transaction in a partition is appended only if the
// coordinator has the partition in the producer's ongoing transaction,
// so one arriving late, after its transaction was aborted, cannot leave
// a transaction open that nobody will end (the last stable offset would
// stay behind it for good). It gets TRANSACTION_ABORTABLE, or
// INVALID_TXN_STATE before Produce v11, as Kafka answers.
func TestTxnVerifiesAPartitionsFirstBatch(t *testing.T) {
	n, conn, pid, epoch := txnOverKafka(t, Config{TransactionVersion: 1})
	ctx := t.Context()
	seq := int32(0)
	produce := func() int16 {
		t.Helper()
		code := sendTxnBatch(t, conn, n, "tx", pid, epoch, seq, 13)
		if code == 0 {
			seq++
		}
		return code
	}

	assert.Equal(t, kerr.TransactionAbortable.Code, produce(), "the partition is not in a transaction yet")
	assert.Equal(t, kerr.InvalidTxnState.Code, sendTxnBatch(t, conn, n, "tx", pid, epoch, seq, 10),
		"what a client before Produce v11, which does not know TRANSACTION_ABORTABLE, gets")
	_, err := n.addPartitionsToTxn(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	require.NoError(t, err)
	assert.Zero(t, produce())
	assert.Zero(t, produce(), "the transaction is open in the partition: no need to ask again")
	require.NoError(t, endTxnV1(ctx, n, "tx", pid, epoch, false))
	awaitTxnState(t, n, "tx", txn.CompleteAbort)

	assert.Equal(t, kerr.TransactionAbortable.Code, produce(), "a late batch of the aborted transaction")
	assert.Equal(t, kerr.InvalidTxnState.Code, sendTxnBatch(t, conn, n, "tx", pid, epoch, seq, 10))
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	p.mu.RLock()
	defer p.mu.RUnlock()
	assert.Equal(t, p.log.EndOffset(), p.lastStableLocked(), "no transaction is left open")
}

// TestTxnVersion2AddsAPartitionAtItsFirstBatch: at transaction version
// 2, the first batch of a transaction in a partition (Produce v12+) adds
// the partition to the transaction, which an earlier Produce version only
// verifies; the end bumps the epoch, so a late batch of the transaction
// ended is refused, and the next transaction goes on at the new epoch.
func TestTxnVersion2AddsAPartitionAtItsFirstBatch(t *testing.T) {
	n, conn, pid, epoch := txnOverKafka(t, Config{})
	ctx := t.Context()

	assert.Equal(t, kerr.TransactionAbortable.Code, sendTxnBatch(t, conn, n, "tx", pid, epoch, 0, 11), "v11 only verifies")
	require.Zero(t, sendTxnBatch(t, conn, n, "tx", pid, epoch, 0, 12), "v12 adds the partition")
	m, err := n.describeTxn(ctx, "tx")
	require.NoError(t, err)
	assert.Equal(t, []txn.Partition{{Topic: "t", Partition: 0}}, m.SortedPartitions())

	next, nextEpoch, err := n.endTxn(ctx, "tx", pid, epoch, true, txn.V2)
	require.NoError(t, err)
	assert.Equal(t, [2]any{pid, epoch + 1}, [2]any{next, nextEpoch})
	awaitTxnState(t, n, "tx", txn.CompleteCommit)
	assert.Equal(t, kerr.InvalidProducerEpoch.Code, sendTxnBatch(t, conn, n, "tx", pid, epoch, 1, 13),
		"a late batch of the transaction ended")
	require.Zero(t, sendTxnBatch(t, conn, n, "tx", pid, nextEpoch, 0, 13), "the next transaction, at the new epoch")
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	p.mu.RLock()
	assert.Equal(t, int64(2), p.lastStableLocked(), "the first batch and its marker are stable, the next is not")
	p.mu.RUnlock()
}

// sendTxnBatch sends txnBatch to t-0 over conn at Produce version, and
// returns the partition's error code.
func sendTxnBatch(t *testing.T, conn *kafka.Conn, n *Node, id string, pid int64, epoch int16, seq int32, version int16) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version = version
	req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = "t", n.topicID("t") // by name up to v12, by ID from v13
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = txnBatch(t, pid, epoch, seq, 1)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := conn.RequestAt(t.Context(), req, version)
	require.NoError(t, err)
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// TestTxnOffsetCommitJoinsTheTransaction: offsets committed in a
// transaction whose coordinator does not have the group's partition in it
// are refused below TxnOffsetCommit v5 (its marker would never be written
// there, and they would stay pending for good), and add the partition
// from v5 at transaction version 2.
func TestTxnOffsetCommitJoinsTheTransaction(t *testing.T) {
	n, conn, pid, epoch := txnOverKafka(t, Config{OffsetsTopicPartitions: 1})
	ctx := t.Context()
	commit := func(version int16) int16 {
		t.Helper()
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = "tx", "g", pid, epoch, -1
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Offset = 5
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := conn.RequestAt(ctx, req, version)
		require.NoError(t, err)
		return resp.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	assert.Equal(t, kerr.InvalidTxnState.Code, commit(3), "without AddOffsetsToTxn")
	assert.Equal(t, kerr.TransactionAbortable.Code, commit(4), "v4 only verifies, and knows TRANSACTION_ABORTABLE")
	assert.False(t, n.unstableOffset("g", TopicPartition{"t", 0}), "nothing written")
	require.Zero(t, commit(5), "v5 adds the group's partition")
	assert.True(t, n.unstableOffset("g", TopicPartition{"t", 0}))
	m, err := n.describeTxn(ctx, "tx")
	require.NoError(t, err)
	assert.Equal(t, []txn.Partition{{Topic: ConsumerOffsetsTopic, Partition: 0}}, m.SortedPartitions())
	_, _, err = n.endTxn(ctx, "tx", pid, epoch, true, txn.V2)
	require.NoError(t, err)
	awaitTxnState(t, n, "tx", txn.CompleteCommit)
	assert.Equal(t, int64(5), n.CommittedOffsets("g")[TopicPartition{"t", 0}].Offset)
}

// TestJoinTxnWaitsOutAConcurrentTransaction: a partition asks the
// coordinator again while it answers CONCURRENT_TRANSACTIONS (the
// producer's last transaction still writing its markers) or does not know
// the partition yet, rather than answer the produce at once, which a client meets with a
// metadata refresh (five seconds for franz-go); it gives up after the
// wait it is given, or with its context.
func TestJoinTxnWaitsOutAConcurrentTransaction(t *testing.T) {
	calls := 0
	err := whileTransient(t.Context(), time.Minute, func() error {
		if calls++; calls < 3 {
			return kerr.ConcurrentTransactions
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)

	calls = 0
	err = whileTransient(t.Context(), time.Minute, func() error {
		if calls++; calls < 2 {
			return fmt.Errorf("%w: a topic made a moment ago", ErrUnknownTopic)
		}
		return nil
	})
	require.NoError(t, err, "a coordinator whose metadata is behind is asked again")
	assert.Equal(t, 2, calls)

	calls = 0
	err = whileTransient(t.Context(), time.Minute, func() error { calls++; return kerr.ProducerFenced })
	assert.ErrorIs(t, err, kerr.ProducerFenced)
	assert.Equal(t, 1, calls, "any other answer is final")

	err = whileTransient(t.Context(), 0, func() error { return kerr.ConcurrentTransactions })
	assert.ErrorIs(t, err, kerr.ConcurrentTransactions, "no time left")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = whileTransient(ctx, time.Minute, func() error { return kerr.ConcurrentTransactions })
	assert.ErrorIs(t, err, kerr.ConcurrentTransactions, "the context ended")
}

// txnOverKafka opens a node with cfg and a listener, topic "t", a
// connection to it, and transactional ID "tx"'s producer ID and epoch.
func txnOverKafka(t *testing.T, cfg Config) (*Node, *kafka.Conn, int64, int16) {
	t.Helper()
	cfg.Logger, cfg.Listen, cfg.TransactionStatePartitions = discardLogger(), "127.0.0.1:0", 1
	n := newTestNode(t, cfg)
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	conn, err := kafka.Dial(t.Context(), n.Addr().String(), "test")
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	pid, epoch, err := n.initTxnProducer(t.Context(), "tx", time.Minute, -1, -1)
	require.NoError(t, err)
	return n, conn, pid, epoch
}

// TestJoinTxnAnswersARemoteFenceAsAnEpoch: a partition whose producer's
// epoch the coordinator on another node has fenced answers the produce
// INVALID_PRODUCER_EPOCH, as it answers its own fence, not
// INVALID_TXN_STATE: the coordinator's PRODUCER_FENCED comes back by
// code, as ErrProducerFenced. franz-go's kgo TestTxnEtl on three nodes
// met it when a transaction was aborted while its first produce was in
// flight, and its producer failed for good.
func TestJoinTxnAnswersARemoteFenceAsAnEpoch(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx := t.Context()
	createOnAll(t, ctx, nodes, "t", TopicSpec{Partitions: 1, ReplicationFactor: 1})
	leader := nodes[nodes[0].partitionLeader("t", 0)-1]
	id := ""
	for i := 0; id == ""; i++ {
		candidate := "tx-" + strconv.Itoa(i)
		coordinator, err := leader.txnCoordinator(ctx, candidate)
		require.NoError(t, err)
		if coordinator != leader.nodeID() {
			id = candidate
		}
	}
	pid, old, err := leader.initTxnProducerAt(ctx, id, time.Minute, -1, -1)
	require.NoError(t, err)
	_, _, err = leader.initTxnProducerAt(ctx, id, time.Minute, pid, old) // a newer instance
	require.NoError(t, err)
	conn, err := kafka.Dial(ctx, leader.Addr().String(), "test")
	require.NoError(t, err)
	defer conn.Close()
	assert.Equal(t, kerr.InvalidProducerEpoch.Code, sendTxnBatch(t, conn, leader, id, pid, old, 0, 12))
}
