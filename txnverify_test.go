package creek

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txn"
)

// TestTxnVerifiesAPartitionsFirstBatch: a transactional batch that
// begins its transaction in a partition is appended only if the
// coordinator has the partition in the producer's ongoing transaction,
// so one arriving late, after its transaction was aborted, cannot leave
// a transaction open that nobody will end (the last stable offset would
// stay behind it for good).
func TestTxnVerifiesAPartitionsFirstBatch(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger(), Listen: "127.0.0.1:0", TransactionStatePartitions: 1})
	ctx := t.Context()
	require.NoError(t, n.CreateTopic(ctx, "t", TopicSpec{}))
	conn, err := kafka.Dial(ctx, n.Addr().String(), "test")
	require.NoError(t, err)
	defer conn.Close()
	pid, epoch, err := n.initTxnProducer(ctx, "tx", time.Minute, -1, -1)
	require.NoError(t, err)
	seq := int32(0)
	produce := func() int16 {
		t.Helper()
		b, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
			Transactional: true}, batch.Record{Value: []byte("v")})
		require.NoError(t, err)
		req := kmsg.NewPtrProduceRequest()
		id := "tx"
		req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic, rt.TopicID = "t", n.topicID("t") // by name up to v12, by ID from v13
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = b
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := conn.Request(ctx, req)
		require.NoError(t, err)
		code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
		if code == 0 {
			seq++
		}
		return code
	}

	assert.Equal(t, kerr.InvalidTxnState.Code, produce(), "the partition is not in a transaction yet")
	_, err = n.addPartitionsToTxn(ctx, "tx", pid, epoch, []TopicPartition{{"t", 0}})
	require.NoError(t, err)
	assert.Zero(t, produce())
	assert.Zero(t, produce(), "the transaction is open in the partition: no need to ask again")
	require.NoError(t, n.endTxn(ctx, "tx", pid, epoch, false))
	awaitTxnState(t, n, "tx", txn.CompleteAbort)

	assert.Equal(t, kerr.InvalidTxnState.Code, produce(), "a late batch of the aborted transaction")
	p, err := n.partition("t", 0)
	require.NoError(t, err)
	p.mu.RLock()
	defer p.mu.RUnlock()
	assert.Equal(t, p.log.EndOffset(), p.lastStableLocked(), "no transaction is left open")
}
