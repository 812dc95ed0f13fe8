package hostile

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ProduceVersion is the Produce version raw produces use (RecordBatch v2,
// topics by name, not flexible).
const ProduceVersion = 7

// RequestTimeout bounds one raw request's round trip where the case does
// not say otherwise.
const RequestTimeout = 30 * time.Second

// CreateTopic creates topic with partitions partitions, replication
// factor 1 and configs, and returns the topic's error code.
func CreateTopic(c *RawConn, topic string, partitions int32, configs map[string]string) (int16, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(4)
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	resp, err := c.RoundTrip(req, RequestTimeout)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.(*kmsg.CreateTopicsResponse).Topics {
		if t.Topic == topic {
			return t.ErrorCode, nil
		}
	}
	return 0, fmt.Errorf("CreateTopics response has no %q", topic)
}

// NewProduce is a Produce request of records for topic's partition.
func NewProduce(topic string, partition int32, acks int16, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(ProduceVersion)
	req.Acks, req.TimeoutMillis = acks, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	return req
}

// ProduceResult is one partition's answer to a produce.
type ProduceResult struct {
	ErrorCode    int16
	ErrorMessage string
	BaseOffset   int64
}

// Produce sends records (one or more encoded batches) to topic's
// partition with acks and returns that partition's answer.
func Produce(c *RawConn, topic string, partition int32, acks int16, records []byte, timeout time.Duration) (ProduceResult, error) {
	resp, err := c.RoundTrip(NewProduce(topic, partition, acks, records), timeout)
	if err != nil {
		return ProduceResult{}, err
	}
	for _, t := range resp.(*kmsg.ProduceResponse).Topics {
		for _, p := range t.Partitions {
			if t.Topic == topic && p.Partition == partition {
				r := ProduceResult{ErrorCode: p.ErrorCode, BaseOffset: p.BaseOffset}
				if p.ErrorMessage != nil {
					r.ErrorMessage = *p.ErrorMessage
				}
				return r, nil
			}
		}
	}
	return ProduceResult{}, fmt.Errorf("produce response has no %s-%d", topic, partition)
}

// LatestOffset is topic's partition's log end offset (ListOffsets latest,
// read uncommitted).
func LatestOffset(c *RawConn, topic string, partition int32) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(4)
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = partition, -1, -1
	rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
	req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
	resp, err := c.RoundTrip(req, RequestTimeout)
	if err != nil {
		return 0, err
	}
	for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
		for _, p := range t.Partitions {
			if t.Topic == topic && p.Partition == partition {
				if p.ErrorCode != 0 {
					return 0, fmt.Errorf("ListOffsets %s-%d: error code %d", topic, partition, p.ErrorCode)
				}
				return p.Offset, nil
			}
		}
	}
	return 0, fmt.Errorf("ListOffsets response has no %s-%d", topic, partition)
}

// CountTopics asks for every topic's metadata and returns how many there
// are.
func CountTopics(c *RawConn, timeout time.Duration) (int, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(4)
	req.Topics = nil // all
	resp, err := c.RoundTrip(req, timeout)
	if err != nil {
		return 0, err
	}
	return len(resp.(*kmsg.MetadataResponse).Topics), nil
}
