package kafka_test

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/batch"
)

// TestInvalidCountsAndAcksAreRefused: what Kafka refuses, creek refuses
// with Kafka's codes, and stores nothing: CreateTopics with a partition
// count or replication factor of 0 or below -1, Produce with acks other
// than 0, 1 and -1, a batch whose offsets are not whole (INVALID_RECORD).
// Probes found them accepted.
func TestInvalidCountsAndAcksAreRefused(t *testing.T) {
	n := openNode(t, creek.Config{})
	w := dial(t, n.Addr())
	for i, tc := range []struct {
		partitions  int32
		replication int16
		code        int16
	}{
		{-5, -1, 37}, {0, -1, 37}, {3, 0, 38}, {3, -3, 38}, {-1, -1, 0},
	} {
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "t"+string(rune('a'+i)), tc.partitions, tc.replication
		req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
		w.send(req, 5, int32(i))
		resp := kmsg.NewPtrCreateTopicsResponse()
		w.receive(resp, 5)
		require.Len(t, resp.Topics, 1)
		assert.Equal(t, tc.code, resp.Topics[0].ErrorCode, "partitions %d, replication factor %d", tc.partitions, tc.replication)
	}
	assert.Len(t, n.Topics(), 1, "only the valid one was created")

	records, err := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte("v")})
	require.NoError(t, err)
	for _, acks := range []int16{5, -2} {
		req := kmsg.NewPtrProduceRequest()
		req.Acks = acks
		req.Topics = []kmsg.ProduceRequestTopic{{Topic: "te", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: records}}}}
		w.send(req, 9, 100)
		resp := kmsg.NewPtrProduceResponse()
		w.receive(resp, 9)
		require.Len(t, resp.Topics, 1)
		assert.Equal(t, int16(21), resp.Topics[0].Partitions[0].ErrorCode, "INVALID_REQUIRED_ACKS for acks %d", acks)
	}
	lying := append([]byte(nil), records...) // one record claiming two billion offsets
	binary.BigEndian.PutUint32(lying[23:], 1<<31-1)
	binary.BigEndian.PutUint32(lying[17:], crc32.Checksum(lying[21:], crc32.MakeTable(crc32.Castagnoli)))
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 1
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "te", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: lying}}}}
	w.send(req, 9, 101)
	resp := kmsg.NewPtrProduceResponse()
	w.receive(resp, 9)
	assert.Equal(t, int16(87), resp.Topics[0].Partitions[0].ErrorCode, "INVALID_RECORD, which clients do not retry")

	stored, err := n.FetchBatches(t.Context(), nil, "te", 0, 0, creek.FetchOptions{MaxBytes: 1 << 20})
	require.NoError(t, err)
	assert.Empty(t, stored, "nothing stored")
}
