package kafka_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
)

// TestListOffsetsVersion0: Burrow and other old tools send version 0,
// which answers with a list of offsets.
func TestListOffsetsVersion0(t *testing.T) {
	n := openNode(t, creek.Config{})
	produceBig(t, n, 3, 10)
	w := dial(t, n.Addr())
	for i, tc := range []struct {
		timestamp int64
		max       int32
		want      []int64
	}{{-1, 1, []int64{3}}, {-2, 1, []int64{0}}, {-1, 0, nil}} {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "big"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.MaxNumOffsets = tc.timestamp, tc.max
		rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
		req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
		w.send(req, 0, int32(i))
		resp := kmsg.NewPtrListOffsetsResponse()
		require.Equal(t, int32(i), w.receive(resp, 0))
		p := resp.Topics[0].Partitions[0]
		assert.Zero(t, p.ErrorCode)
		assert.Equal(t, tc.want, p.OldStyleOffsets, "timestamp %d, at most %d", tc.timestamp, tc.max)
	}
}

// TestAlterConfigsReplacesATopicsConfigs: AlterConfigs (API 33), which
// sarama and older librdkafka send, sets exactly the configs given; one
// set before and not given goes back to its default. Broker configs are
// read-only.
func TestAlterConfigsReplacesATopicsConfigs(t *testing.T) {
	n := openNode(t, creek.Config{})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{Configs: map[string]string{"segment.bytes": "1048576"}}))
	w := dial(t, n.Addr())
	req := kmsg.NewPtrAlterConfigsRequest()
	topic := kmsg.NewAlterConfigsRequestResource()
	topic.ResourceType, topic.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
	retention := "3600000"
	topic.Configs = []kmsg.AlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: &retention}}
	broker := kmsg.NewAlterConfigsRequestResource()
	broker.ResourceType, broker.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
	broker.Configs = []kmsg.AlterConfigsRequestResourceConfig{{Name: "log.retention.ms", Value: &retention}}
	req.Resources = []kmsg.AlterConfigsRequestResource{topic, broker}
	w.send(req, 1, 1)
	resp := kmsg.NewPtrAlterConfigsResponse()
	require.Equal(t, int32(1), w.receive(resp, 1))
	require.Len(t, resp.Resources, 2)
	assert.Zero(t, resp.Resources[0].ErrorCode)
	assert.Equal(t, int16(42), resp.Resources[1].ErrorCode, "INVALID_REQUEST")

	info, err := n.DescribeTopic("t")
	require.NoError(t, err)
	assert.Equal(t, "3600000", info.Configs["retention.ms"])
	assert.Equal(t, "1073741824", info.Configs["segment.bytes"], "back to the default")
}

// TestDescribeBrokerConfigs: a broker's configs are the node's settings
// under Kafka's names, read-only.
func TestDescribeBrokerConfigs(t *testing.T) {
	n := openNode(t, creek.Config{TopicDefaults: map[string]string{"retention.ms": "1000"}, AutoCreateTopics: true})
	w := dial(t, n.Addr())
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
	req.Resources = []kmsg.DescribeConfigsRequestResource{res}
	w.send(req, 4, 1)
	resp := kmsg.NewPtrDescribeConfigsResponse()
	require.Equal(t, int32(1), w.receive(resp, 4))
	got := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		got[c.Name] = *c.Value
		assert.True(t, c.ReadOnly, c.Name)
		assert.Equal(t, kmsg.ConfigSourceStaticBrokerConfig, c.Source, c.Name)
	}
	assert.Equal(t, "1000", got["log.retention.ms"])
	assert.Equal(t, "true", got["auto.create.topics.enable"])
	assert.Equal(t, "104857600", got["socket.request.max.bytes"])
	assert.Equal(t, "0", got["node.id"])
}
