package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/txnlog"
)

// describeProducersRequest asks for the producers of partitions of
// topic, over the node's Kafka listener, and returns the answer for each.
func describeProducersRequest(t *testing.T, n *Node, topic string, partitions ...int32) []kmsg.DescribeProducersResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	resp := groupRequest[*kmsg.DescribeProducersResponse](t, t.Context(), n, req)
	require.Len(t, resp.Topics, 1)
	require.Equal(t, topic, resp.Topics[0].Topic)
	require.Len(t, resp.Topics[0].Partitions, len(partitions))
	return resp.Topics[0].Partitions
}

// TestDescribeProducers: DescribeProducers, embedded and over Kafka, lists
// an idempotent producer with its epoch and last sequence, and a
// transactional one with the first offset of its open transaction until
// a marker ends it, then the marker's coordinator epoch; unknown
// partitions answer UNKNOWN_TOPIC_OR_PARTITION.
func TestDescribeProducers(t *testing.T) {
	n, p := txnTopic(t, Config{Listen: "127.0.0.1:0"})
	ctx := t.Context()
	before := p.now().UnixMilli()
	for _, b := range [][]byte{
		idempotentBatch(t, 7, 2, 0, 3), // 0-2
		idempotentBatch(t, 7, 2, 3, 2), // 3-4: 7's last sequence is 4
		txnBatch(t, 8, 1, 0, 2),        // 5-6: 8's transaction begins at 5
	} {
		_, err := n.ProduceBatch(ctx, "t", 0, b)
		require.NoError(t, err)
	}
	after := p.now().UnixMilli()

	got, err := n.DescribeProducers("t", 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, s := range got {
		assert.GreaterOrEqual(t, s.LastTimestamp, before)
		assert.LessOrEqual(t, s.LastTimestamp, after)
	}
	assert.Equal(t, ProducerState{ProducerID: 7, ProducerEpoch: 2, LastSequence: 4, LastTimestamp: got[0].LastTimestamp,
		CoordinatorEpoch: -1, CurrentTxnStartOffset: -1}, got[0])
	assert.Equal(t, ProducerState{ProducerID: 8, ProducerEpoch: 1, LastSequence: 1, LastTimestamp: got[1].LastTimestamp,
		CoordinatorEpoch: -1, CurrentTxnStartOffset: 5}, got[1])

	wire := describeProducersRequest(t, n, "t", 0, 1)
	require.Zero(t, wire[0].ErrorCode)
	require.Len(t, wire[0].ActiveProducers, 2)
	for i, ap := range wire[0].ActiveProducers {
		assert.Equal(t, [6]int64{got[i].ProducerID, int64(got[i].ProducerEpoch), int64(got[i].LastSequence),
			got[i].LastTimestamp, int64(got[i].CoordinatorEpoch), got[i].CurrentTxnStartOffset},
			[6]int64{ap.ProducerID, int64(ap.ProducerEpoch), int64(ap.LastSequence), ap.LastTimestamp,
				int64(ap.CoordinatorEpoch), ap.CurrentTxnStartOffset})
	}
	assert.Equal(t, kerr.UnknownTopicOrPartition.Code, wire[1].ErrorCode, "t has one partition")
	assert.Equal(t, kerr.UnknownTopicOrPartition.Code, describeProducersRequest(t, n, "nope", 0)[0].ErrorCode)

	require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: 8, Epoch: 1, Commit: true, CoordinatorEpoch: 3}))
	got, err = n.DescribeProducers("t", 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, int64(-1), got[1].CurrentTxnStartOffset, "the marker ended 8's transaction")
	assert.Equal(t, int32(3), got[1].CoordinatorEpoch, "its coordinator's epoch")
	assert.Equal(t, int32(-1), got[0].CoordinatorEpoch, "7 never ended a transaction")
	assert.Equal(t, int32(1), got[1].LastSequence, "its sequences go on into its next transaction")
}
